"""Item pipelines.

Extraction is CPU-bound (lxml parsing, trafilatura's heuristics), so it runs
in a pool of worker processes, never on the reactor's thread: downloads go on
while pages are being read, and two cores read two pages at once.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from pebble import ProcessExpired, ProcessPool
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from archive.extract import Extraction, extract_article
from crawler.items import ArticlePage

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")

Extractor = Callable[[str, str, datetime], Extraction | None]


class ExtractionPipeline:
    """Extracts each article page's text and metadata with trafilatura, off the reactor.

    ``EXTRACTION_WORKERS`` worker processes extract (one per CPU by default);
    0 extracts in a single thread instead, for debugging.

    A page that is not HTML, or in which trafilatura finds no article, is
    dropped here; it stays archived as a capture without an article. So is
    a page longer than ``EXTRACTION_MAX_SIZE`` characters: an lxml tree takes
    several times its page's size, and news articles are a few hundred KB at
    most, so a longer one is a hostile or broken page whose extraction would
    cost the crawl gigabytes. And so is a page whose extraction takes longer
    than ``EXTRACTION_TIMEOUT`` seconds (a news page takes well under one):
    markup that is pathological for lxml, trafilatura or htmldate would
    otherwise hold a worker for good, and a few such pages would stop
    extraction for the whole crawl. Its worker process is killed and
    replaced (pebble's pool does both); a thread cannot be killed, so with
    ``EXTRACTION_WORKERS = 0`` there is no time limit. A worker that dies
    (a crash in lxml's C code, the kernel's OOM killer) is replaced the same
    way and costs only its page, where the standard library's pool would
    refuse every later page.
    """

    def __init__(
        self,
        workers: int,
        stats: StatsCollector,
        max_size: int = 0,
        timeout: float = 0,
        extract: Extractor = extract_article,
    ) -> None:
        self.workers = workers
        self.stats = stats
        self.max_size = max_size
        self.timeout = timeout
        # Replaceable so that tests can run an extraction that hangs in a real worker process;
        # it must be importable by name, as the workers are spawned and receive it pickled.
        self.extract = extract
        self._pool: ProcessPool | ThreadPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPipeline:
        settings = crawler.settings
        return cls(
            settings.getint("EXTRACTION_WORKERS"),
            crawler.stats,
            max_size=settings.getint("EXTRACTION_MAX_SIZE"),
            timeout=settings.getfloat("EXTRACTION_TIMEOUT"),
        )

    def open_spider(self) -> None:
        if self.workers > 0:
            # spawn, not fork: a forked child would inherit the running reactor
            self._pool = ProcessPool(self.workers, context=multiprocessing.get_context("spawn"))
        else:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="extraction")

    def close_spider(self) -> None:
        if isinstance(self._pool, ProcessPool):
            self._pool.close()
            self._pool.join()
        elif self._pool is not None:
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
        try:
            item.extraction = await asyncio.wrap_future(self._submit(item))
        except TimeoutError as e:
            self.stats.inc_value("extraction/timeout")
            raise DropItem(
                f"extraction took over EXTRACTION_TIMEOUT ({self.timeout:g} s); worker stopped, page not extracted: "
                f"{item.url}",
                log_level="WARNING",
            ) from e
        except ProcessExpired as e:
            self.stats.inc_value("extraction/failed")
            raise DropItem(
                f"extraction's worker process died (exit code {e.exitcode}), page not extracted: {item.url}",
                log_level="WARNING",
            ) from e
        except Exception as e:  # noqa: BLE001 - any extractor failure leaves the page archived
            self.stats.inc_value("extraction/failed")
            raise DropItem(f"extraction failed for {item.url}: {e!r}") from e
        if item.extraction is None:
            self.stats.inc_value("extraction/no_article")
            raise DropItem(f"no article text found: {item.url}", log_level="INFO")
        self.stats.inc_value("extraction/articles")
        return item

    def _submit(self, item: ArticlePage) -> Future[Extraction | None]:
        """Start the page's extraction in the pool; the future's result is the extraction."""
        args = (item.html, item.url, item.fetched_at)
        if isinstance(self._pool, ProcessPool):
            # pebble counts the timeout from when a worker starts the page, not while it waits its turn
            return self._pool.schedule(self.extract, args, timeout=self.timeout or None)
        assert self._pool is not None, "open_spider() was not called"
        return self._pool.submit(self.extract, *args)
