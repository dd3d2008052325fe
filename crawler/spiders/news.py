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
from typing import Any

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.seeds import RECHECK_KIND, Outlet, SeedList, load_seeds
from archive.urls import UnparseableUrl, join_url, split_url
from crawler.items import ArticlePage, FetchFailure, Listing
from crawler.listings import UnreadableListing, feed_entries, sitemap_entries
from crawler.middlewares.known import ARTICLE_META
from crawler.recorder import FETCHED_AT_META, UNCHANGED_META
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
                if request := self.seed_request(kind, url, outlet):
                    yield request

    def seed_request(self, kind: str, url: str, outlet: Outlet) -> Request | None:
        """The request for a seed URL of an outlet: a sitemap, a feed, a section page, or a known
        article to recheck (queued by ``newsarchive seeds recheck`` for a distributed crawl; fetched
        conditionally, if still due, by :class:`~crawler.middlewares.known.KnownArticlesMiddleware`).
        None if the URL cannot be parsed, as for any URL: see :meth:`_request`."""
        if kind == RECHECK_KIND:
            request = self._request(url, self.parse_article, outlet, 0, "seed")
            if request is not None:
                request.dont_filter = True  # checked before: the crawl's dupefilter has seen it
            return request
        if kind == "section":
            return self._request(url, self.parse_section, outlet, DISCOVERY_PRIORITY - 1, "seed")
        callback = {"sitemap": self.parse_sitemap, "feed": self.parse_feed}[kind]
        return self._request(url, callback, outlet, DISCOVERY_PRIORITY, "seed")

    def parse_sitemap(self, response: Response, outlet: str) -> Iterator[Request | Listing]:
        current = self._outlet(outlet)
        try:
            children, entries = sitemap_entries(response, self.settings.getint("LISTING_MAX_SIZE"))
        except UnreadableListing as e:
            self._unreadable(response, "sitemap", e)
            return
        for loc in children:
            if request := self._request(loc, self.parse_sitemap, current, DISCOVERY_PRIORITY, "sitemap"):
                yield request
        yield from self._listed(response, current, "sitemap", entries)

    def parse_feed(self, response: Response, outlet: str) -> Iterator[Request | Listing]:
        try:
            written = feed_entries(response, self.settings.getint("LISTING_MAX_SIZE"))
        except UnreadableListing as e:
            self._unreadable(response, "feed", e)
            return
        entries = []
        for link, published in written:  # feeds may give links relative to themselves
            try:
                entries.append((join_url(response.url, link), published))
            except UnparseableUrl as e:
                self._unparseable(e, "feed")
        yield from self._listed(response, self._outlet(outlet), "feed", entries)

    def _unreadable(self, response: Response, source: str, error: UnreadableListing) -> None:
        """Count and log a sitemap or feed left unread (``LISTING_MAX_SIZE``); it stays archived as received.

        Stats: ``listings/unreadable``.
        """
        self.logger.warning("%s %s not read: %s", source, response.url, error)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("listings/unreadable")

    def parse_section(self, response: Response, outlet: str) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            return
        current = self._outlet(outlet)
        depth = response.meta.get("section_depth", 0)
        follow = depth < self.settings.getint("SECTION_DEPTH_LIMIT")
        for link in self._links.extract_links(response):
            if not self._parseable(link.url, "link"):
                continue
            if current.is_article(link.url):
                if article := self._request(link.url, self.parse_article, current, 0, "link"):
                    yield article
            elif follow and current.is_section(link.url):
                if section := self._request(link.url, self.parse_section, current, DISCOVERY_PRIORITY - 1, "link"):
                    section.meta["section_depth"] = depth + 1
                    yield section

    def parse_article(self, response: Response, outlet: str | None) -> Iterator[ArticlePage | Request]:
        # The extractor refuses publication dates after the fetch: the recorder's fetch time (the
        # response record's WARC-Date) makes this extraction agree with a re-extraction from the WARC.
        if response.meta.get(UNCHANGED_META):
            # the body archived last time, byte for byte (archived as a revisit): nothing new to read
            self.crawler.stats.inc_value("recheck/unchanged")
            return
        fetched_at = response.meta.get(FETCHED_AT_META) or datetime.now(timezone.utc)
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
        if self.page_requisites and isinstance(response, TextResponse) and outlet is not None:
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
            try:
                url = join_url(response.url, src)
            except UnparseableUrl as e:
                self._unparseable(e, "requisite")
                continue
            if url.startswith(("http://", "https://")) and outlet.owns(url):
                if request := self._request(url, self.parse_requisite, outlet, REQUISITE_PRIORITY, "requisite"):
                    yield request

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

    def _request(
        self, url: str, callback: Any, outlet: Outlet, priority: int = 0, source: str = "link"
    ) -> Request | None:
        """The request for a URL found at ``source`` (a seed, link, listed URL or requisite), or
        None if it cannot be parsed: the rest of the page goes on without it."""
        if not self._parseable(url, source):
            return None
        try:
            return Request(
                url,
                callback=callback,
                errback=self.fetch_failed,
                cb_kwargs={"outlet": outlet.name},
                priority=priority,
                # looked up in the recheck schedule before it is fetched (crawler/middlewares/known.py)
                meta={ARTICLE_META: True} if callback == self.parse_article else None,
            )
        except ValueError as e:  # a URL the archive reads that Scrapy still refuses
            self._unparseable(UnparseableUrl(url, f"Scrapy refuses it: {e}"), source)
            return None

    def _parseable(self, url: str, source: str) -> bool:
        try:
            split_url(url)
        except UnparseableUrl as e:
            self._unparseable(e, source)
            return False
        return True

    def _unparseable(self, error: UnparseableUrl, source: str) -> None:
        """Count and log a URL left out; the page, feed or sitemap holding it is archived as received.

        Stats: ``urls/unparseable`` and ``urls/unparseable/<source>``.
        """
        self.logger.warning("%s left out: %s", source, error)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("urls/unparseable")
            self.crawler.stats.inc_value(f"urls/unparseable/{source}")

    def _listed(
        self, response: Response, outlet: Outlet, source: str, entries: list[tuple[str, str | None]]
    ) -> Iterator[Request | Listing]:
        for url, _ in entries:
            if request := self._request(url, self.parse_article, outlet, 0, source):
                yield request
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
