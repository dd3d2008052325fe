"""Item pipelines.

Extraction is CPU-bound (lxml parsing, trafilatura's heuristics), so it runs
in a pool of worker processes, never on the reactor's thread: downloads go on
while pages are being read, and two cores read two pages at once.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from archive.extract import extract_article
from crawler.items import ArticlePage

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


class ExtractionPipeline:
    """Extracts each article page's text and metadata with trafilatura, off the reactor.

    ``EXTRACTION_WORKERS`` worker processes extract (one per CPU by default);
    0 extracts in a single thread instead, for debugging.

    A page that is not HTML, or in which trafilatura finds no article, is
    dropped here; it stays archived as a capture without an article. So is
    a page longer than ``EXTRACTION_MAX_SIZE`` characters: an lxml tree takes
    several times its page's size, and news articles are a few hundred KB at
    most, so a longer one is a hostile or broken page whose extraction would
    cost the crawl gigabytes.
    """

    def __init__(self, workers: int, stats: StatsCollector, max_size: int = 0) -> None:
        self.workers = workers
        self.stats = stats
        self.max_size = max_size
        self._pool: Executor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        settings = crawler.settings
        return cls(settings.getint("EXTRACTION_WORKERS"), crawler.stats, settings.getint("EXTRACTION_MAX_SIZE"))

    def open_spider(self) -> None:
        if self.workers > 0:
            # spawn, not fork: a forked child would inherit the running reactor
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        else:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="extraction")

    def close_spider(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        if item.content_type.split(";")[0].strip().lower() not in HTML_TYPES or not item.html:
            self.stats.inc_value("extraction/not_html")
            raise DropItem(f"not an HTML page ({item.content_type or 'no Content-Type'}): {item.url}", log_level="INFO")
        if self.max_size and len(item.html) > self.max_size:
            self.stats.inc_value("extraction/too_large")
            raise DropItem(
                f"page of {len(item.html):,} characters, over EXTRACTION_MAX_SIZE, not extracted: {item.url}",
                log_level="WARNING",
            )
        loop = asyncio.get_running_loop()
        try:
            item.extraction = await loop.run_in_executor(
                self._pool,
                extract_article,
                item.html,
                item.url,
                item.fetched_at,
            )
        except Exception as e:  # noqa: BLE001 - any extractor failure leaves the page archived
            self.stats.inc_value("extraction/failed")
            raise DropItem(f"extraction failed for {item.url}: {e!r}") from e
        if item.extraction is None:
            self.stats.inc_value("extraction/no_article")
            raise DropItem(f"no article text found: {item.url}", log_level="INFO")
        self.stats.inc_value("extraction/articles")
        return item
