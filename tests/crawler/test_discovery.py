"""Discovery of sitemaps, feeds and sections: on markup as sites write it, on hostile input, and on every
discovery outlet fetched over a real socket, from its home page and robots.txt alone."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Iterator
from urllib.error import HTTPError
from urllib.request import ProxyHandler, build_opener

import pytest

from crawler.discovery import (
    FEED_PATHS,
    MAX_FOUND,
    MAX_ROBOTS_SIZE,
    SITEMAP_PATHS,
    guessed_feeds,
    guessed_sitemaps,
    in_scope,
    listing_kind,
    page_findings,
    robots_sitemaps,
    robots_url,
    site_scope,
)
from tests.discoveryweb import OUTLETS, DiscoveryWeb, FixtureOutlet

HOME = "http://www.example.com/"


def page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


# -- robots.txt -------------------------------------------------------------------


def test_robots_sitemaps_resolved_deduplicated_and_refused_ones_reported() -> None:
    body = (
        b"User-agent: *\nDisallow: /admin/\n"
        b"Sitemap: https://www.example.com/sitemap_index.xml\n"
        b"sitemap:/news-sitemap.xml\n"  # any case, relative
        b"  SITEMAP: https://www.example.com/sitemap_index.xml\n"  # again
        b"Sitemap: http://www.example.com:99999/bad.xml\n"
        b"Sitemap: ftp://www.example.com/sitemap.xml\n"
        b"Disallow: /sitemap-in-a-rule.xml\n"
        b"Sitemap: \xff\xfe.xml\n"  # not UTF-8: skipped by Scrapy's reader
    )
    found = robots_sitemaps("http://www.example.com/robots.txt", body)
    assert found.sitemaps == (
        "https://www.example.com/sitemap_index.xml",
        "http://www.example.com/news-sitemap.xml",
    )
    assert [e.url for e in found.unparseable] == ["http://www.example.com:99999/bad.xml"]


def test_robots_read_only_up_to_its_limit_and_its_findings_bounded() -> None:
    padding = b"# " + b"x" * MAX_ROBOTS_SIZE + b"\n"
    late = robots_sitemaps(HOME + "robots.txt", padding + b"Sitemap: /late.xml\n")
    assert late.sitemaps == ()
    many = b"".join(b"Sitemap: /s%d.xml\n" % i for i in range(10 * MAX_FOUND))
    assert len(robots_sitemaps(HOME + "robots.txt", many).sitemaps) == MAX_FOUND


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02" * 1000, b"<html><body>Not found</body></html>"])
def test_robots_without_sitemaps(body: bytes) -> None:
    assert robots_sitemaps(HOME + "robots.txt", body).sitemaps == ()


# -- scope and guesses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("homepage", "scope"),
    [
        ("http://www.example.com", "http://www.example.com/"),
        ("https://www.example.com/index.html", "https://www.example.com/"),
        ("http://example.com/herald/", "http://example.com/herald/"),
        ("http://example.com:8080/herald/front", "http://example.com:8080/herald/"),
        ("http://[::1]:8080/", "http://[::1]:8080/"),
    ],
)
def test_site_scope(homepage: str, scope: str) -> None:
    assert site_scope(homepage) == scope


@pytest.mark.parametrize(
    ("url", "inside"),
    [
        ("http://example.com/herald/politics/", True),
        ("https://www.example.com/herald/", True),  # www. and https aside
        ("http://example.com:80/herald/x", True),
        ("http://example.com/review/", False),
        ("http://example.com/", False),
        ("http://news.example.com/herald/", False),
        ("http://example.com:8080/herald/", False),
        ("mailto:desk@example.com", False),
        ("http://example.com:99999/herald/", False),
    ],
)
def test_in_scope(url: str, inside: bool) -> None:
    assert in_scope(url, "http://www.example.com/herald/") is inside


def test_guesses() -> None:
    assert guessed_sitemaps(HOME) == [HOME + path for path in SITEMAP_PATHS]
    assert guessed_feeds(HOME) == [HOME + path for path in FEED_PATHS]
    scoped = guessed_sitemaps("http://www.example.com/herald/")
    assert scoped[0] == HOME + "sitemap.xml"
    assert "http://www.example.com/herald/sitemap.xml" in scoped
    assert guessed_feeds("http://www.example.com/herald/")[0] == "http://www.example.com/herald/feed/"


# -- telling a listing from a page -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b'<?xml version="1.0"?>\n<rss version="2.0"><channel>', "feed"),
        (b'\xef\xbb\xbf<?xml version="1.0"?><!-- a comment --><feed xmlns="http://www.w3.org/2005/Atom">', "feed"),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">', "feed"),
        (b'{\n "version": "https://jsonfeed.org/version/1.1", "items": []}', "feed"),
        (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url>', "sitemap"),
        (gzip.compress(b'<?xml version="1.0"?><sitemapindex xmlns="x"><sitemap>'), "sitemap"),
        (b"<!DOCTYPE html><html><head><title>Page not found</title>", None),
        (b'{"posts": []}', None),
        (b"", None),
        (b"\x1f\x8bnot gzip at all", None),
        (b"\x00\xff" * 5000, None),
    ],
)
def test_listing_kind(body: bytes, kind: str | None) -> None:
    assert listing_kind(body) == kind


def test_listing_kind_of_a_gzip_bomb_reads_a_few_kilobytes() -> None:
    def bomb(inflated: bytes) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        return compressor.compress(inflated) + compressor.flush()

    early, late = bomb(b"<urlset>" + bytes(100 << 20)), bomb(b" " * (100 << 20) + b"<urlset>")  # 100 MB inflated
    start = time.process_time()
    assert listing_kind(early) == "sitemap"  # its root comes first
    assert listing_kind(late) is None  # its root is past what is read
    assert time.process_time() - start < 0.5


# -- home and section pages ------------------------------------------------------------


def test_declared_feeds_and_what_is_not_one() -> None:
    head = "".join(
        [
            '<link rel="alternate" type="application/rss+xml" title="Feed" href="/feed/">',
            '<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed/">',
            '<link rel="alternate" type="application/atom+xml; charset=utf-8" href="/atom.xml">',
            '<link rel="Alternate" type="application/feed+json" href="/feed.json">',
            '<link rel="alternate" type="application/json" href="/wp-json/wp/v2/posts/12">',  # WordPress REST API
            '<link rel="alternate" type="application/json+oembed" href="/wp-json/oembed/1.0/embed?url=x">',
            '<link rel="alternate" type="text/html" hreflang="fr" href="/fr/">',
            '<link rel="alternate" type="application/json" href="/index.xml">',  # a generic type at a feed's URL
            '<link rel="alternate" type="application/rss+xml" href="http://feeds.feedburner.com/example">',
            '<link rel="stylesheet" type="application/rss+xml" href="/not-alternate.xml">',
            '<link rel="alternate" type="application/rss+xml" href="http://www.example.com:99999/bad">',
        ]
    )
    found = page_findings(HOME, page(head, '<a href="/rss">RSS</a>'), HOME)
    assert found.feeds == (
        HOME + "feed/",
        HOME + "atom.xml",
        HOME + "feed.json",
        HOME + "index.xml",
        "http://feeds.feedburner.com/example",
    )
    assert [e.url for e in found.unparseable] == ["http://www.example.com:99999/bad"]


def test_linked_feeds_only_when_none_is_declared() -> None:
    body = (
        '<footer><a href="/rss">RSS</a> <a href="/sitemap.xml">Sitemap</a> <a href="/comments/feed/">c</a>'
        '<a href="http://other.example.org/feed/">theirs</a></footer>'
    )
    assert page_findings(HOME, page("", body), HOME).feeds == (HOME + "rss",)


def test_sections_are_navigation_links_that_are_not_articles() -> None:
    body = """
    <header><a href="/" rel="home">Example</a>
      <nav class="main-navigation"><ul class="menu">
        <li><a href="/">Home</a></li>
        <li><a href="/politics/">Politics</a></li>
        <li><a href="/category/world/#top">World</a></li>
        <li><a href="/politics/">Politics again</a></li>
        <li><a href="/2019/02/28/hanoi-summit-ends-without-a-deal/">Top story</a></li>
        <li><a href="/feed/">RSS</a></li><li><a href="/search?q=">Search</a></li>
        <li><a href="/subscribe/">Subscribe</a></li><li><a href="/page/2/">More</a></li>
        <li><a href="http://other.example.org/politics/">Partner</a></li>
        <li><a href="http://www.example.com:99999/x">Broken</a></li>
        <li><a href="javascript:void(0)">Menu</a></li>
      </ul></nav>
    </header>
    <div id="mega-menu"><a href="/culture">Culture</a></div>
    <div role="navigation"><a href="https://example.com/opinion">Opinion</a></div>
    <main>
      <article><header><a href="/tag/north-korea/">North Korea</a>
        <h2><a href="/2019/02/27/another-long-story-about-the-summit/">Story</a></h2></header></article>
      <a href="/sports/">Sports, in the text</a>
      <nav class="navigation pagination"><a href="/politics/?page=2">Older</a><a href="/archive/">All</a></nav>
    </main>
    <footer><nav><a href="/about/">About</a><a href="/careers-at-example/">Jobs</a></nav></footer>
    """
    found = page_findings(HOME, page("", body), HOME)
    assert found.sections == (
        HOME + "politics/",
        HOME + "category/world/",
        HOME + "culture",
        "https://example.com/opinion",
    )
    assert [e.url for e in found.unparseable] == ["http://www.example.com:99999/x"]


def test_sections_stay_within_the_scope_and_leave_out_the_page_itself() -> None:
    scope = "http://www.example.com/herald/"
    body = (
        '<nav><a href="/herald/">Herald</a><a href="politics/">Politics</a><a href="/review/">Review</a>'
        '<a href="/">All titles</a><a href="/herald/world/">World</a></nav>'
    )
    found = page_findings(scope + "world/", page("", body), scope)
    assert found.sections == (scope + "world/politics/",)
    found = page_findings(scope, page("", body), scope)
    assert found.sections == (scope + "politics/", scope + "world/")


def test_base_href_is_followed() -> None:
    html = page('<base href="http://www.example.com/news/">', '<nav><a href="world/">World</a></nav>')
    assert page_findings(HOME, html, HOME).sections == (HOME + "news/world/",)


def test_bytes_are_decoded_as_the_page_declares() -> None:
    html = page('<meta charset="windows-1252">', '<nav><a href="/caf\xe9/">Caf\xe9</a></nav>').encode("cp1252")
    assert page_findings(HOME, html, HOME).sections == (HOME + "café/",)


@pytest.mark.parametrize(
    "html", ["", "   ", b"", b"\x00" * 100, "not html at all", '{"json": true}', "<?xml version='1.0'?><rss/>"]
)
def test_nothing_to_find(html: str | bytes) -> None:
    assert page_findings(HOME, html, HOME) == page_findings(HOME, "", HOME)
    assert page_findings(HOME, html, HOME).feeds == page_findings(HOME, html, HOME).sections == ()


def test_hostile_pages_cost_bounded_time() -> None:
    links = "".join(f'<a href="/section-{i}/">s</a>' for i in range(200_000))
    deep = "<div>" * 50_000 + '<nav><a href="/deep/">d</a></nav>' + "</div>" * 50_000
    junk = "".join(f'<a href="http://x.org:{99999 + i}/">j</a>' for i in range(20_000))
    huge = "<nav>" + "<p>" + "x" * 30_000_000 + "</p></nav>"
    for html, most in [(f"<nav>{links}</nav>", MAX_FOUND), (deep, 1), (f"<nav>{junk}</nav>", 0), (huge, 0)]:
        start = time.process_time()
        found = page_findings(HOME, page("", html), HOME)
        assert time.process_time() - start < 3
        assert len(found.sections) <= most
        assert len(found.unparseable) <= MAX_FOUND


# -- the discovery outlets, over a socket ---------------------------------------------------


@pytest.fixture(scope="module")
def web() -> Iterator[DiscoveryWeb]:
    with DiscoveryWeb() as served:
        yield served


def discover(web: DiscoveryWeb, homepage: str) -> dict[str, object]:
    """Discovery as the spider does it, fetching through the proxy with urllib: home page, robots.txt,
    sitemaps named (or else guessed), feeds declared (or else guessed), and the feeds sections declare."""
    opener = build_opener(ProxyHandler({"http": web.url}))

    def fetch(url: str) -> tuple[str, bytes] | None:
        try:
            with opener.open(url, timeout=10) as response:
                return response.geturl(), response.read()
        except HTTPError as error:
            error.close()
            return None

    fetched = fetch(homepage)
    assert fetched is not None
    home, body = fetched
    scope = site_scope(home)
    robots = fetch(robots_url(scope))
    named = robots_sitemaps(robots_url(scope), robots[1] if robots else b"").sitemaps
    sitemaps = [url for url in named if in_scope(url, scope)] or [
        url for url in guessed_sitemaps(scope) if (got := fetch(url)) and listing_kind(got[1]) == "sitemap"
    ]
    found = page_findings(home, body, scope)
    feeds = list(found.feeds) or [
        url for url in guessed_feeds(scope) if (got := fetch(url)) and listing_kind(got[1]) == "feed"
    ]
    section_feeds: dict[str, None] = {}
    for section in found.sections:
        got = fetch(section)
        assert got is not None, section
        section_feeds.update(dict.fromkeys(f for f in page_findings(got[0], got[1], scope).feeds if f not in feeds))
    return {
        "scope": scope,
        "robots_sitemaps": named,
        "sitemaps": tuple(sitemaps),
        "feeds": tuple(feeds),
        "sections": found.sections,
        "section_feeds": tuple(section_feeds),
        "unparseable": found.unparseable,
    }


@pytest.mark.parametrize("outlet", OUTLETS, ids=lambda o: o.name)
def test_discovery_finds_exactly_what_each_outlet_has(web: DiscoveryWeb, outlet: FixtureOutlet) -> None:
    web.requests.clear()
    assert discover(web, outlet.homepage) == {
        "scope": outlet.scope,
        "robots_sitemaps": outlet.robots_sitemaps,
        "sitemaps": outlet.sitemaps,
        "feeds": outlet.feeds,
        "sections": outlet.sections,
        "section_feeds": outlet.section_feeds,
        "unparseable": (),
    }
    assert web.requests[0] == outlet.homepage
    for url in (*outlet.sitemaps, *outlet.feeds, *outlet.section_feeds):
        assert url in outlet.listings or web.data.responses[url].location in outlet.listings
    assert set(outlet.sections) <= outlet.pages
