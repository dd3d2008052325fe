"""One line, not a traceback, when a host's robots.txt cannot be fetched for the web's ordinary reasons.

Scrapy's robots.txt middleware logs every failed robots.txt download at
ERROR with the exception's traceback (``exc_info=True``, Scrapy 2.19). For a
host that refuses connections, does not resolve or times out, that traceback
is Twisted's and Scrapy's internals, and says nothing the message does not
(``Error downloading <GET http://…/>: Connection was refused …``); the
outlet's own fate is told by the crawl's summary line. So for the failures
Scrapy itself treats as transient (``RETRY_EXCEPTIONS``), this keeps the
line and its level and drops the traceback; any other exception keeps it.
The filter sits on that one logger for the crawl's lifetime.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object

#: The logger of Scrapy's RobotsTxtMiddleware.
ROBOTS_LOGGER = "scrapy.downloadermiddlewares.robotstxt"


class RobotsTxtErrorLog(logging.Filter):
    def __init__(self, ordinary: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.ordinary = ordinary

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTxtErrorLog:
        ordinary = tuple(load_object(e) if isinstance(e, str) else e for e in crawler.settings["RETRY_EXCEPTIONS"])
        extension = cls(ordinary)
        logger = logging.getLogger(ROBOTS_LOGGER)
        logger.addFilter(extension)
        crawler.signals.connect(lambda: logger.removeFilter(extension), signal=signals.engine_stopped, weak=False)
        return extension

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], self.ordinary):
            record.exc_info = None
            record.exc_text = None
        return True
