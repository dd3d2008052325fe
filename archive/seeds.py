"""Seed lists: which outlets to crawl and where their articles are listed.

A seed list is a TOML file with one ``[[outlet]]`` table per outlet::

    [[outlet]]
    name = "Common Dreams"
    homepage = "https://www.commondreams.org/"
    allowed_domains = ["commondreams.org"]      # a domain allows its subdomains
    start_urls = ["https://www.commondreams.org/news"]   # front and section pages
    feeds = ["https://www.commondreams.org/rss.xml"]     # RSS or Atom
    sitemaps = ["https://www.commondreams.org/sitemap.xml"]  # sitemap, index or news sitemap
    article_patterns = ['^https://www\\.commondreams\\.org/news/\\d{4}/']  # re.search on URLs
    follow_patterns = []   # further section pages worth following from start pages

Everything is checked before a crawl starts, and a mistake is reported with
the file and the field (``seeds/x.toml: outlet[2].feeds[0]: ...``), because a
typo found after an hour of crawling costs the hour.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.configfile import ConfigFileError, read_toml

_LIST_FIELDS = ("start_urls", "feeds", "sitemaps")
#: How a seed URL is read (sitemap, feed, or section page), in the order an outlet's seeds are queued.
SEED_KINDS = ("sitemap", "feed", "section")
_KNOWN_FIELDS = {
    "name",
    "homepage",
    "allowed_domains",
    "article_patterns",
    "follow_patterns",
    *_LIST_FIELDS,
}


class SeedError(ConfigFileError):
    """A seed list that cannot be used, with the file and field at fault."""

    kind = "seed file"


@dataclass(frozen=True)
class Outlet:
    """One news outlet and the places its articles are listed."""

    name: str
    allowed_domains: tuple[str, ...]
    article_patterns: tuple[re.Pattern[str], ...]
    homepage: str | None = None
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    follow_patterns: tuple[re.Pattern[str], ...] = ()

    def owns(self, url: str) -> bool:
        """Whether the URL's host is one of this outlet's domains or their subdomains."""
        return self.owns_host(urlsplit(url).hostname or "")

    def owns_host(self, host: str) -> bool:
        return host_in_domains(host, self.allowed_domains)

    def is_article(self, url: str) -> bool:
        return self.owns(url) and any(p.search(url) for p in self.article_patterns)

    def is_section(self, url: str) -> bool:
        return self.owns(url) and any(p.search(url) for p in self.follow_patterns)

    def seeds(self) -> Iterator[tuple[str, str]]:
        """The outlet's seed URLs as (kind, URL), discovery documents first (see ``SEED_KINDS``)."""
        for kind, urls in zip(SEED_KINDS, (self.sitemaps, self.feeds, self.start_urls), strict=True):
            for url in urls:
                yield kind, url

    def describe(self) -> dict[str, Any]:
        """The outlet as plain data, as the archive records it in each WARC's warcinfo."""
        return {
            "name": self.name,
            "homepage": self.homepage,
            "allowed_domains": list(self.allowed_domains),
        }


@dataclass(frozen=True)
class SeedList:
    """A validated seed file."""

    path: Path
    outlets: tuple[Outlet, ...]

    @property
    def allowed_domains(self) -> list[str]:
        return sorted({d for o in self.outlets for d in o.allowed_domains})


def host_in_domains(host: str, domains: tuple[str, ...] | list[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def load_seeds(path: str | os.PathLike[str]) -> SeedList:
    """Read and validate a seed list; raise :class:`SeedError` naming file and field."""
    path = Path(path)
    data = read_toml(path, SeedError)
    unknown = set(data) - {"outlet"}
    if unknown:
        raise SeedError(path, sorted(unknown)[0], "unknown top-level key (expected [[outlet]] tables)")
    tables = data.get("outlet")
    if not isinstance(tables, list) or not tables:
        raise SeedError(path, "outlet", "no [[outlet]] tables")
    outlets = tuple(_outlet(path, f"outlet[{i}]", t) for i, t in enumerate(tables))
    names = [o.name for o in outlets]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise SeedError(path, f"outlet[{i}].name", f"duplicate outlet name {name!r}")
    return SeedList(path=path, outlets=outlets)


def _outlet(path: Path, where: str, table: Any) -> Outlet:
    if not isinstance(table, dict):
        raise SeedError(path, where, "must be a table")
    unknown = set(table) - _KNOWN_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        raise SeedError(path, f"{where}.{field}", f"unknown field (known: {', '.join(sorted(_KNOWN_FIELDS))})")
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SeedError(path, f"{where}.name", "required, a non-empty string")
    domains = tuple(d.lower() for d in _strings(path, f"{where}.allowed_domains", table, required=True))
    for i, d in enumerate(domains):
        if "/" in d or ":" in d or not re.fullmatch(r"[a-z0-9.-]+", d):
            raise SeedError(path, f"{where}.allowed_domains[{i}]", f"not a bare domain name: {d!r}")
    urls: dict[str, tuple[str, ...]] = {}
    for field in _LIST_FIELDS:
        urls[field] = _strings(path, f"{where}.{field}", table)
        for i, url in enumerate(urls[field]):
            _check_url(path, f"{where}.{field}[{i}]", url, domains)
    if not any(urls.values()):
        raise SeedError(path, f"{where}.start_urls", "an outlet needs start_urls, feeds or sitemaps")
    homepage = table.get("homepage")
    if homepage is not None:
        if not isinstance(homepage, str):
            raise SeedError(path, f"{where}.homepage", "must be a string")
        _check_url(path, f"{where}.homepage", homepage, domains)
    return Outlet(
        name=name.strip(),
        homepage=homepage,
        allowed_domains=domains,
        article_patterns=_patterns(path, f"{where}.article_patterns", table, required=True),
        follow_patterns=_patterns(path, f"{where}.follow_patterns", table),
        **urls,
    )


def _strings(path: Path, field: str, table: dict[str, Any], required: bool = False) -> tuple[str, ...]:
    key = field.rsplit(".", 1)[1]
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SeedError(path, field, "must be a list of strings")
    if required and not value:
        raise SeedError(path, field, "required, a non-empty list")
    return tuple(value)


def _patterns(path: Path, field: str, table: dict[str, Any], required: bool = False) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for i, source in enumerate(_strings(path, field, table, required)):
        try:
            compiled.append(re.compile(source))
        except re.error as e:
            raise SeedError(path, f"{field}[{i}]", f"not a valid regular expression: {e}") from None
    return tuple(compiled)


def _check_url(path: Path, field: str, url: str, domains: tuple[str, ...]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SeedError(path, field, f"not an absolute http(s) URL: {url!r}")
    if not host_in_domains(parts.hostname, domains):
        raise SeedError(path, field, f"host {parts.hostname!r} is outside allowed_domains {list(domains)}")
