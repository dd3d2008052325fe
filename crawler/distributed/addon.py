"""The switch that makes a crawl one worker of a distributed crawl.

:class:`crawler.addon.NewsArchive` calls :class:`DistributedCrawl` when a
Redis URL is set (``REDIS_URL`` or ``$NEWSARCHIVE_REDIS_URL``); nothing else
needs configuring. The ``DISTRIBUTED_*`` settings and
``MAX_IDLE_TIME_BEFORE_CLOSE`` have their defaults and meanings in the table
in :mod:`crawler.settings`. Every value below is set at add-on priority, so
``settings.py`` and ``-s`` still override it.

It sets Scrapy and scrapy-redis settings: ``SCHEDULER``, ``DUPEFILTER_CLASS``
(from ``DISTRIBUTED_DUPEFILTER``), ``SCHEDULER_QUEUE_KEY``,
``SCHEDULER_DUPEFILTER_KEY``, ``REDIS_START_URLS_KEY``,
``SCHEDULER_SERIALIZER``, ``DOWNLOAD_DELAY_JITTER`` (0: the shared spacing
replaces the local random one), and in ``DOWNLOADER_MIDDLEWARES`` the
Retry-After middleware's distributed variant and the host leases at 670.
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
        dupefilter = settings.get("DISTRIBUTED_DUPEFILTER")
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
