"""The switch that makes a crawl one worker of a distributed crawl.

:class:`crawler.addon.NewsArchive` calls :class:`DistributedCrawl` when a
Redis URL is set (``REDIS_URL`` or ``$NEWSARCHIVE_REDIS_URL``); nothing else
needs configuring. Every value below is set at add-on priority, so
``settings.py`` and ``-s`` still override it.

Settings (defaults in parentheses):

- ``REDIS_URL`` (``$NEWSARCHIVE_REDIS_URL``): the crawl's Redis server; setting it is the switch.
- ``DISTRIBUTED_KEY_PREFIX`` (``$NEWSARCHIVE_KEY_PREFIX`` or "newsarchive"): first part of every
  Redis key of the crawl; workers with the same prefix share a crawl.
- ``DISTRIBUTED_DUPEFILTER`` ("set"): "set" keeps every request fingerprint (exact);
  "bloom" keeps a Bloom filter of fixed size (:mod:`crawler.distributed.dupefilter`).
- ``DISTRIBUTED_BLOOM_CAPACITY`` (10 000 000) and ``DISTRIBUTED_BLOOM_ERROR_RATE`` (0.0001):
  the URLs the Bloom filter is sized for, and its false-positive rate up to that many.
- ``DISTRIBUTED_WORKER_TIMEOUT`` (60 s): a worker silent this long is taken for dead and its
  unfinished requests go back to the queue; its heartbeat is renewed four times as often.
- ``DISTRIBUTED_ACK_INTERVAL`` (0.5 s): how often finished requests are confirmed.
- ``DISTRIBUTED_POLITENESS_ENABLED`` (True): per-host limits for the whole crawl
  (:mod:`crawler.distributed.politeness`).
- ``DISTRIBUTED_LEASE_MARGIN`` (60 s): a per-host lease lasts at most ``DOWNLOAD_TIMEOUT`` plus this.
- ``MAX_IDLE_TIME_BEFORE_CLOSE`` (30 s, scrapy-redis's setting): a worker exits once the whole
  crawl has had no work for this long (0: never). The engine looks every 5 s.

And Scrapy or scrapy-redis settings it sets: ``SCHEDULER``, ``DUPEFILTER_CLASS``,
``SCHEDULER_QUEUE_KEY``, ``SCHEDULER_DUPEFILTER_KEY``, ``REDIS_START_URLS_KEY``,
``SCHEDULER_SERIALIZER``, ``DOWNLOAD_DELAY_JITTER`` (0: the shared spacing replaces the local
random one), and in ``DOWNLOADER_MIDDLEWARES`` the Retry-After middleware's distributed variant
and the host leases at 670.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings
from sqlalchemy.engine import make_url

from archive.config import ArchivePaths
from crawler.distributed import frontier_keys, redis_url
from crawler.distributed.politeness import HostLeaseMiddleware
from crawler.distributed.retryafter import DistributedRetryAfterMiddleware
from crawler.middlewares.retryafter import RetryAfterMiddleware

__all__ = ["DistributedCrawl"]

logger = logging.getLogger(__name__)

HOST_LEASE_PRIORITY = 670  # after the Retry-After wait (650), before cookies (700), proxy (750) and stats (850)

DUPEFILTERS = {
    "set": "scrapy_redis.dupefilter.RFPDupeFilter",
    "bloom": "crawler.distributed.dupefilter.BloomDupeFilter",
}


class DistributedCrawl:
    """Wire scrapy-redis and the crawl-wide components into a crawl with a Redis URL."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = redis_url(settings)
        if url is None:
            raise NotConfigured("a distributed crawl needs REDIS_URL or $NEWSARCHIVE_REDIS_URL")
        keys = frontier_keys(settings)
        dupefilter = settings.get("DISTRIBUTED_DUPEFILTER", "set")
        if dupefilter not in DUPEFILTERS:
            raise ValueError(f"DISTRIBUTED_DUPEFILTER must be one of {sorted(DUPEFILTERS)}, got {dupefilter!r}")
        for name, value in {
            "REDIS_URL": url,
            "DISTRIBUTED_KEY_PREFIX": keys.prefix,
            "SCHEDULER": "crawler.distributed.scheduler.FrontierScheduler",
            "DUPEFILTER_CLASS": DUPEFILTERS[dupefilter],
            "SCHEDULER_QUEUE_KEY": keys.requests,
            "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
            "REDIS_START_URLS_KEY": keys.seeds,
            "SCHEDULER_SERIALIZER": "crawler.distributed.serializer",
            "MAX_IDLE_TIME_BEFORE_CLOSE": 30,
            "DOWNLOAD_DELAY_JITTER": 0,
        }.items():
            settings.set(name, value, "addon")
        try:
            settings.replace_in_component_priority_dict(
                "DOWNLOADER_MIDDLEWARES", RetryAfterMiddleware, DistributedRetryAfterMiddleware
            )
        except KeyError:
            pass  # Retry-After handling switched off: nothing to share
        settings.setdefault_in_component_priority_dict(
            "DOWNLOADER_MIDDLEWARES", HostLeaseMiddleware, HOST_LEASE_PRIORITY
        )
        database = ArchivePaths.resolve(database_url=settings.get("ARCHIVE_DATABASE_URL")).database_url
        if make_url(database).get_backend_name() == "sqlite":
            logger.warning(
                "distributed crawl with a SQLite database (%s): workers on other machines need a shared "
                "PostgreSQL database (ARCHIVE_DATABASE_URL or $NEWSARCHIVE_DATABASE_URL)",
                database,
            )
