"""SURT keys: the canonical, sortable form of a URL that CDXJ lines start with.

pywb looks captures up by ``surt.surt(url)`` from the ``surt`` package, so an
index it can read must use the very same keys. That package is AGPL-3.0 (and
``cdxj-indexer`` imports it), which this Apache-2.0 project does not import;
this module computes the same keys, written from the observed behaviour of
``surt.surt`` with its default options (IA canonicalization), and
``tests/archive/index/test_surt.py`` compares the two, run as separate
processes, on every URL of the fixture web and a list of awkward ones.

``http://www.Example.com:80/a/./b/?B=2&a=1#top`` becomes
``com,example)/a/b?a=1&b=2``: the host lower-cased, without ``www.``, its
labels reversed; default port, user info and fragment dropped; the path with
dot segments resolved and no trailing slash; the query with well-known
session ids removed and its parameters sorted; percent-escapes decoded, then
only spaces, control and non-ASCII bytes, ``#`` and ``%`` escaped again; all
lower-cased.

A URL whose port is out of range raises :class:`~archive.urls.UnparseableUrl`;
the index only ever asks for the key of a URL :func:`archive.urls.split_url`
accepted.
"""

from __future__ import annotations

import re

from archive.urls import UnparseableUrl

__all__ = ["surt"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE_HEX = re.compile(rb"%([0-9A-Fa-f]{2})")
_WWW = re.compile(r"^www\d*\.(?=.)")
_DIGITS_HOST = re.compile(r"^\d+(?:\.\d+){0,3}$")
#: Query session ids, matched case-insensitively on the whole query, in this order.
_QUERY_SESSION_IDS = [
    re.compile(rf"^(.*)(?:{pattern})(?:&(.*))?$", re.IGNORECASE)
    for pattern in (
        r"jsessionid=[0-9a-z]{32}",
        r"phpsessid=[0-9a-z]{32}",
        r"sid=[0-9a-z]{32}",
        r"aspsessionid[a-z]{8}=[a-z]{24}",
        r"cfid=[^&]+&cftoken=[^&]+",
    )
]
#: ASP.NET cookieless session segments such as ``/(S(xxxxxxxxxxxxxxxxxxxxxxxx))/page.aspx``.
_PATH_SESSION_ID = re.compile(r"^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^?]+\.aspx.*)$", re.IGNORECASE)


def surt(url: str) -> str:
    """The SURT key of ``url`` (``dns:``, ``urn:`` and ``filedesc://`` names are returned as they are);
    :class:`~archive.urls.UnparseableUrl` for a port out of range or text that is not Unicode."""
    try:
        return _key(url)
    except ValueError as e:  # UnicodeError included: a lone surrogate
        raise UnparseableUrl(url, e.reason if isinstance(e, UnparseableUrl) else str(e)) from None


def _key(url: str) -> str:
    url = url.strip().replace("\t", "").replace("\r", "").replace("\n", "")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme == "filedesc":
        return url
    scheme = scheme.lower()
    rest = rest.split("#", 1)[0]
    authority_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, rest = rest[:authority_end], rest[authority_end:]
    path, has_query, query = rest.partition("?")
    host, port = _host_and_port(authority.rpartition("@")[2])
    if port is not None and port != _DEFAULT_PORTS.get(scheme) and port != 0:
        host += f":{port}"
    key = host + ")" + _path(path)
    query = _query(query) if has_query else ""
    return (key + "?" + query if query else key).lower()


def _host_and_port(hostport: str) -> tuple[str, int | None]:
    if hostport.startswith("["):  # IPv6 literal: kept as written, without its brackets
        host, _, after = hostport[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
        return ",".join(reversed(host.lower().split("."))), _port(port_text)
    host, _, port_text = hostport.partition(":")
    host = _unescape(host.encode("utf-8")).decode("utf-8", "replace")
    host = re.sub(r"\.{2,}", ".", host.strip(".")).lower()
    dotted = _ipv4(host)
    if dotted is None:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass
        host = _WWW.sub("", host)
    else:
        host = dotted
    host = _escape(host.encode("utf-8")).decode("ascii")
    return ",".join(reversed(host.split("."))), _port(port_text)


def _port(text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 65535:
        raise UnparseableUrl(text, "port out of range 0-65535")
    return int(text)


def _ipv4(host: str) -> str | None:
    """The dotted quad of a host written as an IPv4 address in any of inet_aton's decimal forms."""
    if not _DIGITS_HOST.match(host):
        return None
    parts = [int(p) for p in host.split(".")]
    if len(parts) == 1:
        value = parts[0] % 2**32
    else:
        last_bits = 8 * (5 - len(parts))
        if any(p > 255 for p in parts[:-1]) or parts[-1] >= 2**last_bits:
            return None
        value = parts[-1]
        for i, p in enumerate(parts[:-1]):
            value |= p << (24 - 8 * i)
    return ".".join(str((value >> shift) & 255) for shift in (24, 16, 8, 0))


def _path(path: str) -> str:
    raw = _unescape(path.encode("utf-8"))
    kept: list[bytes] = []
    for segment in raw.split(b"/")[1:]:
        if segment == b".":
            continue
        if segment == b"..":
            if kept and kept[-1] != b"..":
                kept.pop()
            else:
                kept.append(segment)
            continue
        kept.append(segment)
    normal = re.sub(rb"/{2,}", b"/", b"/" + b"/".join(kept))
    if len(normal) > 1:
        normal = normal.rstrip(b"/") or b"/"
    text = _escape(normal).decode("ascii")
    if match := _PATH_SESSION_ID.match(text):
        text = match.group(1) + match.group(3)
    return text


def _query(query: str) -> str:
    text = _escape(_unescape(query.encode("utf-8"))).decode("ascii").lower()
    for pattern in _QUERY_SESSION_IDS:
        if match := pattern.match(text):
            text = match.group(1) + (match.group(2) or "")
    return "&".join(sorted(text.split("&"), key=_param_order)) if text else ""


def _param_order(param: str) -> tuple[str, bool, str]:
    """By name; a bare name before ``name=``; then by value."""
    name, equals, value = param.partition("=")
    return name, bool(equals), value


def _unescape(raw: bytes) -> bytes:
    """Decode %XX escapes until none are left (``%2541`` is ``A``)."""
    while True:
        decoded = _ESCAPE_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
        if decoded == raw:
            return raw
        raw = decoded


def _escape(raw: bytes) -> bytes:
    """Escape bytes that cannot stand in a key: space and controls, non-ASCII, ``#`` and ``%``."""
    return b"".join(b"%%%02X" % b if b <= 0x20 or b >= 0x7F or b in b"#%" else bytes([b]) for b in raw)
