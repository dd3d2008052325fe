"""Archiving off the crawler's event loop: a writer thread and an indexer thread.

The crawler hands over exchanges and extraction results and returns at once.
One thread builds the records (digests are computed here) and writes them;
it passes what it wrote, in order, to a second thread that indexes it into
the database in batches. Because the database only ever learns of a record
after it is in a WARC file, it can never point at a record that is not there;
and because both threads keep submission order, an article's metadata record
is always indexed after the response it refers to.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from warcio.recordloader import ArcWarcRecord

from archive.ingest import Ingester
from archive.warc.records import ArchivedRecord, HttpExchange, exchange_records, metadata_record
from archive.warc.writer import WarcWriter

logger = logging.getLogger(__name__)

_STOP = object()


class ArchiverError(RuntimeError):
    """The archive can no longer be written; the crawl must stop rather than lose pages."""


class Archiver:
    """Writes records to WARC files and indexes them, each in its own thread."""

    def __init__(self, writer: WarcWriter, ingester: Ingester | None, batch_size: int = 200) -> None:
        self.writer = writer
        self.ingester = ingester
        self.batch_size = batch_size
        self.failure: BaseException | None = None
        self.records_written = 0
        self._to_write: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._to_index: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._guard, args=(self._write_loop,), name="warc-writer", daemon=True),
            threading.Thread(target=self._guard, args=(self._index_loop,), name="db-indexer", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def submit_exchange(self, exchange: HttpExchange) -> None:
        """Queue a request/response pair; never blocks."""
        self._submit(lambda: list(exchange_records(exchange, self.writer.builder)))

    def submit_metadata(self, url: str, refers_to: str | None, payload: dict[str, Any], moment: datetime) -> None:
        """Queue a JSON metadata record (an extraction result, a fetch error)."""
        self._submit(lambda: [metadata_record(self.writer.builder, url, refers_to, payload, moment)])

    def close(self) -> None:
        """Write and index everything queued, close the WARC file, and report any failure."""
        self._to_write.put(_STOP)
        for thread in self._threads:
            thread.join()
        self.writer.close()
        if self.failure is not None:
            raise ArchiverError(f"archiving failed: {self.failure!r}") from self.failure

    def _submit(self, build: Callable[[], list[ArcWarcRecord]]) -> None:
        if self.failure is not None:
            raise ArchiverError(f"archiving failed: {self.failure!r}") from self.failure
        self._to_write.put(build)

    def _guard(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        except BaseException as e:  # noqa: BLE001 - reported through close() and submit
            logger.exception("archiver thread %s failed", threading.current_thread().name)
            self.failure = e
            self._to_index.put(_STOP)

    def _write_loop(self) -> None:
        while (build := self._to_write.get()) is not _STOP:
            written = self.writer.write(build())
            self.records_written += len(written)
            for record in written:
                if record.rec_type != "request":
                    self._to_index.put(record)
        self._to_index.put(_STOP)

    def _index_loop(self) -> None:
        stopping = False
        while not stopping:
            batch: list[ArchivedRecord] = []
            item = self._to_index.get()
            while item is not _STOP:
                batch.append(item)
                if len(batch) >= self.batch_size:
                    break
                try:
                    item = self._to_index.get_nowait()
                except queue.Empty:
                    break
            stopping = item is _STOP
            if batch and self.ingester is not None:
                self.ingester.ingest(batch)
