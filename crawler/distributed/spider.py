"""The news spider as a worker of a shared crawl.

:class:`DistributedNewsSpider` is :class:`~crawler.spiders.news.NewsSpider`
(all parsing unchanged) with scrapy-redis's ``RedisMixin``: seeds come from
the crawl's Redis list (``newsarchive seeds push`` puts them there), and the
outlets from the crawl's outlet hash, read once at start (their domains are
the spider's ``allowed_domains``; the WARC files' warcinfo records list
them). ``scrapy crawl news`` builds it instead of the plain spider whenever
a Redis URL is set (:mod:`crawler.commands.crawl`, which also checks with
:func:`crawl_outlets` that the worker can start before anything does).

What it changes in ``RedisMixin`` (scrapy-redis 0.9.1), and why:

- ``start()`` yields the first batch of seeds: the mixin starts through
  ``start_requests()``, which Scrapy 2.19 no longer calls. The URL shapes
  the outlets' past pages proved to be articles' are read from the archive's
  database as the engine starts, before it takes anything from the shared
  queue (:meth:`NewsSpider.learn_shapes`): links of those shapes are
  taken, and fetched first, by every worker as by the single-process spider.
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

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import redis
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy_redis.spiders import RedisMixin
from twisted.python.failure import Failure

from archive.frontier import FrontierError, FrontierKeys, load_outlets, read_seed_message
from archive.seeds import SeedList
from crawler.distributed import RELEASE_META, engine, frontier_keys, redis_url
from crawler.items import FetchFailure
from crawler.spiders.news import NewsSpider

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

__all__ = ["DistributedNewsSpider", "crawl_outlets"]

logger = logging.getLogger(__name__)


class DistributedNewsSpider(RedisMixin, NewsSpider):
    """The news spider fed from, and feeding, the crawl's shared Redis frontier."""

    #: When the crawl was last seen drained (``time.monotonic()``), None while there is work.
    _idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        keys, seed_list = crawl_outlets(crawler.settings, kwargs.get("seeds"))
        spider = super().from_crawler(crawler, *args, seed_list=seed_list, **kwargs)
        spider.frontier_keys = keys
        spider.redis_key = keys.seeds
        crawler.signals.connect(spider._spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._engine_started, signal=signals.engine_started)
        return spider

    def _spider_opened(self) -> None:
        # RedisMixin's set-up reads settings the add-on provides (MAX_IDLE_TIME_BEFORE_CLOSE): now final.
        self.setup_redis(self.crawler)

    async def _engine_started(self) -> None:
        # After spider_opened (the archiver has migrated the database), before the engine takes any
        # request: the shared queue may already hold other workers' section pages and listings.
        await self.learn_shapes()

    async def start(self) -> AsyncIterator[Request]:
        for request in self.next_requests():
            yield request

    def make_request_from_data(self, data: bytes) -> list[Request]:
        try:
            name, kind, url = read_seed_message(data)
        except ValueError:
            logger.error("seed message %r is not one `newsarchive seeds push` writes; skipped", data)
            return []
        try:
            request = self.seed_request(kind, url, self._outlet(name))
        except KeyError as e:
            logger.error("seed message %r skipped: %s (pushed after this worker started?)", data, e.args[0])
            return []
        return [request] if request is not None else []  # None: its URL cannot be parsed (counted, logged)

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


def crawl_outlets(settings: BaseSettings, seeds: str | None = None) -> tuple[FrontierKeys, SeedList]:
    """The keys and outlets of the crawl a worker joins; FrontierError saying why it cannot start.

    ``seeds`` is the ``-a seeds`` spider argument, which a worker refuses. Only
    the Redis URL and the key prefix are read from ``settings``: the spider is
    built before the add-ons are applied.
    """
    keys = frontier_keys(settings)
    if seeds:
        raise FrontierError(
            "a distributed crawl takes its seeds from Redis: push them once with "
            f"`newsarchive seeds push {seeds}` and start the workers without -a seeds"
        )
    url = redis_url(settings)
    if url is None:
        raise FrontierError("a distributed crawl needs REDIS_URL or $NEWSARCHIVE_REDIS_URL")
    client = redis.Redis.from_url(url)
    try:
        seed_list = load_outlets(client, keys)
    except redis.RedisError as e:
        raise FrontierError(f"the crawl's Redis at {_without_password(url)} cannot be used: {e}") from None
    finally:
        client.close()
    if seed_list is None:
        raise FrontierError(
            f"crawl {keys.prefix!r} has no seeds: run `newsarchive seeds push FILE` before starting workers"
        )
    return keys, seed_list


def _without_password(url: str) -> str:
    """The URL with its password masked, for messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))
