"""The news spider as a worker of a shared crawl.

:class:`DistributedNewsSpider` is :class:`~crawler.spiders.news.NewsSpider`
(all parsing unchanged) with scrapy-redis's ``RedisMixin``: seeds come from
the crawl's Redis list (``newsarchive seeds push`` puts them there), and the
outlets from the crawl's outlet hash, read once at start (their domains are
the spider's ``allowed_domains``; the WARC files' warcinfo records list
them). ``scrapy crawl news`` builds it instead of the plain spider whenever
a Redis URL is set.

What it changes in ``RedisMixin`` (scrapy-redis 0.9.1), and why:

- ``start()`` yields the first batch of seeds: the mixin starts through
  ``start_requests()``, which Scrapy 2.19 no longer calls.
- ``make_request_from_data()`` turns a seed message (``{"outlet", "kind",
  "url"}``) into the same request the single-process spider makes, with the
  outlet in ``cb_kwargs``, instead of the mixin's ``FormRequest`` that
  bypasses the dupefilter.
- ``spider_idle()`` closes only when the whole crawl is drained
  (:meth:`FrontierScheduler.frontier_drained`) and has stayed so for
  ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds (0: never). The mixin measures idle
  time from the moment its module was imported and looks only at the seed
  list, so it would close a worker while others still produce links, or
  while a dead worker's requests wait to be recovered.

A request abandoned because the crawl is stopping (``IgnoreRequest`` while
the engine shuts down, e.g. waiting out a Retry-After pause) is marked so
that the scheduler puts it back in the shared queue instead of counting it
as done.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy_redis.spiders import RedisMixin
from twisted.python.failure import Failure

from archive.frontier import FrontierError, load_outlets
from crawler.distributed import RELEASE_META, engine, frontier_keys, redis_url
from crawler.items import FetchFailure
from crawler.spiders.news import NewsSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from typing import Self

    from scrapy.crawler import Crawler

    from archive.seeds import Outlet

__all__ = ["DistributedNewsSpider"]

logger = logging.getLogger(__name__)


class DistributedNewsSpider(RedisMixin, NewsSpider):
    """The news spider fed from, and feeding, the crawl's shared Redis frontier."""

    #: When the crawl was last seen drained (``time.monotonic()``), None while there is work.
    _idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        # Scrapy builds the spider before applying the add-ons: only the Redis URL and the prefix,
        # which the add-on reads from the same settings and environment, are known here.
        keys = frontier_keys(crawler.settings)
        if kwargs.get("seeds"):
            raise FrontierError(
                "a distributed crawl takes its seeds from Redis: push them once with "
                f"`newsarchive seeds push {kwargs['seeds']}` and start the workers without -a seeds"
            )
        client = redis.Redis.from_url(redis_url(crawler.settings))
        try:
            seed_list = load_outlets(client, keys)
        finally:
            client.close()
        if seed_list is None:
            raise FrontierError(
                f"crawl {keys.prefix!r} has no seeds: run `newsarchive seeds push FILE` before starting workers"
            )
        spider = super().from_crawler(crawler, *args, seed_list=seed_list, **kwargs)
        spider.frontier_keys = keys
        spider.redis_key = keys.seeds
        crawler.signals.connect(spider._spider_opened, signal=signals.spider_opened)
        return spider

    def _spider_opened(self) -> None:
        # RedisMixin's set-up reads settings the add-on provides (MAX_IDLE_TIME_BEFORE_CLOSE): now final.
        self.setup_redis(self.crawler)

    async def start(self) -> AsyncIterator[Request]:
        for request in self.next_requests():
            yield request

    def make_request_from_data(self, data: bytes) -> list[Request]:
        try:
            message = json.loads(data)
            kind, url, name = message["kind"], message["url"], message["outlet"]
        except (ValueError, KeyError, TypeError):
            logger.error("seed message %r is not one `newsarchive seeds push` writes; skipped", data)
            return []
        try:
            return [self.seed_request(kind, url, self._outlet(name))]
        except KeyError as e:
            logger.error("seed message %r skipped: %s", data, e)
            return []

    def spider_idle(self) -> None:
        self.schedule_next_requests()
        if not self.crawler.engine.scheduler.frontier_drained():
            self._idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
            logger.info(
                "crawl %r is drained; closing after %d s without new work",
                self.frontier_keys.prefix,
                self.max_idle_time,
            )
        if self.max_idle_time and now - self._idle_since >= self.max_idle_time:
            return
        raise DontCloseSpider

    def fetch_failed(self, failure: Failure) -> Iterator[FetchFailure]:
        running = engine(self.crawler)
        if failure.check(IgnoreRequest) and running is not None and not running.running:
            failure.request.meta[RELEASE_META] = True  # type: ignore[attr-defined]
        yield from super().fetch_failed(failure)

    def _outlet(self, name: str) -> Outlet:
        for outlet in self.seed_list.outlets:
            if outlet.name == name:
                return outlet
        raise KeyError(f"outlet {name!r} is not in the crawl's seeds (pushed after this worker started?)")
