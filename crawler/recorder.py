"""The WARC recorder: every HTTP exchange the crawler makes goes into the archive.

It listens to ``response_downloaded``, which Scrapy sends straight from the
download handler, before any downloader middleware runs: the body is still
content-encoded as it came off the wire, redirects and error statuses are
all seen, and responses served from a cache (which never reach the download
handler) are not archived a second time. The handler only copies references
and queues them; records are built, written and indexed by
:class:`archive.archiver.Archiver` in its own threads.

Settings (defaults in parentheses):

- ``ARCHIVE_ENABLED`` (True)
- ``ARCHIVE_DATA_DIR`` (``$NEWSARCHIVE_DATA`` or ``./data``): holds ``warcs/`` and ``archive.db``
- ``ARCHIVE_DATABASE_URL`` (``$NEWSARCHIVE_DATABASE_URL`` or SQLite in the data dir)
- ``ARCHIVE_WARC_DIR`` (``<data dir>/warcs``)
- ``ARCHIVE_WARC_PREFIX`` ("newsarchive"): first part of WARC file names
- ``ARCHIVE_WARC_MAX_SIZE`` (1 GB): a file is closed and a new one started past this size
- ``ARCHIVE_INDEX_BATCH`` (200): records indexed per database transaction

The spider can read two request meta keys this sets: ``warc_record_id``
(the response record's WARC-Record-ID) and ``warc_fetched_at``.
"""

from __future__ import annotations

import json
import logging
import platform
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any

import scrapy
import trafilatura
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.threads import deferToThread

import archive
from archive.archiver import Archiver, ArchiverError
from archive.config import ArchivePaths
from archive.db.session import open_database, session_factory
from archive.ingest import ARTICLE_KIND, FETCH_ERROR_KIND, LISTING_KIND, OUTLETS_FIELD, Ingester
from archive.warc.records import HttpExchange, new_record_id
from archive.warc.writer import DEFAULT_MAX_SIZE, WarcWriter
from crawler.items import ArticlePage, FetchFailure, Listing

logger = logging.getLogger(__name__)

#: Request headers never written to the archive.
PRIVATE_REQUEST_HEADERS = {b"proxy-authorization"}

RECORDING_NOTE = (
    "Response bodies are stored as received, before content decoding, without chunked "
    "transfer framing. The HTTP client (Twisted) does not report connection headers "
    "(Content-Length, Connection, Keep-Alive, Transfer-Encoding), so they are absent; a "
    "Transfer-Encoding it does report is stored as X-Archive-Orig-Transfer-Encoding. "
    "Header names are as the client reported them (title-cased), repeated headers on "
    "separate lines; reason phrases are the standard ones for the status code. Request "
    "records hold the request as sent to the origin, after all downloader middlewares."
)


class WarcRecorder:
    def __init__(self, crawler: Crawler, paths: ArchivePaths) -> None:
        self.crawler = crawler
        self.paths = paths
        self.archiver: Archiver | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorder:
        settings = crawler.settings
        if not settings.getbool("ARCHIVE_ENABLED", True):
            raise NotConfigured
        paths = ArchivePaths.resolve(
            data_dir=settings.get("ARCHIVE_DATA_DIR"),
            database_url=settings.get("ARCHIVE_DATABASE_URL"),
            warc_dir=settings.get("ARCHIVE_WARC_DIR"),
        )
        recorder = cls(crawler, paths)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(recorder.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        # Opening (and migrating) the database blocks, but only once, before any download starts.
        settings = self.crawler.settings
        engine = open_database(self.paths.database_url)
        writer = WarcWriter(
            self.paths.warc_dir,
            info=self._warcinfo(spider),
            prefix=settings.get("ARCHIVE_WARC_PREFIX", "newsarchive"),
            max_size=settings.getint("ARCHIVE_WARC_MAX_SIZE", DEFAULT_MAX_SIZE),
        )
        self.archiver = Archiver(writer, Ingester(session_factory(engine)), settings.getint("ARCHIVE_INDEX_BATCH", 200))
        logger.info("archiving to %s (database %s)", self.paths.warc_dir, engine.url.render_as_string())

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        fetched_at = datetime.now(timezone.utc)
        record_id = new_record_id()
        request.meta["warc_record_id"] = record_id
        request.meta["warc_fetched_at"] = fetched_at
        proxied = bool(request.meta.get("proxy"))
        self._submit(
            lambda archiver: archiver.submit_exchange(
                HttpExchange(
                    url=response.url,
                    method=request.method,
                    request_headers=_request_headers(request),
                    request_body=request.body,
                    status=response.status,
                    response_headers=_header_lines(response.headers),
                    body=response.body,
                    fetched_at=fetched_at,
                    ip_address=None if proxied or response.ip_address is None else str(response.ip_address),
                    protocol=response.protocol or "HTTP/1.1",
                    response_record_id=record_id,
                )
            )
        )
        self.crawler.stats.inc_value("archive/responses")

    def item_scraped(self, item: Any, response: Response, spider: Spider) -> None:
        if isinstance(item, ArticlePage) and item.extraction is not None:
            payload = {"newsarchive": ARTICLE_KIND, "outlet": item.outlet, **item.extraction.to_dict()}
            self._submit(
                lambda a: a.submit_metadata(item.url, item.warc_record_id, payload, datetime.now(timezone.utc))
            )
            self.crawler.stats.inc_value("archive/articles")
        elif isinstance(item, Listing):
            payload = {
                "newsarchive": LISTING_KIND,
                "outlet": item.outlet,
                "source": item.source,
                "entries": [{"url": url, "published": published} for url, published in item.entries],
            }
            self._submit(
                lambda a: a.submit_metadata(item.url, item.warc_record_id, payload, datetime.now(timezone.utc))
            )
        elif isinstance(item, FetchFailure):
            payload = {"newsarchive": FETCH_ERROR_KIND, "outlet": item.outlet, "error": item.error}
            self._submit(lambda a: a.submit_metadata(item.url, None, payload, item.at))
            self.crawler.stats.inc_value("archive/fetch_errors")

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archiver is None:
            return
        archiver, self.archiver = self.archiver, None
        # joining the writer threads waits for the queue to drain: not on the reactor's thread
        await maybe_deferred_to_future(deferToThread(archiver.close))
        self.crawler.stats.set_value("archive/records_written", archiver.records_written)

    def _submit(self, submit: Any) -> None:
        if self.archiver is None:
            return
        try:
            submit(self.archiver)
        except ArchiverError:
            logger.critical("the archive cannot be written; stopping the crawl", exc_info=True)
            if self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))

    def _warcinfo(self, spider: Spider) -> dict[str, str]:
        settings = self.crawler.settings
        seed_list = getattr(spider, "seed_list", None)
        outlets = [o.describe() for o in seed_list.outlets] if seed_list else []
        return {
            "software": (
                f"newsarchive/{archive.__version__} (Scrapy {scrapy.__version__}; warcio {version('warcio')}; "
                f"trafilatura {trafilatura.__version__}; Python {platform.python_version()})"
            ),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": platform.node(),
            "http-header-user-agent": settings.get("USER_AGENT", ""),
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "isPartOf": f"{spider.name}:{seed_list.path}" if seed_list else spider.name,
            "description": RECORDING_NOTE,
            OUTLETS_FIELD: json.dumps(outlets, ensure_ascii=False),
        }


def _header_lines(headers: Any) -> list[tuple[bytes, bytes]]:
    """Every header value on its own line (Scrapy groups repeated headers)."""
    return [(name, value) for name, values in headers.items() for value in values]


def _request_headers(request: Request) -> list[tuple[bytes, bytes]]:
    lines = [(n, v) for n, v in _header_lines(request.headers) if n.lower() not in PRIVATE_REQUEST_HEADERS]
    if not any(n.lower() == b"host" for n, _ in lines):
        parts = urlparse_cached(request)
        host = (parts.hostname or "").encode("idna")
        if parts.port:
            host += b":%d" % parts.port
        lines.insert(0, (b"Host", host))
    return lines
