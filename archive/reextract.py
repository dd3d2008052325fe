"""Re-extraction: archived responses read again by the current extractor, beside what the crawl read.

When the extractor improves (:data:`archive.extract.EXTRACTOR_VERSION`), the
captures extracted by an older version can be read again from their WARC
records. Each result is written first as a ``reextraction/1`` metadata
record (:mod:`archive.format`) in a new WARC file of this run, through the
same archiver as a crawl's records (:class:`archive.archiver.Archiver`:
written, forced to disk, then indexed), so the database can still be rebuilt
from the WARCs alone. The ingester keeps those results in a chain of
versions of their own (:mod:`archive.db.reextractions`): the crawl-time
versions, their observations and the WARC files holding them are never
changed, and a text the new extractor reads differently is never taken for
an edit by the outlet.

Extraction runs in a pool of worker processes (pebble's, as the crawler's
pipeline: a worker stuck on a page past the timeout, or killed, is replaced
and costs only that page), reading each response from its WARC file itself.
Captures are taken a chunk at a time, by capture id, with the next chunk
already extracting while one is written: memory stays bounded however large
the archive. A page that cannot be read or extracted is counted and the run
goes on; nothing is written for it, so the next run tries it again.

A run is safe to interrupt and to start again: the captures the current
extractor version already re-extracted are not selected again, and a run
killed outright leaves its WARC file open, which the next run closes and
indexes first (as a crawl does).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import platform
import secrets
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pebble import ProcessExpired, ProcessPool
from sqlalchemy import Select, func, select
from w3lib.encoding import html_to_unicode

from archive import __version__
from archive.archiver import Archiver
from archive.config import ArchivePaths
from archive.db.identity import content_hash
from archive.db.ingester import Ingester
from archive.db.models import Capture
from archive.db.reextractions import Candidate, candidates_query
from archive.db.session import open_database, session_factory
from archive.extract import EXTRACTOR, EXTRACTOR_VERSION, Extraction, extract_article
from archive.format import metadata_target, reextraction_payload
from archive.index import IndexStore
from archive.opening import recover_archive
from archive.warc.reader import read_record
from archive.warc.writer import WarcWriter

__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_TIMEOUT",
    "ReextractCounts",
    "ReextractProgress",
    "ReextractReport",
    "Selection",
    "pending_by_outlet",
    "reextract",
]

logger = logging.getLogger(__name__)

#: Captures taken from the database, and extracted, per chunk.
DEFAULT_CHUNK = 256
#: Seconds one page may take before its worker is stopped (the crawler's EXTRACTION_TIMEOUT default).
DEFAULT_TIMEOUT = 30.0
#: Errors kept, with their capture, for the report (all are counted and logged).
REPORTED_ERRORS = 20


@dataclass(frozen=True)
class Selection:
    """Which captures to re-extract: those of an outlet, fetched in a time range (naive UTC), or all.

    Only captures whose crawl-time version was read by another extractor version, unless ``force``;
    never one the current version already re-extracted.
    """

    outlet: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    force: bool = False


@dataclass
class ReextractCounts:
    selected: int = 0  # captures to do when the run started
    changed: int = 0  # re-extracted, headline or text different from the crawl-time version
    unchanged: int = 0  # re-extracted, the same headline and text
    no_article: int = 0  # re-extracted, no article text for this extractor
    errors: int = 0  # not re-extracted: unreadable record, extraction failed or took too long

    @property
    def reextracted(self) -> int:
        return self.changed + self.unchanged + self.no_article

    @property
    def done(self) -> int:
        return self.reextracted + self.errors


@dataclass(frozen=True)
class ReextractProgress:
    done: int
    total: int
    counts: ReextractCounts


@dataclass
class ReextractReport:
    run: str
    counts: ReextractCounts
    warc_files: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the first REPORTED_ERRORS, with their capture
    interrupted: bool = False  # stopped by Ctrl-C: what was done is kept, a new run goes on


def pending_by_outlet(paths: ArchivePaths, selection: Selection) -> dict[str | None, int]:
    """How many captures a run would re-extract, by outlet (None: no outlet); nothing is written."""
    engine = open_database(paths.database_url)
    try:
        pending = _query(selection).subquery()
        with session_factory(engine)() as session:
            rows = session.execute(select(pending.c.outlet, func.count()).group_by(pending.c.outlet)).all()
    finally:
        engine.dispose()
    return {outlet: count for outlet, count in rows}


def reextract(
    paths: ArchivePaths,
    selection: Selection,
    workers: int | None = None,
    chunk: int = DEFAULT_CHUNK,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[ReextractProgress], None] | None = None,
) -> ReextractReport:
    """Re-extract the selected captures with the current extractor, in ``workers`` processes (all cores
    by default); each result is written to this run's WARC file, then indexed.

    Ctrl-C (``KeyboardInterrupt``, from anywhere in the loop, ``progress`` included) stops the workers,
    and every result obtained so far is written and indexed before the report (``interrupted``) comes back;
    any other exception does the same on its way up.
    """
    run = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    report = ReextractReport(run, ReextractCounts())
    engine = open_database(paths.database_url)
    sessions = session_factory(engine)
    ingester, index = Ingester(sessions), IndexStore(paths.index_dir)
    try:
        # first: the file a killed run left open is closed and indexed before anything is selected
        recover_archive(paths, ingester, index)
        archiver = Archiver(WarcWriter(paths.warc_dir, info=_warcinfo(run)), ingester, fsync=True, index=index)
    except BaseException:
        engine.dispose()
        raise
    pool = ProcessPool(workers or os.cpu_count() or 1, context=multiprocessing.get_context("spawn"))
    counts = report.counts
    try:
        query = _query(selection)
        with sessions() as session:
            counts.selected = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        # the next chunk extracts while one is written: at most two chunks in memory
        in_flight: deque[list[tuple[Candidate, Future[Extraction | None]]]] = deque()
        last, exhausted = 0, False
        while True:
            while not exhausted and len(in_flight) < 2:
                with sessions() as session:
                    rows = session.execute(query.where(Capture.id > last).limit(chunk)).all()
                exhausted = not rows
                if rows:
                    last = rows[-1].capture_id
                    jobs = [Candidate(**row._mapping) for row in rows]
                    in_flight.append([(job, _schedule(pool, paths.warc_dir, job, timeout)) for job in jobs])
            if not in_flight:
                break
            for job, future in in_flight.popleft():
                try:
                    extraction = future.result()
                except Exception as e:  # noqa: BLE001 - an unreadable record or a failed page costs that capture only
                    _failed(job, e, report)
                else:
                    _write(archiver, run, job, extraction, counts)
                if progress is not None:
                    progress(ReextractProgress(counts.done, counts.selected, counts))
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        pool.stop()
        pool.join()
        try:
            archiver.close()
        finally:
            engine.dispose()
        report.warc_files = list(archiver.writer.closed_files)
    return report


def _query(selection: Selection) -> Select[Any]:
    return candidates_query(
        EXTRACTOR_VERSION,
        outlet=selection.outlet,
        since=selection.since,
        until=selection.until,
        force=selection.force,
    )


def _schedule(pool: ProcessPool, warc_dir: Path, job: Candidate, timeout: float) -> Future[Extraction | None]:
    args = (str(warc_dir / job.warc_filename), job.warc_offset, job.url, job.fetched_at, job.content_type)
    # pebble counts the timeout from when a worker starts the page, not while it waits its turn
    return pool.schedule(extract_capture, args, timeout=timeout or None)


def extract_capture(
    path: str, offset: int, url: str, fetched_at: datetime, content_type: str | None
) -> Extraction | None:
    """The current extractor's reading of an archived response (run in a worker process).

    The body is decoded as the crawler decoded it before extracting (Scrapy's ``response.text``:
    w3lib's ``html_to_unicode`` on the Content-Type and the bytes), so a text that differs is the
    extractor's doing, not the decoding's.
    """
    body = read_record(path, offset).content_stream().read()
    _, html = html_to_unicode(content_type, body)
    return extract_article(html, url, fetched_at.replace(tzinfo=timezone.utc))


def _failed(job: Candidate, error: Exception, report: ReextractReport) -> None:
    """Count and log a capture that could not be re-extracted; keep the first few for the report."""
    if isinstance(error, TimeoutError):
        why = "extraction took too long; its worker was stopped"
    elif isinstance(error, ProcessExpired):
        why = f"the worker process died (exit code {error.exitcode})"
    else:
        why = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    message = f"{job.url} (capture {job.response_record_id} in {job.warc_filename}): {why}"
    logger.warning("not re-extracted: %s", message)
    report.counts.errors += 1
    if len(report.errors) < REPORTED_ERRORS:
        report.errors.append(message)


def _write(
    archiver: Archiver, run: str, job: Candidate, extraction: Extraction | None, counts: ReextractCounts
) -> None:
    payload = reextraction_payload(job.outlet, run, job.original_record_id, (EXTRACTOR, EXTRACTOR_VERSION), extraction)
    archiver.submit_metadata(
        metadata_target(payload, job.url), job.response_record_id, payload, datetime.now(timezone.utc)
    )
    if extraction is None:
        counts.no_article += 1
    elif content_hash(extraction.title, extraction.text) == job.original_hash:
        counts.unchanged += 1
    else:
        counts.changed += 1


def _warcinfo(run: str) -> dict[str, str]:
    """The warcinfo of the run's WARC file: what wrote it, and with which extractor."""
    return {
        "software": (
            f"newsarchive/{__version__} (warcio {version('warcio')}; trafilatura {version('trafilatura')}; "
            f"Python {platform.python_version()})"
        ),
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "hostname": platform.node(),
        "isPartOf": f"reextract:{run}",
        "description": (
            f"newsarchive reextract, run {run}: reextraction/1 records of archived responses (WARC-Refers-To), "
            f"extracted again by {EXTRACTOR} {EXTRACTOR_VERSION}; the original records are unchanged"
        ),
    }
