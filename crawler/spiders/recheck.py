"""The recheck spider: every known article that is due is fetched again, conditionally.

``scrapy crawl recheck`` (due articles), ``-a due=all`` (every known article
once), ``-a outlet=NAME`` (one outlet's), ``-a seeds=FILE`` (optional: the
outlets' policies and domains as the seed list states them now; without it,
as the archive last recorded them).

Which articles are due is the archive's recheck schedule
(:mod:`archive.db.schedule`), read in batches off the reactor as the crawl
goes (:class:`crawler.schedule.ScheduleReader`). Each request carries its
article's schedule (``request.meta[RECHECK_META]``), so it is sent with the
validators of the last capture
(:class:`~crawler.middlewares.conditional.ConditionalRequestMiddleware`),
and its answer is archived against the capture holding the body: a 304 as a
server-not-modified revisit, an unchanged body as an identical-payload-digest
revisit, neither extracted (:mod:`crawler.recorder`); a 304 is handed to the
callback as an answer (stats ``recheck/not_modified``), not raised as an HTTP
error to go through the errback. Only a changed body goes
to extraction, as in the news spider, whose article handling this spider
shares; a 404/410 or a redirect is archived, and the schedule records the
article gone or moved when it is indexed.

Politeness is the news spider's: the same settings, robots.txt,
Retry-After and throttling apply to every request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response

from archive.rechecks import DUE_CHOICES
from archive.seeds import Outlet, SeedList, load_seeds
from crawler.items import ArticlePage
from crawler.middlewares.conditional import NOT_MODIFIED
from crawler.schedule import RECHECK_META, ScheduleReader
from crawler.spiders.news import NewsSpider


class RecheckSpider(NewsSpider):
    name = "recheck"

    def __init__(
        self,
        seeds: str | None = None,
        due: str = "due",
        outlet: str | None = None,
        *args: Any,
        seed_list: SeedList | None = None,
        **kwargs: Any,
    ) -> None:
        Spider.__init__(self, *args, **kwargs)
        if due not in DUE_CHOICES:
            raise ValueError(f"-a due= takes {' or '.join(DUE_CHOICES)}, not {due!r}")
        self.everything = due == "all"
        self.outlet_name = outlet
        if seed_list is None and seeds:
            seed_list = load_seeds(seeds)
        self.seed_list: SeedList | None = seed_list  # type: ignore[assignment]
        # Requests come from the archive's own records of articles, not from links: no offsite filter
        # (an article that moved to another domain is followed there), unless a seed list names the domains.
        self.allowed_domains = seed_list.allowed_domains if seed_list is not None else None
        self._outlets: dict[str, Outlet] = {o.name: o for o in seed_list.outlets} if seed_list is not None else {}
        self._links = None  # rechecks follow no links

    async def start(self) -> AsyncIterator[Request]:
        reader = ScheduleReader.of(self.crawler)
        if not self._outlets:
            self._outlets = {o.name: o for o in await reader.outlets()}
        now = datetime.now(timezone.utc)
        stats = self.crawler.stats
        async for check in reader.due(now, self.outlet_name, self.everything):
            if stats is not None:
                stats.inc_value("recheck/scheduled")
            yield Request(
                check.url,
                callback=self.parse_recheck,
                errback=self.fetch_failed,
                cb_kwargs={"outlet": check.outlet if check.outlet in self._outlets else None},
                meta={RECHECK_META: check, "handle_httpstatus_list": [NOT_MODIFIED]},
                dont_filter=True,  # two articles may share a body URL; each is one check
            )

    def parse_recheck(self, response: Response, outlet: str | None) -> Iterator[ArticlePage | Request]:
        """A 304 has nothing to read (the recorder archived it against the body it confirms);
        any other answer is read as the news spider reads an article."""
        if response.status == NOT_MODIFIED:
            self.crawler.stats.inc_value("recheck/not_modified")
            return
        yield from self.parse_article(response, outlet)

    def _outlet(self, name: str) -> Outlet:
        return self._outlets[name]
