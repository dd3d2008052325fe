"""Tests of the crawler package."""

from __future__ import annotations

from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from crawler.addon import NewsArchive


def archive_crawler(spidercls: type[Spider] = Spider, **settings: Any) -> Crawler:
    """A crawler with the add-on, so that every newsarchive setting has its default, as in ``scrapy crawl``.

    Nothing is archived unless ``ARCHIVE_ENABLED=True`` is passed.
    """
    return get_crawler(
        spidercls,
        {
            "ADDONS": {NewsArchive: 0},
            "ARCHIVE_CONTACT_URL": "http://localhost/tests",
            "ARCHIVE_ENABLED": False,
            **settings,
        },
    )
