"""``scrapy crawl`` that checks the seed list before anything starts.

Scrapy builds the spider inside the running crawl, so a bad seed file would
end in a traceback from the event loop. Checking it here first turns it into
a plain usage error naming the file and field, and nothing is created.
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from archive.seeds import SeedError, load_seeds


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        seeds = (opts.spargs or {}).get("seeds")
        if seeds:
            try:
                load_seeds(seeds)
            except SeedError as e:
                raise UsageError(str(e), print_help=False) from None
        super().run(args, opts)
