"""A Scrapy extension that writes the crawl's final stats to a JSON file.

The benchmark runner reads pages and bytes downloaded from it, the same way
for our crawl and the bare one. ``BENCH_STATS_FILE`` (no default) switches it on.
"""

from __future__ import annotations

import json
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class StatsDump:
    def __init__(self, crawler: Crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsDump:
        path = crawler.settings.get("BENCH_STATS_FILE")
        if not path:
            raise NotConfigured
        extension = cls(crawler, Path(path))
        # engine_stopped comes after every spider_closed handler has set its stats
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        assert self.crawler.stats is not None
        self.path.write_text(json.dumps(self.crawler.stats.get_stats(), default=str, indent=1))
