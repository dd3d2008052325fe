"""Known articles met again by a ``news`` crawl: fetched only when their recheck is due.

A feed or section page lists an article for hours after it was archived. A
``news`` crawl that fetched it every time would spend most of its requests
on pages the recheck schedule (:mod:`archive.db.schedule`) already watches,
and a recheck crawl and a news crawl run one after the other would fetch
the same article twice in one due period. So each article request of the
news spider is looked up first (off the reactor): an article that is not
due is not fetched (``IgnoreRequest``; stats ``recheck/known_not_due``), a
due one is fetched as a recheck (its schedule in ``request.meta[RECHECK_META]``,
so :class:`~crawler.middlewares.conditional.ConditionalRequestMiddleware`
makes it conditional). ``RECHECK_KNOWN_ARTICLES = "always"`` fetches known
articles every time they are listed, still conditionally.
"""

from __future__ import annotations

from datetime import datetime, timezone

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.schedule import RECHECK_META, ScheduleReader

#: Request meta key the news spider sets on requests for pages it takes for articles.
ARTICLE_META = "article"
MODES = ("due", "always", "never")


class KnownArticlesMiddleware:
    def __init__(self, reader: ScheduleReader, stats: StatsCollector, mode: str) -> None:
        self.reader = reader
        self.stats = stats
        self.mode = mode

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownArticlesMiddleware:
        mode = crawler.settings.get("RECHECK_KNOWN_ARTICLES")
        if mode not in MODES:
            raise ValueError(f"RECHECK_KNOWN_ARTICLES must be one of {', '.join(MODES)}, not {mode!r}")
        if mode == "never" or not crawler.settings.getbool("ARCHIVE_ENABLED"):
            raise NotConfigured
        return cls(ScheduleReader.of(crawler), crawler.stats, mode)

    async def process_request(self, request: Request) -> None:
        if not request.meta.get(ARTICLE_META) or RECHECK_META in request.meta:
            return
        check = await self.reader.known(request.url)
        if check is None:
            return
        if self.mode == "due" and not check.due(datetime.now(timezone.utc)):
            self.stats.inc_value("recheck/known_not_due")
            raise IgnoreRequest(f"known article not due ({check.state}, next {check.next_check_at}): {request.url}")
        self.stats.inc_value("recheck/known_due")
        request.meta[RECHECK_META] = check
