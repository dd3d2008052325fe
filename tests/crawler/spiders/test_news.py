"""The news spider's parsing, on the fixture web's files (no network)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, XmlResponse

from archive.seeds import SeedError
from crawler.items import ArticlePage, Listing
from crawler.recorder import FETCHED_AT_META
from crawler.spiders.news import NewsSpider
from tests.conftest import FIXTURE_SEEDS, REPO
from tests.crawler import archive_crawler
from tests.fixtureweb.server import SITE_DIR

CD = "Common Dreams"
TP = "ThinkProgress"
TAC = "The American Conservative"


@pytest.fixture
def spider() -> NewsSpider:
    return NewsSpider.from_crawler(archive_crawler(NewsSpider), seeds=str(FIXTURE_SEEDS))


def response(url: str, path: str, cls: type[Response] = XmlResponse, **headers: str) -> Response:
    return cls(url=url, body=(SITE_DIR / path).read_bytes(), request=Request(url), headers=headers)


def split(results: list) -> tuple[list[Request], list[Listing]]:
    return [r for r in results if isinstance(r, Request)], [r for r in results if isinstance(r, Listing)]


def test_start_requests_cover_every_discovery_source(spider: NewsSpider) -> None:
    async def collect() -> list[Request]:
        return [r async for r in spider.start()]

    requests = asyncio.run(collect())
    urls = {r.url for r in requests}
    for outlet in spider.seed_list.outlets:
        assert set(outlet.feeds) | set(outlet.sitemaps) | set(outlet.start_urls) <= urls
    feeds = [r for r in requests if r.callback == spider.parse_feed]
    sections = [r for r in requests if r.callback == spider.parse_section]
    assert min(r.priority for r in feeds) > max(r.priority for r in sections)


def test_rss_feed_lists_articles_with_dates(spider: NewsSpider) -> None:
    url = "http://www.theamericanconservative.com/feed/"
    requests, listings = split(
        list(spider.parse_feed(response(url, "www.theamericanconservative.com/feed/index.rss"), TAC))
    )
    article = "http://www.theamericanconservative.com/larison/the-hanoi-summit-collapses/"
    assert [r.url for r in requests] == [article]
    assert requests[0].callback == spider.parse_article and requests[0].cb_kwargs == {"outlet": TAC}
    (listing,) = listings
    assert (listing.url, listing.outlet, listing.source) == (url, TAC, "feed")
    assert listing.entries == [(article, "2019-02-28")]


def test_atom_feed_entry_links_are_followed_as_given(spider: NewsSpider) -> None:
    url = "http://thinkprogress.org/feed/atom/"
    requests, (listing,) = split(list(spider.parse_feed(response(url, "thinkprogress.org/feed/atom/index.atom"), TP)))
    assert [r.url for r in requests] == ["http://feeds.thinkprogress.org/~r/thinkprogress/~3/hanoi/"]
    assert listing.entries[0][1] == "2019-02-28"


def test_news_sitemap_dates_and_sitemap_index(spider: NewsSpider) -> None:
    cd = list(
        spider.parse_sitemap(
            response("http://www.commondreams.org/sitemap.xml", "www.commondreams.org/sitemap.xml"), CD
        )
    )
    requests, (listing,) = split(cd)
    assert len(requests) == len(listing.entries) >= 2
    dated = dict(listing.entries)
    assert (
        dated[
            "http://www.commondreams.org/news/2019/02/28/major-failure-north-korea-summit-cut-short-trump-refuses-lift-sanctions"
        ]
        == "2019-02-28"
    )

    index = list(
        spider.parse_sitemap(response("http://thinkprogress.org/sitemap.xml", "thinkprogress.org/sitemap.xml"), TP)
    )
    assert [r.url for r in index] == ["http://thinkprogress.org/sitemap-posts-2019-02.xml"]
    assert index[0].callback == spider.parse_sitemap


def test_section_page_yields_only_article_links(spider: NewsSpider) -> None:
    page = response("http://www.commondreams.org/news", "www.commondreams.org/news/index.html", HtmlResponse)
    requests = list(spider.parse_section(page, CD))
    urls = {r.url for r in requests}
    assert (
        "http://www.commondreams.org/news/2019/02/28/major-failure-north-korea-summit-cut-short-trump-refuses-lift-sanctions"
        in urls
    )
    assert all(spider.seed_list.outlets[0].is_article(u) for u in urls)
    assert not any("/search" in u or "/about" in u for u in urls)


def test_article_page_becomes_an_item(spider: NewsSpider) -> None:
    url = "http://www.theamericanconservative.com/larison/the-hanoi-summit-collapses/"
    page = response(
        url,
        "www.theamericanconservative.com/larison/the-hanoi-summit-collapses/index.html",
        HtmlResponse,
        **{"Content-Type": "text/html; charset=utf-8"},
    )
    page.meta[FETCHED_AT_META] = fetched_at = datetime(2019, 3, 1, tzinfo=timezone.utc)  # set by the recorder
    *requisites, item = spider.parse_article(page, TAC)
    assert isinstance(item, ArticlePage)
    assert (item.url, item.outlet, item.fetched_at) == (url, TAC, fetched_at)
    assert "The Hanoi Summit Collapses" in item.html
    # what the page needs to replay as it looked: its stylesheet and images, on the outlet's domains
    assert {r.url for r in requisites} == {
        "http://www.theamericanconservative.com/wp-content/themes/tac/style.css?ver=5.0.3",
        "http://www.theamericanconservative.com/wp-content/themes/tac/images/tac-logo.png",
        "http://www.theamericanconservative.com/wp-content/uploads/2019/02/trump-kim-hanoi.jpg",
        "http://www.theamericanconservative.com/wp-content/uploads/2016/01/larison-150x150.jpg",
    }
    assert all(r.callback == spider.parse_requisite for r in requisites)


def test_requisites_off_site_or_switched_off_are_not_fetched() -> None:
    url = "http://thinkprogress.org/trump-kim-summit-ends-early-no-nuclear-deal-8f1a2c3b4d5e/"
    page = response(
        url, "thinkprogress.org/trump-kim-summit-ends-early-no-nuclear-deal-8f1a2c3b4d5e/index.html", HtmlResponse
    )
    spider = NewsSpider.from_crawler(archive_crawler(NewsSpider), seeds=str(FIXTURE_SEEDS))
    urls = [r.url for r in spider.parse_article(page, TP) if isinstance(r, Request)]
    assert urls and not [u for u in urls if "doubleclick" in u]  # the ad script is another site's
    off = archive_crawler(NewsSpider, ARCHIVE_PAGE_REQUISITES=False)
    spider = NewsSpider.from_crawler(off, seeds=str(FIXTURE_SEEDS))
    assert [type(r) for r in spider.parse_article(page, TP)] == [ArticlePage]


def test_spider_refuses_a_bad_seed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[outlet]]\nname = "X"\nallowed_domains = ["x.org"]\nfeeds = ["x.org/feed"]\narticle_patterns = ["."]\n'
    )
    with pytest.raises(SeedError, match=r"outlet\[0\]\.feeds\[0\]"):
        NewsSpider(seeds=str(bad))
    with pytest.raises(ValueError, match="needs a seed list"):
        NewsSpider()


def test_section_pages_are_followed_up_to_the_section_depth_limit(tmp_path: Path) -> None:
    seeds = tmp_path / "sections.toml"
    seeds.write_text(
        '[[outlet]]\nname = "Common Dreams"\nallowed_domains = ["commondreams.org"]\n'
        'start_urls = ["http://www.commondreams.org/"]\narticle_patterns = ["/news/\\\\d{4}/"]\n'
        'follow_patterns = ["^http://www\\\\.commondreams\\\\.org/news$"]\n'
    )
    spider = NewsSpider.from_crawler(archive_crawler(NewsSpider, SECTION_DEPTH_LIMIT=1), seeds=str(seeds))
    front = response("http://www.commondreams.org/", "www.commondreams.org/index.html", HtmlResponse)
    sections = [r for r in spider.parse_section(front, CD) if r.callback == spider.parse_section]
    assert [(r.url, r.meta["section_depth"]) for r in sections] == [("http://www.commondreams.org/news", 1)]
    deeper = response("http://www.commondreams.org/", "www.commondreams.org/index.html", HtmlResponse)
    deeper.meta["section_depth"] = 1
    requests = list(spider.parse_section(deeper, CD))
    assert requests and all(r.callback == spider.parse_article for r in requests)


def test_an_outlet_the_seeds_do_not_name_is_a_clear_error(spider: NewsSpider) -> None:
    url = "http://www.theamericanconservative.com/feed/"
    with pytest.raises(KeyError, match="outlet 'Gone' is not in the crawl's seeds"):
        list(spider.parse_feed(response(url, "www.theamericanconservative.com/feed/index.rss"), "Gone"))


def test_the_spider_knows_nothing_of_distributed_crawls() -> None:
    code = "import sys, crawler.spiders.news; print(sorted(m for m in sys.modules if m.startswith(NAMES)))"
    names = ("crawler.distributed", "archive.frontier", "scrapy_redis", "redis")
    done = subprocess.run(
        [sys.executable, "-c", f"NAMES = {names!r}; {code}"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def html(url: str, body: bytes) -> HtmlResponse:
    return HtmlResponse(url, body=body, encoding="utf-8", request=Request(url))


def test_unparseable_urls_are_skipped_and_counted_and_the_rest_of_the_page_goes_on(spider: NewsSpider) -> None:
    """Issue 13, 1: a link, listed URL or requisite that cannot be parsed must not stop its page."""
    spider.crawler.stats.open_spider()
    good = "http://www.commondreams.org/news/2019/02/28/a-good-story"
    bad = [
        "http://www.commondreams.org:99999/news/2019/02/28/port",
        "http://www.commondreams.org/news/2019/02/28/a&#1;control",  # the link extractor escapes it: %01
        "http://www.commondreams.org/news/2019/02/28/" + "x" * 10_000,
    ]
    links = "".join(f'<a href="{url}">x</a>' for url in [*bad, good])
    section = html("http://www.commondreams.org/news", links.encode())
    assert [r.url for r in spider.parse_section(section, CD)] == [f"{good[:-12]}a%01control", good]

    entries = "".join(f"<url><loc>{url}</loc></url>" for url in ["http://[::1/a", bad[0], good])
    entries = f"<urlset>{entries}</urlset>"
    children = "<sitemapindex><sitemap><loc>http://www.commondreams.org:0x50/s.xml</loc></sitemap></sitemapindex>"
    sitemap = XmlResponse("http://www.commondreams.org/sitemap.xml", body=entries.encode(), request=Request(good))
    requests, listings = split(list(spider.parse_sitemap(sitemap, CD)))
    assert [r.url for r in requests] == [good]
    assert [url for url, _ in listings[0].entries] == ["http://[::1/a", bad[0], good]  # archived as listed
    index = XmlResponse("http://www.commondreams.org/sitemap.xml", body=children.encode(), request=Request(good))
    assert list(spider.parse_sitemap(index, CD)) == []

    page = html(
        good,
        b'<img src="http://www.commondreams.org:99999/a.png"><img src="//[www.commondreams.org/b.png">'
        b'<img src="/c.png">',
    )
    *requisites, item = spider.parse_article(page, CD)
    assert [r.url for r in requisites] == ["http://www.commondreams.org/c.png"] and isinstance(item, ArticlePage)

    stats = spider.crawler.stats.get_stats()
    assert stats["urls/unparseable/link"] == 1  # the 10 KB one (the extractor itself drops port 99999)
    assert (stats["urls/unparseable/sitemap"], stats["urls/unparseable/requisite"]) == (3, 2)
    assert stats["urls/unparseable"] == 6
