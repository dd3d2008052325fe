"""``scrapy crawl`` that checks the seed list before anything starts, and fails when archiving did.

Scrapy builds the spider inside the running crawl, so a bad seed file would
end in a traceback from the event loop. Checking it here first turns it into
a plain usage error naming the file and field, and nothing is created.

A crawl the recorder stopped because its archive could not be opened or
written (finish reason ``archive_error``) exits with 1, not 0, so that
schedulers and scripts see the failure.
"""

from __future__ import annotations

import argparse
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError

from archive.seeds import SeedError, load_seeds


class Command(ScrapyCrawl):
    _crawler: Crawler | None = None

    def _create_crawler(self, spidercls: Any) -> Crawler:
        self._crawler = super()._create_crawler(spidercls)
        return self._crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        seeds = (opts.spargs or {}).get("seeds")
        if seeds:
            try:
                load_seeds(seeds)
            except SeedError as e:
                raise UsageError(str(e), print_help=False) from None
        super().run(args, opts)
        stats = self._crawler.stats if self._crawler is not None else None
        if stats is not None and stats.get_value("finish_reason") == "archive_error":
            self.exitcode = 1
