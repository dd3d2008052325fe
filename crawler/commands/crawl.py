"""``scrapy crawl`` that chooses the spider for the mode, checks its seeds first, and fails when archiving did.

With a Redis URL (``REDIS_URL`` or ``$NEWSARCHIVE_REDIS_URL``) this process
is a worker of a distributed crawl: ``scrapy crawl news`` then runs
:class:`~crawler.distributed.spider.DistributedNewsSpider`, the news spider
fed from Redis, and the add-on wires the rest (:mod:`crawler.addon`).
Without one the plain spider runs (and scrapy-redis is not even imported).
``scrapy crawl recheck`` with a Redis URL fetches nothing itself: it queues
the archive's due articles in the crawl's frontier, and the workers fetch
them as rechecks (``newsarchive seeds recheck`` does the same).

Scrapy builds the spider inside the running crawl, so a bad seed file, or a
worker whose Redis cannot be reached or holds no seeds, would end in a
traceback from the event loop. Checking here first turns it into a plain
usage error (exit status 2) naming the file and field, or the Redis URL,
and nothing is created.

A crawl the recorder stopped because its archive could not be opened or
written (finish reason ``archive_error``) exits with 1, not 0, so that
schedulers and scripts see the failure.

The archiver process (:class:`~archive.archiver_process.ArchiverProcess`)
is started here, before Scrapy builds the crawler, and handed to the
recorder, which opens it once the spider exists: the seconds its interpreter
spends importing then pass while this one is still starting the crawl.
"""

from __future__ import annotations

import argparse

from scrapy import Spider
from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError

from archive.archiver_process import ArchiverProcess
from archive.config import ArchivePaths
from archive.errors import NewsArchiveError
from archive.rechecks import DUE_CHOICES
from archive.seeds import load_seeds
from crawler import distributed
from crawler.recorder import STARTED_ARCHIVER
from crawler.settings import newsarchive_defaults
from crawler.spiders.news import NewsSpider
from crawler.spiders.recheck import RecheckSpider


class Command(ScrapyCrawl):
    _crawler: Crawler | None = None
    _archiver: ArchiverProcess | None = None

    def _create_crawler(self, spidercls: str | type[Spider]) -> Crawler:
        self._crawler = super()._create_crawler(self._spider_class(spidercls))
        if self._archiver is not None:
            setattr(self._crawler, STARTED_ARCHIVER, self._archiver)
        return self._crawler

    def _spider_class(self, spidercls: str | type[Spider]) -> type[Spider]:
        """The spider to run: the distributed news spider in place of the news spider when Redis is set."""
        assert self.crawler_process is not None
        if isinstance(spidercls, str):
            spidercls = self.crawler_process.spider_loader.load(spidercls)
        if spidercls is NewsSpider and distributed.enabled(self.settings):
            from crawler.distributed.spider import DistributedNewsSpider

            return DistributedNewsSpider
        return spidercls

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        spargs = opts.spargs or {}
        seeds = spargs.get("seeds")
        try:
            if args and args[0] == RecheckSpider.name:
                due = spargs.get("due", "due")
                if due not in DUE_CHOICES:
                    raise UsageError(f"-a due= takes {' or '.join(DUE_CHOICES)}, not {due!r}", print_help=False)
                if distributed.enabled(self.settings):
                    self._queue_rechecks(spargs.get("outlet"), due == "all")
                    return
            if distributed.enabled(self.settings):
                from crawler.distributed.spider import crawl_outlets

                crawl_outlets(self.settings, seeds)
            elif seeds:
                load_seeds(seeds)
        except (NewsArchiveError, ValueError) as e:  # SeedError, FrontierError; ValueError: a bad key prefix
            raise UsageError(str(e), print_help=False) from None
        if self._archives():
            self._archiver = ArchiverProcess()  # from the main thread, which outlives it
        try:
            super().run(args, opts)
        finally:
            if self._archiver is not None:
                # the recorder closed it at the crawl's end; one it never opened (a crawl that failed
                # before its spider opened) ends here
                self._archiver.close()
        stats = self._crawler.stats if self._crawler is not None else None
        if stats is not None and stats.get_value("finish_reason") == "archive_error":
            self.exitcode = 1

    def _archives(self) -> bool:
        """Whether the crawl will archive: ``ARCHIVE_ENABLED`` as the add-on will set it."""
        settings = self.settings.copy()
        settings.setdict(newsarchive_defaults, priority="addon")
        return settings.getbool("ARCHIVE_ENABLED")

    def _queue_rechecks(self, outlet: str | None, everything: bool) -> None:
        """A distributed recheck: the due articles go to the crawl's frontier, and its workers fetch them."""
        import redis

        from archive.frontier import push_due_rechecks
        from crawler.distributed import frontier_keys, redis_url

        settings = self.settings
        paths = ArchivePaths.resolve(
            data_dir=settings.get("ARCHIVE_DATA_DIR"),
            database_url=settings.get("ARCHIVE_DATABASE_URL"),
            warc_dir=settings.get("ARCHIVE_WARC_DIR"),
        )
        keys = frontier_keys(settings)
        client = redis.Redis.from_url(redis_url(settings))
        try:
            queued, due = push_due_rechecks(client, keys, paths.database_url, outlet, everything)
        except redis.RedisError as e:
            raise UsageError(f"the crawl's Redis cannot be used: {e}", print_help=False) from None
        finally:
            client.close()
        print(f"crawl {keys.prefix!r}: {queued} of {due} articles due queued for the workers to recheck")
