"""Write a crawl's final stats to a JSON file, for whoever started the crawl.

The scheduler runs each crawl as a child process and reads how it went
(pages fetched, captures, articles, errors) from this file instead of
parsing the log.

``STATS_FILE`` says where to write; the extension is off without it (the
default, :mod:`crawler.settings`).

The file is written when the engine has stopped, after every
``spider_closed`` handler (the recorder's included, which counts records
only once its archiver process has drained) and after the stats collector
has closed, so it holds the stats Scrapy dumps in its log. It is written to
a temporary name and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector


class StatsFile:
    def __init__(self, path: Path, stats: StatsCollector) -> None:
        self.path = path
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsFile:
        path = crawler.settings.get("STATS_FILE")
        if not path:
            raise NotConfigured
        extension = cls(Path(path), crawler.stats)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".part")
        partial.write_text(json.dumps(self.stats.get_stats(), default=_plain, indent=1, sort_keys=True), "utf-8")
        os.replace(partial, self.path)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)
