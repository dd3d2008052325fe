"""The WARC recorder: every HTTP exchange the crawler makes goes into the archive.

It listens to ``response_downloaded``, which Scrapy sends straight from the
download handler, before any downloader middleware runs: the body is still
content-encoded as it came off the wire, redirects and error statuses are
all seen, and responses served from a cache (which never reach the download
handler) are not archived a second time. The handler only copies references
and queues them; records are built, written and indexed in a process of
their own (:class:`archive.archiver_process.ArchiverProcess`), off the
crawler's event loop and its interpreter lock. What a turn of the event loop
submitted is sent to it at the end of that turn, together.

Its settings (``ARCHIVE_*``) have their defaults and meanings in the table
in :mod:`crawler.settings`. ``ARCHIVE_MAX_BODY_SIZE`` cuts a longer body and
archives it marked truncated, while Scrapy's ``DOWNLOAD_MAXSIZE`` cancels a
download outright (also when ``Content-Length`` announces more) and leaves
only a fetch error: the recorder warns unless the first is below the second.

At start the recorder recovers the ``.open`` files a killed crawl left in the
WARC folder (:mod:`archive.opening`), and the CDXJ index (``<data
dir>/indexes``) gets each WARC file's lines as the file closes. How the
records are made (heads as received through
:class:`crawler.handlers.RawHeadHTTPDownloadHandler`, or rebuilt) is
:mod:`archive.warc.records`'s business; the warcinfo record of every file
says which applies. The metadata records of articles, listings and fetch
errors are built by :mod:`archive.format`.

The recorder remembers the response record id of each downloaded request
itself, to point an article's or listing's metadata record at it. It tells
the spider the fetch time (``request.meta[FETCHED_AT_META]``, the response
record's WARC-Date) and, for a recheck (``request.meta[RECHECK_META]``),
whether the body as received is the one last archived
(``request.meta[UNCHANGED_META]``): only the recorder sees the body before
content decoding, which is what the archive's payload digests are taken of.
A recheck's answer is archived against the capture holding the article's
body: a 304 to a conditional request as a server-not-modified revisit of
it, an equal body as an identical-payload-digest revisit. The distributed scheduler asks it, through
:meth:`WarcRecorder.checkpoint` and :meth:`WarcRecorder.written`, whether
what a request produced is safely on disk.
"""

from __future__ import annotations

import logging
import platform
import weakref
from datetime import datetime, timezone
from importlib.metadata import version
from typing import Any

import scrapy
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object
from scrapy.utils.reactor import CallLaterOnce
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

import archive
from archive.archiver import ArchiverError
from archive.archiver_process import ArchiverProcess
from archive.config import ArchivePaths
from archive.dedup import payload_digest
from archive.format import (
    OUTLETS_FIELD,
    article_payload,
    decision_payload,
    fetch_error_payload,
    listing_payload,
    metadata_target,
    outlets_field,
)
from archive.opening import ArchiveSettings
from archive.warc.records import HttpExchange, RevisitOf, new_record_id
from crawler.handlers import RAW_HEAD_META, RawHeadHTTPDownloadHandler
from crawler.items import ArticlePage, FetchFailure, Listing
from crawler.middlewares.conditional import NOT_MODIFIED, conditional
from crawler.schedule import RECHECK_META

logger = logging.getLogger(__name__)

#: Request headers never written to the archive.
PRIVATE_REQUEST_HEADERS = {b"proxy-authorization"}

#: Request meta key: when the response was received (a UTC datetime), the response record's WARC-Date.
FETCHED_AT_META = "warc_fetched_at"
#: Request meta key: True when a recheck's 200 body is the one last archived (nothing to extract).
UNCHANGED_META = "recheck_unchanged"
#: Crawler attribute: an archiver process started, not yet opened, before the crawler was built (by
#: ``scrapy crawl``, :mod:`crawler.commands.crawl`), for the recorder to open instead of starting one.
STARTED_ARCHIVER = "_newsarchive_archiver"

BODY_NOTE = (
    "Response bodies are stored as received, before content decoding (a gzip body stays gzip), "
    "without chunked transfer framing; {limit} one the server broke off is marked WARC-Truncated: disconnect."
)
RAW_HEAD_NOTE = (
    "Response heads are the status line and header lines exactly as received (name case, order, "
    "repeated headers, reason phrase, connection headers such as Content-Length and Keep-Alive), "
    "except that a Transfer-Encoding line is stored as X-Archive-Orig- followed by the line, since "
    "the body is stored de-chunked."
)
REBUILT_HEAD_NOTE = (
    "Response heads are rebuilt from the HTTP client's parsed headers: the client (Twisted) does "
    "not report connection headers (Content-Length, Connection, Keep-Alive, Transfer-Encoding), so "
    "they are absent; a Transfer-Encoding it does report is stored as "
    "X-Archive-Orig-Transfer-Encoding; header names are title-cased, repeated headers on separate "
    "lines, and reason phrases the standard ones for the status code."
)
REQUEST_NOTE = (
    "Request records hold the request as Scrapy handed it to the HTTP client, after all downloader "
    "middlewares, in origin form, with Host first and header names title-cased; the client sends "
    "these lines with Host last, and a Content-Length line when there is a body."
)


class WarcRecorder:
    def __init__(self, crawler: Crawler, paths: ArchivePaths, max_body_size: int) -> None:
        self.crawler = crawler
        self.paths = paths
        self.max_body_size = max_body_size
        self.archiver: ArchiverProcess | None = None
        self._flush = CallLaterOnce(self._send)
        self._received: weakref.WeakKeyDictionary[Request, int] = weakref.WeakKeyDictionary()
        # The response record id of each request downloaded, for the metadata records of its items.
        self._record_ids: weakref.WeakKeyDictionary[Request, str] = weakref.WeakKeyDictionary()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorder:
        settings = crawler.settings
        if not settings.getbool("ARCHIVE_ENABLED"):
            raise NotConfigured
        paths = ArchivePaths.resolve(
            data_dir=settings.get("ARCHIVE_DATA_DIR"),
            database_url=settings.get("ARCHIVE_DATABASE_URL"),
            warc_dir=settings.get("ARCHIVE_WARC_DIR"),
        )
        max_body_size = settings.getint("ARCHIVE_MAX_BODY_SIZE")
        download_maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        if download_maxsize and (not max_body_size or max_body_size >= download_maxsize):
            logger.warning(
                "DOWNLOAD_MAXSIZE (%d) is not above ARCHIVE_MAX_BODY_SIZE (%d): bodies over %d bytes will be "
                "cancelled and lost instead of archived cut",
                download_maxsize,
                max_body_size,
                download_maxsize,
            )
        recorder = cls(crawler, paths, max_body_size)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.response_downloaded, signal=signals.response_downloaded)
        if max_body_size:
            crawler.signals.connect(recorder.bytes_received, signal=signals.bytes_received)
        crawler.signals.connect(recorder.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    async def spider_opened(self, spider: Spider) -> None:
        # Started here unless the crawl command has started it, on the main thread either way (the
        # archiver process is killed when the thread that started it ends); opening (and migrating)
        # the database and recovering the files a killed crawl left open happen in that process,
        # before any download starts.
        settings = self.crawler.settings
        archiver: ArchiverProcess = getattr(self.crawler, STARTED_ARCHIVER, None) or ArchiverProcess()
        archiver.open(
            ArchiveSettings(
                paths=self.paths,
                info=self._warcinfo(spider),
                prefix=settings.get("ARCHIVE_WARC_PREFIX"),
                max_size=settings.getint("ARCHIVE_WARC_MAX_SIZE"),
                compression=settings.getint("ARCHIVE_WARC_COMPRESSION"),
                batch_size=settings.getint("ARCHIVE_INDEX_BATCH"),
                fsync=settings.getbool("ARCHIVE_WARC_FSYNC"),
                dedup=settings.getbool("ARCHIVE_DEDUP_ENABLED"),
                log_level=logging.getLogger("archive").getEffectiveLevel(),
            )
        )
        try:
            recovered = await maybe_deferred_to_future(deferToThread(archiver.wait_ready))
        except ArchiverError as e:
            # nothing fetched could be archived: stop before the first request, not after many
            logger.critical("%s; stopping the crawl before it fetches anything", e)
            self._stop_crawl()
            return
        self.archiver = archiver
        for result in recovered:
            self.crawler.stats.inc_value("archive/recovered_files")
            self.crawler.stats.inc_value("archive/recovered_bytes_cut", result.cut)

    def bytes_received(self, data: bytes, request: Request, spider: Spider) -> None:
        """Stop reading a body once it passes ARCHIVE_MAX_BODY_SIZE; the response goes on, cut."""
        received = self._received.get(request, 0) + len(data)
        self._received[request] = received
        if received > self.max_body_size:
            raise StopDownload(fail=False)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        fetched_at = datetime.now(timezone.utc)
        record_id = new_record_id()
        self._record_ids[request] = record_id
        request.meta[FETCHED_AT_META] = fetched_at
        proxied = bool(request.meta.get("proxy"))
        head = request.meta.pop(RAW_HEAD_META, None)
        if head is None:
            self.crawler.stats.inc_value("archive/rebuilt_heads")
        body, truncated = self._stored_body(response)
        if truncated:
            self.crawler.stats.inc_value(f"archive/truncated/{truncated}")
        previous = self._compared_with(request, response.status)
        if previous is not None and response.status == 200 and not truncated:
            request.meta[UNCHANGED_META] = payload_digest(body) == previous.payload_digest
        self._submit(
            lambda archiver: archiver.submit_exchange(
                HttpExchange(
                    url=response.url,
                    method=request.method,
                    request_headers=_request_headers(request),
                    request_body=request.body,
                    status=response.status,
                    response_headers=_header_lines(response.headers),
                    body=body,
                    fetched_at=fetched_at,
                    ip_address=None if proxied or response.ip_address is None else str(response.ip_address),
                    protocol=response.protocol or "HTTP/1.1",
                    response_record_id=record_id,
                    response_head=head,
                    truncated=truncated,
                    previous=previous,
                )
            )
        )
        self.crawler.stats.inc_value("archive/responses")

    @staticmethod
    def _compared_with(request: Request, status: int) -> RevisitOf | None:
        """The capture a recheck's answer is compared with: the one holding the article's body,
        except for a 304 the request did not ask for (archived as received, a response record)."""
        check = request.meta.get(RECHECK_META)
        if check is None or check.body is None or (status == NOT_MODIFIED and not conditional(request)):
            return None
        return check.body

    def _stored_body(self, response: Response) -> tuple[bytes, str | None]:
        """The body to archive and its WARC-Truncated reason, if it is not whole."""
        body = response.body
        if self.max_body_size and len(body) > self.max_body_size:
            return body[: self.max_body_size], "length"
        if "dataloss" in response.flags:  # shorter than its Content-Length (DOWNLOAD_FAIL_ON_DATALOSS off)
            return body, "disconnect"
        if "download_stopped" in response.flags:  # another component stopped the download
            return body, "unspecified"
        return body, None

    def item_scraped(self, item: Any, response: Response | Failure | None, spider: Spider) -> None:
        """Submit the metadata record of an article, listing or fetch failure, named after the
        page's URL but not by it (:func:`archive.format.metadata_target`): replay tools must never
        take it for a capture of the page."""
        if isinstance(item, ArticlePage) and item.decision is not None:
            payload = decision_payload(item.outlet, item.decision)
            target, refers_to = metadata_target(payload, item.url), self._record_id(response)
            self._submit(
                lambda a: a.submit_metadata(target, refers_to, payload, datetime.now(timezone.utc), unless_revisit=True)
            )
        counted = isinstance(item, ArticlePage) and (item.decision is None or item.decision["is_article"])
        if isinstance(item, ArticlePage) and item.extraction is not None and counted:
            payload = article_payload(item.outlet, item.extraction)
            target, refers_to = metadata_target(payload, item.url), self._record_id(response)
            self._submit(
                lambda a: a.submit_metadata(target, refers_to, payload, datetime.now(timezone.utc), unless_revisit=True)
            )
            self.crawler.stats.inc_value("archive/articles")
        elif isinstance(item, Listing):
            payload = listing_payload(item.outlet, item.source, item.entries)
            target, refers_to = metadata_target(payload, item.url), self._record_id(response)
            self._submit(lambda a: a.submit_metadata(target, refers_to, payload, datetime.now(timezone.utc)))
        elif isinstance(item, FetchFailure):
            payload = fetch_error_payload(item.outlet, item.error)
            target = metadata_target(payload, item.url)
            self._submit(lambda a: a.submit_metadata(target, None, payload, item.at))
            self.crawler.stats.inc_value("archive/fetch_errors")

    def _record_id(self, response: Response | Failure | None) -> str:
        """The id of the response record archived for this response's request ("" if none was)."""
        request = getattr(response, "request", None)
        return self._record_ids.get(request, "") if isinstance(request, Request) else ""

    def checkpoint(self) -> int:
        """A mark of everything submitted to the archive so far, for :meth:`written`."""
        return self.archiver.batches_submitted if self.archiver is not None else 0

    def written(self, mark: int) -> bool:
        """Whether everything submitted up to ``mark`` is written and forced to disk.

        Always true without an archive (nothing is recorded), never once it failed.
        """
        if self.archiver is None:
            return True
        if self.archiver.failure is not None:
            return False
        return self.archiver.batches_written >= mark

    @property
    def failed(self) -> bool:
        """Whether the archive failed: nothing submitted from now on will be written."""
        return self.archiver is not None and self.archiver.failure is not None

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archiver is None:
            return
        archiver, self.archiver = self.archiver, None
        # waiting for the archiver process to drain its queue and close: not on the reactor's thread
        # (close sends what this turn submitted first)
        await maybe_deferred_to_future(deferToThread(archiver.close))
        stats = self.crawler.stats
        stats.set_value("archive/records_written", archiver.records_written)
        if (counts := archiver.counts) is not None:
            stats.set_value("archive/new_articles", counts.articles)
            stats.set_value("archive/new_article_versions", counts.versions)
            stats.set_value("archive/revisits", counts.revisits)
            stats.set_value("archive/unparseable_urls", counts.unparseable)

    def _submit(self, submit: Any) -> None:
        if self.archiver is None:
            return
        try:
            submit(self.archiver)
        except ArchiverError:
            logger.critical("the archive cannot be written; stopping the crawl", exc_info=True)
            self._stop_crawl()
            return
        self._flush.schedule()

    def _send(self) -> None:
        """Send this turn's submissions to the archiver process."""
        if self.archiver is None:
            return
        try:
            self.archiver.flush()
        except ArchiverError:
            logger.critical("the archive cannot be written; stopping the crawl", exc_info=True)
            self._stop_crawl()

    def _stop_crawl(self) -> None:
        """Close the spider with ``archive_error`` (``scrapy crawl`` then exits with 1)."""
        if self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))

    def _warcinfo(self, spider: Spider) -> dict[str, str]:
        settings = self.crawler.settings
        seed_list = getattr(spider, "seed_list", None)
        outlets = [o.describe() for o in seed_list.outlets] if seed_list else []
        return {
            "software": (
                f"newsarchive/{archive.__version__} (Scrapy {scrapy.__version__}; warcio {version('warcio')}; "
                f"trafilatura {version('trafilatura')}; Python {platform.python_version()})"
            ),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": platform.node(),
            "http-header-user-agent": settings.get("USER_AGENT"),
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "isPartOf": f"{spider.name}:{seed_list.path}" if seed_list else spider.name,
            "description": self._recording_note(),
            OUTLETS_FIELD: outlets_field(outlets),
        }

    def _recording_note(self) -> str:
        """How this crawl's records were made, for warcinfo: it depends on the download handlers."""
        handlers = self.crawler.settings.getwithbase("DOWNLOAD_HANDLERS")
        raw = all(
            (path := handlers.get(scheme)) and issubclass(load_object(path), RawHeadHTTPDownloadHandler)
            for scheme in ("http", "https")
        )
        limit = (
            f"a body longer than {self.max_body_size} bytes is cut there and marked WARC-Truncated: length;"
            if self.max_body_size
            else "bodies are never cut (a download over Scrapy's DOWNLOAD_MAXSIZE is cancelled, not archived);"
        )
        return " ".join([BODY_NOTE.format(limit=limit), RAW_HEAD_NOTE if raw else REBUILT_HEAD_NOTE, REQUEST_NOTE])


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
