"""Finding an outlet's sitemaps, feeds and section pages from its home page and robots.txt.

A seed entry may give only a home page. From it, and from the site's
robots.txt, this finds where the outlet lists its articles: sitemaps
(``Sitemap:`` lines, read by Scrapy's own :func:`~scrapy.utils.sitemap.sitemap_urls_from_robots`),
feeds (``<link rel="alternate">`` of a feed media type, the types trafilatura's
feed finder knows; comment feeds left out as it leaves them out), and
section pages (the links of the site's navigation that
:func:`archive.urlshape.classify_url` does not take for articles, tag pages or
anything else). When a site declares no sitemap or no feed, the usual
locations are guessed (:func:`guessed_sitemaps`, :func:`guessed_feeds`) and
each answer sniffed (:func:`listing_kind`), since many sites answer an unknown
path with a page of HTML and status 200.

The functions are pure: the spider fetches (so every discovery fetch is
archived like any other) and hands them what it received. They are bounded
whatever a server sends: a page is parsed only up to :data:`MAX_PAGE_SIZE`
bytes, at most :data:`MAX_LINKS` links are looked at and :data:`MAX_FOUND`
kept, robots.txt is read up to :data:`MAX_ROBOTS_SIZE` (Google's limit), and
every URL goes through :func:`archive.urls.join_url`; the ones it refuses are
returned beside the findings, for the caller to count and log.

A page's *scope* is where its outlet lives: the home page's scheme, host and
directory (``http://www.example.com/herald/`` for two outlets on one domain,
told apart by path). Sections are kept within it; hosts that differ only by
a leading ``www.`` are one site, since a bare domain commonly redirects to it.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import cache
from itertools import islice

from lxml import etree
from scrapy.utils.sitemap import sitemap_urls_from_robots

from archive.urls import UnparseableUrl, WebUrl, join_url, split_url
from archive.urlshape import classify_url

__all__ = [
    "FEED_PATHS",
    "SITEMAP_PATHS",
    "PageFindings",
    "RobotsFindings",
    "guessed_feeds",
    "guessed_sitemaps",
    "in_scope",
    "listing_kind",
    "page_findings",
    "robots_sitemaps",
    "robots_url",
    "site_scope",
]

#: Bytes of a page parsed; the rest is not read (navigation and ``<head>`` come first).
MAX_PAGE_SIZE = 2_000_000
#: ``<a>`` and ``<link>`` elements looked at in one page.
MAX_LINKS = 10_000
#: Feeds, sections, sitemaps or refused URLs kept from one document.
MAX_FOUND = 200
#: Bytes of robots.txt read: what Google reads.
MAX_ROBOTS_SIZE = 500 * 1024
#: How far up from a link its navigation or footer ancestor is looked for.
MAX_ANCESTORS = 64
#: Bytes of a listing (inflated if gzipped) read to tell what it is.
SNIFF_SIZE = 8192

#: Where sitemaps usually are, most common first, tried when robots.txt declares none.
SITEMAP_PATHS = (
    "sitemap.xml",
    "sitemap_index.xml",
    "sitemap-index.xml",
    "news-sitemap.xml",
    "sitemap-news.xml",
    "sitemap_news.xml",
    "wp-sitemap.xml",
    "sitemap.xml.gz",
)
#: Where feeds usually are, most common first, tried when the home page declares none.
FEED_PATHS = (
    "feed/",
    "rss.xml",
    "rss",
    "feed.xml",
    "atom.xml",
    "index.xml",
    "rss/",
    "feeds/posts/default",
)
#: URL kinds (:data:`archive.urlshape.KINDS`) a navigation link may have to be taken for a section.
SECTION_KINDS = frozenset({"section", "taxonomy", "uncertain"})
_FEED_ROOTS = frozenset({"rss", "RDF", "feed"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_NAVIGATION_ROLES = frozenset({"navigation", "menubar", "menu", "banner"})


@dataclass(frozen=True)
class PageFindings:
    """What a home or section page says about where its outlet lists articles."""

    feeds: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    unparseable: tuple[UnparseableUrl, ...] = ()


@dataclass(frozen=True)
class RobotsFindings:
    """The sitemaps a robots.txt declares."""

    sitemaps: tuple[str, ...] = ()
    unparseable: tuple[UnparseableUrl, ...] = ()


def site_scope(homepage: str) -> str:
    """Where an outlet whose home page this is lives: scheme, host, port and the page's directory.

    :class:`archive.urls.UnparseableUrl` if the home page cannot be parsed.
    """
    parts = split_url(homepage)
    directory = parts.path[: parts.path.rfind("/") + 1] or "/"
    return _origin(parts) + directory


def in_scope(url: str, scope: str) -> bool:
    """Whether a URL is on the scope's site (``www.`` aside, http or https) and under its directory."""
    try:
        parts, base = split_url(url), split_url(scope)
    except UnparseableUrl:
        return False
    return (
        parts.scheme in ("http", "https")
        and _site_host(parts.host) == _site_host(base.host)
        and _port(parts) == _port(base)
        and (parts.path or "/").startswith(base.path or "/")
    )


def robots_url(scope: str) -> str:
    """The robots.txt of the scope's host (it is always at the root)."""
    return join_url(scope, "/robots.txt")


def robots_sitemaps(robots: str, body: bytes) -> RobotsFindings:
    """The sitemaps declared by a robots.txt read from ``robots`` (relative ones resolved against it)."""
    found: dict[str, None] = {}
    refused: list[UnparseableUrl] = []
    # Scrapy's reader, without a base URL: it would resolve with urljoin, which raises on a bad URL mid-file.
    for written in sitemap_urls_from_robots(bytes(body[:MAX_ROBOTS_SIZE])):
        try:
            url = join_url(robots, written)
        except UnparseableUrl as e:
            _keep(refused, e)
            continue
        if split_url(url).scheme in ("http", "https"):
            found[url] = None
            if len(found) >= MAX_FOUND:
                break
    return RobotsFindings(tuple(found), tuple(refused))


def guessed_sitemaps(scope: str) -> list[str]:
    """The usual sitemap locations at the host's root, and in the scope's directory if it has one."""
    return _guesses(scope, SITEMAP_PATHS, root_too=True)


def guessed_feeds(scope: str) -> list[str]:
    """The usual feed locations in the scope's directory."""
    return _guesses(scope, FEED_PATHS, root_too=False)


def listing_kind(body: bytes) -> str | None:
    """``"sitemap"``, ``"feed"`` (RSS, RDF, Atom, JSON Feed) or None, from the first bytes of an answer.

    For guessed locations: a server that answers every path with its home
    page must not make that page a feed. Gzip is inflated up to
    :data:`SNIFF_SIZE` bytes.
    """
    head = bytes(body[:SNIFF_SIZE])
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body[: SNIFF_SIZE * 4], SNIFF_SIZE)
        except zlib.error:
            return None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return "feed" if b"jsonfeed.org/version/" in text else None
    parser = etree.XMLPullParser(
        events=("start",), recover=True, resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True
    )
    try:
        parser.feed(text)
        root = next((element.tag for _, element in parser.read_events()), None)
    except etree.XMLSyntaxError:
        return None
    name = root.rpartition("}")[2] if isinstance(root, str) else ""
    return "feed" if name in _FEED_ROOTS else "sitemap" if name in _SITEMAP_ROOTS else None


def page_findings(url: str, html: str | bytes, scope: str) -> PageFindings:
    """The feeds a page declares (or, declaring none, links to) and its navigation's section pages.

    ``url`` is the page's URL after redirects; ``scope`` the outlet's
    (:func:`site_scope` of its home page). Feeds may be on any host (a feed
    proxy is common); sections are within the scope, and neither the page
    itself nor the scope's home page.
    """
    root = _parse(html)
    if root is None:
        return PageFindings()
    refused: list[UnparseableUrl] = []
    base = _base(root, url)
    declared: dict[str, None] = {}
    linked: dict[str, None] = {}
    sections: dict[str, None] = {}
    home = {_without_fragment(url), scope}
    for element in islice(root.iter("a", "link"), MAX_LINKS):
        href = element.get("href")
        if not href or not href.strip():
            continue
        is_link = element.tag == "link"
        rel = (element.get("rel") or "").lower().split()
        if is_link and "alternate" not in rel:
            continue
        try:
            target = _without_fragment(join_url(base, href))
        except UnparseableUrl as e:
            _keep(refused, e)
            continue
        if is_link:
            if len(declared) < MAX_FOUND and _declared_feed(target, element.get("type") or ""):
                declared[target] = None
            continue
        if not in_scope(target, scope):
            continue
        kind = classify_url(target).kind
        if kind == "listing" and len(linked) < MAX_FOUND and _linked_feed(target):
            linked[target] = None
        elif kind in SECTION_KINDS and target not in home and len(sections) < MAX_FOUND and _in_navigation(element):
            sections[target] = None
    return PageFindings(tuple(declared or linked), tuple(sections), tuple(refused))


def _parse(html: str | bytes) -> etree._Element | None:
    """The page's tree, from at most :data:`MAX_PAGE_SIZE` bytes (None if there is nothing to parse)."""
    if isinstance(html, str):
        data, encoding = html[:MAX_PAGE_SIZE].encode("utf-8", "replace"), "utf-8"
    else:
        data, encoding = bytes(html[:MAX_PAGE_SIZE]), None
    parser = etree.HTMLParser(
        encoding=encoding, recover=True, no_network=True, remove_comments=True, remove_pis=True, huge_tree=False
    )
    try:
        return etree.fromstring(data, parser) if data.strip() else None
    except (etree.XMLSyntaxError, ValueError):
        return None


def _base(root: etree._Element, url: str) -> str:
    """The URL links resolve against: the first ``<base href>``, if it can be read, else the page's."""
    for element in islice(root.iter("base"), 1):
        href = element.get("href")
        if href:
            try:
                return join_url(url, href)
            except UnparseableUrl:
                break
    return url


@cache
def _feed_types() -> tuple[frozenset[str], frozenset[str], re.Pattern[str]]:
    """Trafilatura's feed media types, the specific ones among them, and its comment-feed pattern.

    Read on first use, not at import: trafilatura is a large import, and a recheck crawl, which loads
    this module with the news spider, never discovers anything.

    The specific types name a feed whatever the URL; the generic ones (``application/json``,
    ``text/xml``…) name a feed only at a feed's URL, because WordPress declares its REST API
    (``/wp-json/wp/v2/posts/123``) as ``application/json`` on every page.
    """
    from trafilatura.feeds import BLACKLIST, FEED_TYPES

    specific = frozenset(t for t in FEED_TYPES if any(word in t for word in ("rss", "atom", "rdf", "feed")))
    return frozenset(FEED_TYPES), specific, BLACKLIST


def _declared_feed(url: str, media_type: str) -> bool:
    feed_types, specific_feed_types, comment_feed = _feed_types()
    media_type = media_type.split(";")[0].strip().lower()
    if media_type not in feed_types or comment_feed.search(url) or split_url(url).scheme not in ("http", "https"):
        return False
    return media_type in specific_feed_types or classify_url(url).kind == "listing"


def _linked_feed(url: str) -> bool:
    """A link on the site that leads to a feed (not a sitemap, not comments)."""
    return "sitemap" not in url.lower() and not _feed_types()[2].search(url)


def _in_navigation(element: etree._Element) -> bool:
    """Whether a link is in the site's navigation: a ``nav``, ``header``, navigation role or menu,
    not inside an article (teasers have headers too) nor a footer or pagination."""
    navigation = False
    for ancestor in islice(element.iterancestors(), MAX_ANCESTORS):
        tag = ancestor.tag if isinstance(ancestor.tag, str) else ""
        role = (ancestor.get("role") or "").lower()
        names = f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}".lower()
        if tag in ("article", "footer") or role == "contentinfo" or "pagination" in names or "pager" in names:
            return False
        if tag in ("nav", "header") or role in _NAVIGATION_ROLES or "menu" in names or "navigation" in names:
            navigation = True
    return navigation


def _guesses(scope: str, paths: tuple[str, ...], root_too: bool) -> list[str]:
    directories = [scope]
    if root_too and split_url(scope).path not in ("", "/"):
        directories.insert(0, join_url(scope, "/"))
    return [join_url(directory, path) for directory in directories for path in paths]


def _origin(parts: WebUrl) -> str:
    host = f"[{parts.host}]" if ":" in parts.host else parts.host
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port is not None else "")


def _site_host(host: str) -> str:
    return host.removeprefix("www.")


def _port(parts: WebUrl) -> int | None:
    return None if parts.port == {"http": 80, "https": 443}.get(parts.scheme) else parts.port


def _without_fragment(url: str) -> str:
    return url.partition("#")[0]


def _keep(refused: list[UnparseableUrl], error: UnparseableUrl) -> None:
    if len(refused) < MAX_FOUND:
        refused.append(error)
