"""Archiving off the crawler's event loop: a writer thread and an indexer thread.

The crawler hands over exchanges and extraction results and returns at once.
One thread builds the records (digests are computed here) and writes them;
it passes what it wrote, in order, to a second thread that indexes it into
the database in batches. Because the database only ever learns of a record
after it is in a WARC file, it can never point at a record that is not there;
and because both threads keep submission order, an article's metadata record
is always indexed after the response it refers to.

The writer takes whatever is queued (up to ``batch_size`` submissions) as one
group: written and flushed, then, with ``fsync``, forced to disk once for the
whole group before the database hears of it, so even a power cut cannot
leave the database pointing past the end of a WARC file. Each closed WARC
file gets its CDXJ index file at once, from the lines gathered while it was
written (nothing is read back).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from warcio.recordloader import ArcWarcRecord

from archive.db.ingester import Ingester
from archive.dedup import DigestIndex, not_modified
from archive.errors import NewsArchiveError
from archive.index import IndexStore, cdxj_line
from archive.warc.records import ArchivedRecord, HttpExchange, exchange_records, metadata_record
from archive.warc.writer import WarcWriter

logger = logging.getLogger(__name__)

_STOP = object()
#: Revisit record ids remembered for ``unless_revisit``: far more than can be in flight.
RECENT_REVISITS = 100_000
#: Submissions written as one group, and records indexed per database transaction.
DEFAULT_BATCH_SIZE = 200


class ArchiverError(NewsArchiveError, RuntimeError):
    """The archive can no longer be written; the crawl must stop rather than lose pages."""


class Archiver:
    """Writes records to WARC files and indexes them, each in its own thread."""

    def __init__(
        self,
        writer: WarcWriter,
        ingester: Ingester | None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        fsync: bool = False,
        index: IndexStore | None = None,
        dedup: DigestIndex | None = None,
        on_written: Callable[[int], None] | None = None,
        on_closed: Callable[[], None] | None = None,
    ) -> None:
        self.writer = writer
        self.ingester = ingester
        self.dedup = dedup
        self._revisits: OrderedDict[str | None, None] = OrderedDict()  # response ids written as revisits
        self.batch_size = batch_size
        self.fsync = fsync
        self.index = index
        self._index_lines: dict[str, list[str]] = {}
        if index is not None:
            writer.on_close = self._file_closed
        self.failure: BaseException | None = None
        self.records_written = 0
        # Submissions queued and written (each a group of records, flushed together): a caller that
        # notes batches_submitted knows everything it submitted so far is on disk once
        # batches_written reaches it (distributed crawls confirm requests this way).
        self.batches_submitted = 0
        self.batches_written = 0
        self._on_written = on_written  # told batches_written after each group is on disk
        # run by close() once everything is written and indexed: the opener releases the database there,
        # so that a process may end at once afterwards (the archiver process does)
        self._on_closed = on_closed
        self._to_write = _Inbox()
        self._to_index = _Inbox()
        self._threads = [
            threading.Thread(target=self._guard, args=(self._write_loop,), name="warc-writer", daemon=True),
            threading.Thread(target=self._guard, args=(self._index_loop,), name="db-indexer", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def submit_exchange(self, exchange: HttpExchange) -> None:
        """Queue a request/response pair; never blocks. An unchanged body becomes a revisit record."""

        def build() -> list[ArcWarcRecord]:
            revisit_of = self.dedup.revisit_of(exchange) if self.dedup is not None else not_modified(exchange)
            if revisit_of is not None:
                self._revisits[exchange.response_record_id] = None
                while len(self._revisits) > RECENT_REVISITS:
                    self._revisits.popitem(last=False)
            return list(exchange_records(exchange, self.writer.builder, revisit_of))

        self._submit(build)

    def submit_metadata(
        self,
        target_uri: str,
        refers_to: str | None,
        payload: dict[str, Any],
        moment: datetime,
        unless_revisit: bool = False,
    ) -> None:
        """Queue a JSON metadata record (an extraction result, a fetch error) under ``target_uri``
        (:func:`archive.format.metadata_target`).

        With ``unless_revisit``, nothing is written if the response it refers to was
        written as a revisit: an extraction of an unchanged body repeats the original's.
        The writer knows, since it handles submissions in order.
        """

        def build() -> list[ArcWarcRecord]:
            if unless_revisit and refers_to in self._revisits:
                return []
            return [metadata_record(self.writer.builder, target_uri, refers_to, payload, moment)]

        self._submit(build)

    def close(self) -> None:
        """Write and index everything queued, close the WARC file, and report any failure."""
        self._to_write.close()
        for thread in self._threads:
            thread.join()
        self.writer.close()
        if self._on_closed is not None:
            self._on_closed()
        if self.failure is not None:
            raise ArchiverError(f"archiving failed: {self.failure!r}") from self.failure

    def _submit(self, build: Callable[[], list[ArcWarcRecord]]) -> None:
        if self.failure is not None:
            raise ArchiverError(f"archiving failed: {self.failure!r}") from self.failure
        self._to_write.put(build)
        self.batches_submitted += 1

    def _guard(self, loop: Callable[[], None]) -> None:
        try:
            loop()
        except BaseException as e:  # noqa: BLE001 - reported through close() and submit
            logger.exception("archiver thread %s failed", threading.current_thread().name)
            self.failure = e
            self._to_index.close()

    def _write_loop(self) -> None:
        while not self._to_write.closed:
            written: list[ArchivedRecord] = []
            builds = 0
            for build in self._to_write.group(self.batch_size):
                records = self.writer.write(build())
                # gathered before the next write, which may close this file and index it
                self._gather_index_lines(records)
                written += records
                builds += 1
            if self.fsync:
                self.writer.sync()
            self.records_written += len(written)
            self.batches_written += builds
            if self._on_written is not None:
                self._on_written(self.batches_written)
            for record in written:
                if record.rec_type != "request":
                    self._to_index.put(record)
        self._to_index.close()

    def _gather_index_lines(self, records: list[ArchivedRecord]) -> None:
        if self.index is None:
            return
        for record in records:
            if line := cdxj_line(record):
                self._index_lines.setdefault(record.location.filename, []).append(line)

    def _file_closed(self, path: Path) -> None:
        assert self.index is not None
        self.index.write(path.name, self._index_lines.pop(path.name, []))

    def _index_loop(self) -> None:
        while not self._to_index.closed:
            batch = list(self._to_index.group(self.batch_size))
            if batch and self.ingester is not None:
                self.ingester.ingest(batch)


class _Inbox:
    """A queue between two threads, read in groups: whatever is waiting is handled together
    (one write and fsync, one database transaction), so a busy crawl pays for fewer of them."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.closed = False  # set by the reader once it has met the end

    def put(self, item: Any) -> None:
        self._queue.put(item)

    def close(self) -> None:
        """Nothing more will be put: the reader ends after what is queued."""
        self._queue.put(_STOP)

    def group(self, limit: int) -> Iterator[Any]:
        """The next item (waiting for it), then those already queued behind it, up to ``limit``."""
        item = self._queue.get()
        taken = 0
        while item is not _STOP:
            yield item
            taken += 1
            if taken >= limit:
                return
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
        self.closed = True
