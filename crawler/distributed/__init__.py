"""Distributed crawling: many ``scrapy crawl news`` workers, one crawl.

Setting a Redis URL (``REDIS_URL`` or ``$NEWSARCHIVE_REDIS_URL``) makes any
number of crawler processes, on any number of machines, workers of one crawl.
It is built on scrapy-redis, the established distribution layer for Scrapy,
extended where a news archive needs more than it gives:

- :mod:`.scheduler`: scrapy-redis's scheduler and priority queue, with a
  reliable pop: a request taken by a worker waits in that worker's
  *processing* set until it is finished (its outcome scraped and its records
  written to the WARC), and the requests of a worker whose heartbeat stops
  go back to the queue. scrapy-redis alone drops them.
- :mod:`.spider`: the news spider as a scrapy-redis ``RedisMixin`` spider:
  seeds and outlets come from Redis (``newsarchive seeds push``), and a worker
  exits once the whole crawl, not just its own share, has been idle for
  ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds. The crawl command
  (:mod:`crawler.commands.crawl`) runs it in place of the plain spider.
- :mod:`.politeness`: per-host concurrency, delay and Retry-After pauses held
  in Redis for the whole crawl, so ten workers do not hit one site ten times
  as hard.
- :mod:`.dupefilter`: scrapy-redis's exact set, or a Bloom filter in Redis of
  bounded size for very large crawls.
- :mod:`.addon`: the switch that wires the rest (called by
  :class:`crawler.addon.NewsArchive` when a Redis URL is set).

Key names and the seed message format are in :mod:`archive.frontier`, shared
with the ``newsarchive`` command line. Settings and their defaults are in the
table in :mod:`crawler.settings`.
"""

from __future__ import annotations

import os
import platform
import re
import secrets
from weakref import WeakKeyDictionary

from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from archive.frontier import REDIS_URL_ENV, FrontierKeys

__all__ = ["RELEASE_META", "enabled", "engine", "frontier_keys", "redis_url", "worker_id"]

#: Request meta key: the request was abandoned, not handled (a crawl stopping while it waited);
#: it goes back to the shared queue instead of being counted as done.
RELEASE_META = "frontier_release"

_worker_ids: WeakKeyDictionary[Crawler, str] = WeakKeyDictionary()


def redis_url(settings: BaseSettings) -> str | None:
    """The crawl's Redis URL: the ``REDIS_URL`` setting, else ``$NEWSARCHIVE_REDIS_URL``."""
    return settings.get("REDIS_URL") or os.environ.get(REDIS_URL_ENV) or None


def enabled(settings: BaseSettings) -> bool:
    """Whether this crawl is one worker of a distributed crawl."""
    return redis_url(settings) is not None


def frontier_keys(settings: BaseSettings) -> FrontierKeys:
    """The Redis keys of the crawl (``DISTRIBUTED_KEY_PREFIX``, else ``$NEWSARCHIVE_KEY_PREFIX``)."""
    return FrontierKeys.resolve(settings.get("DISTRIBUTED_KEY_PREFIX"))


def worker_id(crawler: Crawler) -> str:
    """This process's name in the crawl, the same for every component: host, pid and a random suffix."""
    if crawler not in _worker_ids:
        host = re.sub(r"[^A-Za-z0-9.-]", "-", platform.node()) or "localhost"
        _worker_ids[crawler] = f"{host}-{os.getpid()}-{secrets.token_hex(2)}"
    return _worker_ids[crawler]


def engine(crawler: Crawler) -> ExecutionEngine | None:
    """The crawler's engine, or None before the crawl starts (Scrapy 2.19 raises then)."""
    try:
        return crawler.engine
    except RuntimeError:
        return None
