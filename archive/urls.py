"""The one guarded way to read a URL that came from the web or from a WARC file.

Links, listed URLs, ``Location`` headers, canonical links and
``WARC-Target-URI`` values are written by strangers: ports out of range,
unbalanced IPv6 brackets, control characters, undecodable bytes, URLs of
ten kilobytes. The standard library answers these with a ``ValueError``
from whichever call first looks at the bad part (``urlsplit``, ``.port``,
``urljoin``), so every caller parsing a URL of its own would need its own
guard. Here :func:`split_url` checks a URL once and either returns its
parts or raises :class:`UnparseableUrl`, which says which URL and why;
:func:`join_url` resolves a reference found in a page against the page's
URL the same way. A caller that meets :class:`UnparseableUrl` keeps what
it received as it was (the WARC record holds it) and goes on without that
URL.

A URL is refused when it is longer than :data:`MAX_URL_LENGTH` bytes in
UTF-8 (Scrapy's ``URLLENGTH_LIMIT`` and Heritrix's default; it also keeps
every URL within what PostgreSQL's unique index on ``urls.url`` can hold),
holds a control character or a lone surrogate (an undecodable byte), has no
scheme, is an ``http(s)`` URL without a host or with a host longer than DNS
allows, or has a port or brackets ``urlsplit`` cannot read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from archive.errors import NewsArchiveError

__all__ = ["MAX_URL_LENGTH", "UnparseableUrl", "WebUrl", "join_url", "shown", "split_url"]

#: The longest URL accepted, in UTF-8 bytes.
MAX_URL_LENGTH = 2083
#: The longest host name DNS allows.
MAX_HOST_LENGTH = 253
#: Schemes whose URLs name a host (``dns:`` and ``urn:`` names, found in other crawlers' WARCs, do not).
HOST_SCHEMES = frozenset({"http", "https", "ftp", "ws", "wss"})
#: How much of a refused URL a message quotes.
SHOWN_LENGTH = 200

#: C0 and C1 control characters (NEL, U+0085, is one that ``str.strip`` also takes for a space).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: What a browser drops from an ``href`` before resolving it (WHATWG URL: leading and trailing
#: C0 controls and spaces; tabs and newlines anywhere, as in attributes wrapped over lines).
_EDGE = "".join(map(chr, range(0x21)))
_TAB_NEWLINE = re.compile(r"[\t\n\r]")


class UnparseableUrl(NewsArchiveError, ValueError):
    """A URL from the web that cannot be parsed; ``url`` as received, ``reason`` why.

    A ``ValueError`` too, because that is what the standard library raises for one.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"unparseable URL {shown(url)}: {reason}")


@dataclass(frozen=True)
class WebUrl:
    """A parsed URL: ``url`` exactly as given, and its parts (scheme and host lower-cased)."""

    url: str
    scheme: str
    host: str  # without IPv6 brackets; '' for a URL naming no host
    port: int | None
    path: str
    query: str
    fragment: str


def shown(url: str) -> str:
    """The URL for a message: its ``repr``, cut to :data:`SHOWN_LENGTH` characters."""
    if len(url) <= SHOWN_LENGTH:
        return repr(url)
    return f"{url[:SHOWN_LENGTH]!r}… ({len(url):,} characters)"


def split_url(url: str) -> WebUrl:
    """The parts of an absolute URL; :class:`UnparseableUrl` if it is not one this archive can keep."""
    if not isinstance(url, str):
        raise UnparseableUrl(repr(url), f"not text but {type(url).__name__}")
    if len(url) > MAX_URL_LENGTH:
        raise UnparseableUrl(url, f"longer than {MAX_URL_LENGTH:,} bytes")
    try:
        size = len(url.encode("utf-8"))
    except UnicodeEncodeError:
        raise UnparseableUrl(url, "holds bytes that are not UTF-8 (a lone surrogate)") from None
    if size > MAX_URL_LENGTH:
        raise UnparseableUrl(url, f"longer than {MAX_URL_LENGTH:,} bytes")
    if control := _CONTROL.search(url):
        raise UnparseableUrl(url, f"control character {control.group()!r} at position {control.start()}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise UnparseableUrl(url, str(e)) from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise UnparseableUrl(url, "no scheme: not an absolute URL")
    host = parts.hostname or ""
    if scheme in HOST_SCHEMES and not host:
        raise UnparseableUrl(url, "no host")
    if any(character.isspace() for character in host):
        raise UnparseableUrl(url, "a space in the host")
    if len(host) > MAX_HOST_LENGTH:
        raise UnparseableUrl(url, f"host longer than {MAX_HOST_LENGTH} characters")
    return WebUrl(url, scheme, host, port, parts.path, parts.query, parts.fragment)


def join_url(base: str, reference: str) -> str:
    """The absolute URL a reference found at ``base`` (an ``href``, a ``Location``) leads to.

    The reference is first cleaned as a browser cleans it (surrounding spaces
    and controls, inner tabs and newlines). :class:`UnparseableUrl` if either
    URL cannot be parsed, or the result is not a URL :func:`split_url` accepts.
    """
    if not isinstance(reference, str):
        raise UnparseableUrl(repr(reference), f"not text but {type(reference).__name__}")
    if len(reference) > MAX_URL_LENGTH:  # before cleaning: never copy a megabyte-long attribute
        raise UnparseableUrl(reference, f"longer than {MAX_URL_LENGTH:,} bytes")
    cleaned = _TAB_NEWLINE.sub("", reference.strip(_EDGE))
    split_url(base)
    try:
        joined = urljoin(base, cleaned)
    except ValueError as e:
        raise UnparseableUrl(reference, str(e)) from None
    return split_url(joined).url
