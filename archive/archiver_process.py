"""The archiver in a process of its own, so that archiving does not share the crawler's GIL.

Building records, digests, deduplication lookups, CDXJ lines and database
writes are CPU work in Python. In threads of the crawler process they held
the interpreter lock a fifth of the time and Scrapy's event loop waited for
it; in a child process they run on another core. The crawler only queues
picklable submissions (:class:`~archive.warc.records.HttpExchange` and
metadata payloads): a :class:`multiprocessing.Queue` pickles and sends them
from its feeder thread, so a submission never blocks the caller. Like a
buffered file, it sends them in bursts: :meth:`ArchiverProcess.flush` sends
what was submitted since the last one as one message (the recorder flushes
once per turn of the crawler's event loop), and so does every
:data:`FLUSH_AT` th submission and :meth:`ArchiverProcess.close`. One message
per submission cost the crawler a tenth of its time in a recheck crawl of
304s: a wake-up of the feeder thread, a pickling and a pipe write each.

Inside the child an ordinary :class:`~archive.archiver.Archiver` does the
work, so the guarantees are the same: records are written in submission
order, forced to disk before the database hears of them, and the CDXJ index
of each closed file written at once.

Starting takes seconds (a fresh interpreter importing SQLAlchemy, the models
and the ingester), so the child can be started before its settings are known
(:meth:`ArchiverProcess.open` sends them later, say once the spider exists):
its imports then run while the crawler is still starting. Once it has closed
the archive (every record written, synced and indexed, the database engine
disposed) and sent its reply, it ends with :func:`os._exit`: an interpreter
teardown would only free memory, and took longer than the closing itself.

The child lives and dies with its parent. It ignores SIGINT and SIGTERM (a
Ctrl-C in a terminal or a service manager's stop reaches every process of
the group, and the crawler's graceful shutdown needs the archiver to drain
its queue), ends when the parent sends ``close``, and is killed by the kernel
if the parent dies (``PR_SET_PDEATHSIG`` on Linux; elsewhere it looks for a
new parent every second): a crawler killed with SIGKILL leaves its ``.open``
file to recovery exactly as it did when the archiver was a thread. Its log
records are re-emitted in the parent, under their own logger names.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import multiprocessing
import os
import queue
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archive.archiver import ArchiverError
from archive.db.ingester import IngestCounts
from archive.lifetime import parent_death_signal
from archive.opening import ArchiveSettings, open_archive
from archive.warc.records import HttpExchange
from archive.warc.recovery import Recovered

logger = logging.getLogger(__name__)

_CLOSE = ("close",)
#: Submissions held before they are sent without waiting for :meth:`ArchiverProcess.flush`.
FLUSH_AT = 64
#: How often a child without PR_SET_PDEATHSIG checks that its parent is alive, in seconds.
_PARENT_CHECK = 1.0


@dataclass
class _Outcome:
    """What the child reports when it closes."""

    records_written: int = 0
    counts: IngestCounts = field(default_factory=IngestCounts)
    error: str | None = None


class ArchiverProcess:
    """An :class:`~archive.archiver.Archiver` in a child process, with the same interface.

    Start it with its settings, or without and :meth:`open` it later, then call
    :meth:`wait_ready` (it blocks while the child opens the database and
    recovers files) before submitting. One never opened is ended by :meth:`close`.
    Start it from a thread that outlives it, such as the main thread: Linux kills
    the child when the thread that started it ends.
    """

    def __init__(self, settings: ArchiveSettings | None = None) -> None:
        context = multiprocessing.get_context("spawn")  # fork would copy the caller's threads' locks
        self._inbox: multiprocessing.Queue[tuple[Any, ...]] = context.Queue()
        self._replies, child_end = context.Pipe(duplex=False)
        self._logs: multiprocessing.Queue[logging.LogRecord | None] = context.Queue()
        self._written = context.Value("q", 0, lock=False)
        self._failed = context.Value("b", 0, lock=False)
        self._process = context.Process(
            target=_serve,
            args=(self._inbox, child_end, self._logs, self._written, self._failed, os.getpid()),
            name="newsarchive-archiver",
        )
        self._process.start()
        child_end.close()
        self._log_thread = threading.Thread(target=self._relay_logs, name="archiver-logs", daemon=True)
        self._log_thread.start()
        self._pending: list[tuple[Any, ...]] = []
        self.batches_submitted = 0
        self.records_written = 0
        self.counts: IngestCounts | None = None
        self._closed = False
        self._opened = False
        if settings is not None:
            self.open(settings)

    @property
    def pid(self) -> int | None:
        """The archiver process's pid (WARC file names carry it)."""
        return self._process.pid

    @property
    def batches_written(self) -> int:
        """Submissions written and forced to disk so far (distributed crawls confirm requests by it)."""
        return int(self._written.value)

    @property
    def failure(self) -> ArchiverError | None:
        if self._failed.value:
            return ArchiverError("the archiver process failed (its log says why)")
        if not self._closed and not self._process.is_alive():
            return ArchiverError(f"the archiver process died (exit code {self._process.exitcode})")
        return None

    def open(self, settings: ArchiveSettings) -> None:
        """Have the child open the archive with ``settings`` (:meth:`wait_ready` says when it has)."""
        if self._opened:
            raise ArchiverError("the archiver process was opened already")
        self._opened = True
        self._inbox.put(("open", settings))

    def wait_ready(self) -> list[Recovered]:
        """Block until the archive is open; the files recovered on the way. Raises if it cannot open."""
        reply = self._receive()
        if reply[0] != "ready":
            self._finish()
            raise ArchiverError(f"the archive could not be opened: {reply[1]}")
        recovered: list[Recovered] = reply[1]
        return recovered

    def submit_exchange(self, exchange: HttpExchange) -> None:
        """Queue a request/response pair, sent at the next :meth:`flush`; never blocks."""
        self._submit(("exchange", exchange))

    def submit_metadata(
        self,
        target_uri: str,
        refers_to: str | None,
        payload: dict[str, Any],
        moment: datetime,
        unless_revisit: bool = False,
    ) -> None:
        """Queue a JSON metadata record (see :meth:`Archiver.submit_metadata`), sent at the next :meth:`flush`;
        never blocks."""
        self._submit(("metadata", target_uri, refers_to, payload, moment, unless_revisit))

    def flush(self) -> None:
        """Send what was submitted since the last flush, as one message; never blocks. Raises if the
        archiver failed (what was not sent is lost with it)."""
        if not self._pending:
            return
        failure = self.failure
        if failure is not None:
            self._pending.clear()
            raise failure
        pending, self._pending = self._pending, []
        self._inbox.put(("submissions", pending))

    def close(self) -> None:
        """Write and index everything queued, close the WARC file, and report any failure.
        A process never opened just ends."""
        if self._closed:
            return
        with contextlib.suppress(ArchiverError):  # a failed archiver's reply below says why
            self.flush()
        self._inbox.put(_CLOSE)
        reply = self._receive()
        self._finish()
        if not self._opened:
            return
        if reply[0] != "closed":
            raise ArchiverError(f"archiving failed: {reply[1]}")
        outcome: _Outcome = reply[1]
        self.records_written, self.counts = outcome.records_written, outcome.counts
        if outcome.error is not None:
            raise ArchiverError(f"archiving failed: {outcome.error}")

    def _submit(self, message: tuple[Any, ...]) -> None:
        if self._failed.value:  # (a dead child is found by the flush, which asks the operating system)
            raise ArchiverError("the archiver process failed (its log says why)")
        self._pending.append(message)
        self.batches_submitted += 1
        if len(self._pending) >= FLUSH_AT:
            self.flush()

    def _receive(self) -> tuple[Any, ...]:
        try:
            reply: tuple[Any, ...] = self._replies.recv()
        except EOFError:
            self._process.join()
            reply = ("died", f"the archiver process died (exit code {self._process.exitcode})")
        return reply

    def _finish(self) -> None:
        self._closed = True
        self._process.join()
        self._logs.put(None)
        self._log_thread.join()
        self._inbox.close()
        self._replies.close()

    def _relay_logs(self) -> None:
        while (record := self._logs.get()) is not None:
            logging.getLogger(record.name).handle(record)


def _serve(
    inbox: multiprocessing.Queue[tuple[Any, ...]],
    replies: Any,
    logs: multiprocessing.Queue[logging.LogRecord | None],
    written: Any,
    failed: Any,
    parent: int,
) -> None:
    """The child: wait for its settings, open the archive, then hand every submission to an Archiver
    until ``close``; then end at once, leaving nothing to an interpreter teardown."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    arm = parent_death_signal(signal.SIGKILL, parent)
    dies_with_parent = arm is not None and arm()  # (killed at once if the parent is already gone)
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(logs)]
    if not _archive(inbox, replies, written, failed, parent, dies_with_parent):
        # every reply is sent (a pipe write returns once the parent can read it); the log records
        # still queued in this process go out before it ends
        logs.close()
        logs.join_thread()
    os._exit(0)


def _archive(
    inbox: multiprocessing.Queue[tuple[Any, ...]],
    replies: Any,
    written: Any,
    failed: Any,
    parent: int,
    dies_with_parent: bool,
) -> bool:
    """The child's work, until the parent says ``close`` or is gone; whether it is gone."""

    def next_message() -> tuple[Any, ...] | None:
        """The next message from the parent; None once the parent is gone."""
        while True:
            try:
                message: tuple[Any, ...] = inbox.get(timeout=None if dies_with_parent else _PARENT_CHECK)
            except queue.Empty:
                if os.getppid() != parent:
                    return None
                continue
            return message

    def on_written(batches: int) -> None:
        written.value = batches

    message = next_message()
    if message is None:
        return True  # orphaned before it was opened: nothing written
    if message == _CLOSE:  # never opened
        replies.send(("closed", _Outcome()))
        return False
    settings: ArchiveSettings = message[1]
    logging.getLogger().setLevel(settings.log_level)
    try:
        archiver, recovered = open_archive(settings, on_written=on_written)
    except Exception as e:  # noqa: BLE001 - reported to the parent, which stops the crawl
        logger.exception("the archive could not be opened")
        replies.send(("failed", repr(e)))
        return False
    replies.send(("ready", recovered))
    outcome = _Outcome()
    while True:
        message = next_message()
        if message is None:
            return True  # orphaned: leave the open file to recovery, as a killed crawler would
        if message == _CLOSE:
            break
        for submission in message[1]:
            if failed.value:
                break  # the parent stops the crawl; what is still queued cannot be written
            try:
                if submission[0] == "exchange":
                    archiver.submit_exchange(submission[1])
                else:
                    archiver.submit_metadata(*submission[1:])
            except ArchiverError:
                failed.value = 1
            if archiver.failure is not None:
                failed.value = 1
    try:
        archiver.close()
    except ArchiverError as e:
        outcome.error = str(e)
    outcome.records_written = archiver.records_written
    if archiver.ingester is not None:
        outcome.counts = archiver.ingester.counts
    replies.send(("closed", outcome))
    return False
