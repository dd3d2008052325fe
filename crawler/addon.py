"""The add-on that turns a Scrapy project into a news archiver.

One switch (``ADDONS = {"crawler.addon.NewsArchive": 0}``) applies the
defaults of every newsarchive setting (the table in :mod:`crawler.settings`),
wires the WARC recorder, the stats file, the robots.txt error log, the extraction pipeline, the
recheck middlewares (known articles, conditional requests) and the
Retry-After middleware, and sets the User-Agent from ``ARCHIVE_CONTACT_URL``.
With a Redis URL (``REDIS_URL`` or ``$NEWSARCHIVE_REDIS_URL``) it also makes
the crawl one worker of a distributed crawl (:mod:`crawler.distributed.addon`;
the crawl command then builds the distributed spider,
:mod:`crawler.commands.crawl`). Everything is set at add-on priority, so
``settings.py`` and ``-s`` still override it.
"""

from __future__ import annotations

import logging

from scrapy.settings import BaseSettings

import archive
from crawler import distributed
from crawler.decision import ArticleDecisionPipeline
from crawler.extensions.robotslog import RobotsTxtErrorLog
from crawler.extensions.statsfile import StatsFile
from crawler.middlewares.conditional import ConditionalRequestMiddleware
from crawler.middlewares.known import KnownArticlesMiddleware
from crawler.middlewares.retryafter import RetryAfterMiddleware
from crawler.pipelines import ExtractionPipeline
from crawler.recorder import WarcRecorder
from crawler.settings import newsarchive_defaults

logger = logging.getLogger(__name__)

KNOWN_ARTICLES_PRIORITY = 120  # after robots.txt (100): a disallowed article is not even looked up
CONDITIONAL_PRIORITY = 130
RETRY_AFTER_PRIORITY = 650  # process_response after cookies (700), before redirect (600) and retry (550)


class NewsArchive:
    def update_settings(self, settings: BaseSettings) -> None:
        settings.setdict(newsarchive_defaults, priority="addon")
        settings.setdefault_in_component_priority_dict("EXTENSIONS", WarcRecorder, 0)
        settings.setdefault_in_component_priority_dict("EXTENSIONS", StatsFile, 0)
        settings.setdefault_in_component_priority_dict("EXTENSIONS", RobotsTxtErrorLog, 0)
        settings.setdefault_in_component_priority_dict("ITEM_PIPELINES", ExtractionPipeline, 300)
        settings.setdefault_in_component_priority_dict("ITEM_PIPELINES", ArticleDecisionPipeline, 310)
        settings.setdefault_in_component_priority_dict(
            "DOWNLOADER_MIDDLEWARES", RetryAfterMiddleware, RETRY_AFTER_PRIORITY
        )
        # after the offsite and robots.txt checks (50, 100), before anything that depends on the headers sent
        settings.setdefault_in_component_priority_dict(
            "DOWNLOADER_MIDDLEWARES", KnownArticlesMiddleware, KNOWN_ARTICLES_PRIORITY
        )
        settings.setdefault_in_component_priority_dict(
            "DOWNLOADER_MIDDLEWARES", ConditionalRequestMiddleware, CONDITIONAL_PRIORITY
        )
        contact = settings.get("ARCHIVE_CONTACT_URL")
        agent = f"newsarchive/{archive.__version__} (+{contact})" if contact else f"newsarchive/{archive.__version__}"
        settings.set("USER_AGENT", agent, "addon")
        if not contact:
            logger.warning("ARCHIVE_CONTACT_URL is not set: the User-Agent gives site operators no way to reach you")
        if distributed.enabled(settings):
            from crawler.distributed.addon import DistributedCrawl  # redis and scrapy-redis, for workers only

            DistributedCrawl().update_settings(settings)
