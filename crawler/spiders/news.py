"""The generic news spider: a seed list in, article pages out.

``scrapy crawl news -a seeds=seeds/outlets.toml``

Articles are discovered three ways per outlet: sitemaps (plain, index and
Google News), RSS/Atom feeds, and front or section pages whose links match
the outlet's article patterns. Every entry of a feed or sitemap is taken as
an article; on section pages only links matching ``article_patterns`` are,
and links matching ``follow_patterns`` are followed as further section pages
(up to ``SECTION_DEPTH_LIMIT`` links away from a start page; Scrapy's
``DEPTH_LIMIT`` would also cut articles behind nested sitemap indexes and an
article's page requisites). Each feed or sitemap also yields a :class:`Listing`
of its entries and their publication dates, archived beside the feed itself,
so the date a feed or news sitemap gave an article is kept beside the page's
own, whichever order the pages happen to arrive in.

The spider only parses; archiving happens in the recorder extension and the
pipelines. In a distributed crawl ``scrapy crawl news`` runs its subclass
:class:`crawler.distributed.spider.DistributedNewsSpider` instead (the crawl
command chooses it, :mod:`crawler.commands.crawl`); this module knows nothing
of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.selector import Selector
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip, gzip_magic_number
from twisted.python.failure import Failure

from archive.seeds import Outlet, SeedList, load_seeds
from crawler.items import ArticlePage, FetchFailure, Listing
from crawler.recorder import FETCHED_AT_META
from crawler.requisites import requisites

#: Discovery documents go before articles in the queue, page requisites after them.
DISCOVERY_PRIORITY = 10
REQUISITE_PRIORITY = -5


class NewsSpider(Spider):
    name = "news"

    def __init__(self, seeds: str | None = None, *args: Any, seed_list: SeedList | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if seed_list is None:
            if not seeds:
                raise ValueError("the news spider needs a seed list: scrapy crawl news -a seeds=seeds/FILE.toml")
            seed_list = load_seeds(seeds)
        self.seed_list: SeedList = seed_list
        self.allowed_domains = self.seed_list.allowed_domains
        self._links = LinkExtractor(unique=True)

    @property
    def page_requisites(self) -> bool:
        """``ARCHIVE_PAGE_REQUISITES``: also archive an article's images, stylesheets
        and scripts on the outlet's domains, so that it replays as it looked."""
        return self.settings.getbool("ARCHIVE_PAGE_REQUISITES")

    async def start(self) -> AsyncIterator[Request]:
        for outlet in self.seed_list.outlets:
            for kind, url in outlet.seeds():
                yield self.seed_request(kind, url, outlet)

    def seed_request(self, kind: str, url: str, outlet: Outlet) -> Request:
        """The request for a seed URL of an outlet: a sitemap, a feed or a section page."""
        if kind == "section":
            return self._request(url, self.parse_section, outlet, DISCOVERY_PRIORITY - 1)
        callback = {"sitemap": self.parse_sitemap, "feed": self.parse_feed}[kind]
        return self._request(url, callback, outlet, DISCOVERY_PRIORITY)

    def parse_sitemap(self, response: Response, outlet: str) -> Iterator[Request | Listing]:
        current = self._outlet(outlet)
        children, entries = _sitemap(response)
        for loc in children:
            yield self._request(loc, self.parse_sitemap, current, DISCOVERY_PRIORITY)
        yield from self._listed(response, current, "sitemap", entries)

    def parse_feed(self, response: Response, outlet: str) -> Iterator[Request | Listing]:
        yield from self._listed(response, self._outlet(outlet), "feed", _feed(response))

    def parse_section(self, response: Response, outlet: str) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            return
        current = self._outlet(outlet)
        depth = response.meta.get("section_depth", 0)
        follow = depth < self.settings.getint("SECTION_DEPTH_LIMIT")
        for link in self._links.extract_links(response):
            if current.is_article(link.url):
                yield self._request(link.url, self.parse_article, current)
            elif follow and current.is_section(link.url):
                section = self._request(link.url, self.parse_section, current, DISCOVERY_PRIORITY - 1)
                section.meta["section_depth"] = depth + 1
                yield section

    def parse_article(self, response: Response, outlet: str) -> Iterator[ArticlePage | Request]:
        # The extractor refuses publication dates after the fetch: the recorder's fetch time (the
        # response record's WARC-Date) makes this extraction agree with a re-extraction from the WARC.
        fetched_at = response.meta.get(FETCHED_AT_META) or datetime.now(timezone.utc)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        if self.page_requisites and isinstance(response, TextResponse):
            yield from self._requisites(response, self._outlet(outlet))
        yield ArticlePage(
            url=response.url,
            outlet=outlet,
            html=response.text if isinstance(response, TextResponse) else "",
            content_type=content_type,
            fetched_at=fetched_at,
        )

    def parse_requisite(self, response: Response, outlet: str) -> Iterator[Any]:
        """Nothing to parse: the recorder has archived the image, stylesheet or script."""
        yield from ()

    def _requisites(self, response: TextResponse, outlet: Outlet) -> Iterator[Request]:
        """The article's images, stylesheets and scripts on the outlet's own domains, for replay."""
        for src in requisites(response.text, outlet.owns_host):
            url = response.urljoin(src)
            if url.startswith(("http://", "https://")) and outlet.owns(url):
                yield self._request(url, self.parse_requisite, outlet, REQUISITE_PRIORITY)

    def fetch_failed(self, failure: Failure) -> Iterator[FetchFailure]:
        """Record fetches that got no HTTP response; refused and non-2xx ones are archived already."""
        if failure.check(IgnoreRequest, HttpError):
            return
        request = failure.request  # type: ignore[attr-defined]
        yield FetchFailure(
            url=request.url,
            outlet=request.cb_kwargs.get("outlet"),
            error=f"{failure.type.__name__}: {failure.getErrorMessage()}",
            at=datetime.now(timezone.utc),
        )

    def _request(self, url: str, callback: Any, outlet: Outlet, priority: int = 0) -> Request:
        return Request(
            url,
            callback=callback,
            errback=self.fetch_failed,
            cb_kwargs={"outlet": outlet.name},
            priority=priority,
        )

    def _listed(
        self, response: Response, outlet: Outlet, source: str, entries: list[tuple[str, str | None]]
    ) -> Iterator[Request | Listing]:
        for url, _ in entries:
            yield self._request(url, self.parse_article, outlet)
        if entries:
            yield Listing(
                url=response.url,
                outlet=outlet.name,
                source=source,
                entries=entries,
            )

    def _outlet(self, name: str) -> Outlet:
        """The seed list's outlet of that name; KeyError naming it if there is none."""
        for outlet in self.seed_list.outlets:
            if outlet.name == name:
                return outlet
        raise KeyError(f"outlet {name!r} is not in the crawl's seeds")


def _encoding(response: Response) -> str:
    return response.encoding if isinstance(response, TextResponse) else "utf-8"


def _iso_date(value: str | None) -> str | None:
    """An ISO date from a feed (RFC 822) or sitemap (W3C datetime) date."""
    if not value:
        return None
    value = value.strip()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError):
        return None


# Sitemaps and feeds are read into plain lists by functions, so that their parsed trees (megabytes
# for a 1,000-entry sitemap) are freed before the callback yields: Scrapy keeps many callbacks'
# generators suspended at once, and their trees made peak memory grow with the size of sitemaps.


def _sitemap(response: Response) -> tuple[list[str], list[tuple[str, str | None]]]:
    """A sitemap's child sitemaps (of an index) and its entries with their news publication dates."""
    body = gunzip(response.body) if gzip_magic_number(response) else response.body
    selector = Selector(text=body.decode("utf-8", "replace"), type="xml")
    selector.remove_namespaces()
    children = [loc.strip() for loc in selector.xpath("/sitemapindex/sitemap/loc/text()").getall()]
    entries = []
    for entry in selector.xpath("/urlset/url"):
        loc = (entry.xpath("loc/text()").get() or "").strip()
        if loc:
            entries.append((loc, _iso_date(entry.xpath("news/publication_date/text()").get())))
    return children, entries


def _feed(response: Response) -> list[tuple[str, str | None]]:
    """An RSS or Atom feed's entries (absolute links) with their publication dates."""
    selector = Selector(text=response.body.decode(_encoding(response), "replace"), type="xml")
    selector.remove_namespaces()
    entries = []
    for item in selector.xpath("//item"):  # RSS 2.0 and 0.9x
        link = item.xpath("link/text()").get() or item.xpath("guid[not(@isPermaLink='false')]/text()").get()
        published = item.xpath("pubDate/text()").get() or item.xpath("date/text()").get()
        entries.append((link, published))
    for entry in selector.xpath("//entry"):  # Atom
        link = entry.xpath("link[not(@rel) or @rel='alternate']/@href").get()
        published = entry.xpath("published/text()").get() or entry.xpath("updated/text()").get()
        entries.append((link, published))
    return [(response.urljoin(link.strip()), _iso_date(published)) for link, published in entries if link]
