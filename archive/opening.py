"""Opening an archive for writing: the database, abandoned files, the writer, in that order.

Opening is where the layers meet. The WARC layer closes the files a killed
crawl left open (:func:`archive.warc.recovery.recover`) and reports them;
this module indexes what it closed, into the CDXJ index and the database,
before anything new is written. The crawler's archiver process and
``newsarchive recover`` both go through :func:`recover_archive`, so a file
is recovered and indexed the same way whoever finds it.

A recovered file is indexed as far as it reads (a file of another tool may
be damaged past some offset), and a file that cannot be indexed is reported
in its :class:`~archive.warc.recovery.Recovered` result: the other files are
indexed all the same, and the crawl starts.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.archiver import DEFAULT_BATCH_SIZE, Archiver
from archive.config import ArchivePaths
from archive.db.ingester import Ingester
from archive.db.session import open_database, session_factory
from archive.dedup import DigestIndex
from archive.index import IndexStore
from archive.index.cdxj import cdxj_line
from archive.warc.reader import DamagedWarc, checked_records
from archive.warc.recovery import Recovered, recover
from archive.warc.writer import DEFAULT_COMPRESSION, DEFAULT_MAX_SIZE, DEFAULT_PREFIX, WarcWriter

__all__ = ["DEFAULT_FSYNC", "ArchiveSettings", "open_archive", "recover_archive"]

logger = logging.getLogger(__name__)

#: Whether each group of records is forced to disk before the database hears of it.
DEFAULT_FSYNC = True


@dataclass(frozen=True)
class ArchiveSettings:
    """Everything needed to open an archive for writing (picklable, for the archiver process)."""

    paths: ArchivePaths
    info: dict[str, str]  # the warcinfo record's fields
    prefix: str = DEFAULT_PREFIX
    max_size: int = DEFAULT_MAX_SIZE
    compression: int = DEFAULT_COMPRESSION
    batch_size: int = DEFAULT_BATCH_SIZE
    fsync: bool = DEFAULT_FSYNC
    dedup: bool = True
    log_level: int = logging.INFO


def recover_archive(paths: ArchivePaths, ingester: Ingester, index: IndexStore) -> list[Recovered]:
    """Close the WARC files a killed crawl left open, and index what they kept (CDXJ and database)."""
    return [_indexed(result, ingester, index) if result.closed else result for result in recover(paths.warc_dir)]


def _indexed(result: Recovered, ingester: Ingester, index: IndexStore) -> Recovered:
    """Index one closed file, as far as it reads; what could not be indexed joins the result's problems."""
    problems = []
    steps: list[tuple[str, Callable[[], None]]] = [
        ("CDXJ index", lambda: _index_cdxj(result.path, index)),
        ("database", lambda: ingester.ingest_all(checked_records(result.path))),
    ]
    for what, step in steps:
        try:
            step()
        except DamagedWarc as damage:
            problems.append(f"{what}: indexed up to offset {damage.offset}: {damage.reason}")
        except Exception as e:  # noqa: BLE001 - one file must not stop the others, nor the crawl
            logger.exception("indexing %s into the %s failed", result.path, what)
            problems.append(f"{what}: not indexed: {type(e).__name__}: {e}")
    for problem in problems:
        logger.warning("%s: %s", result.path.name, problem)
    return dataclasses.replace(result, problems=result.problems + tuple(problems)) if problems else result


def _index_cdxj(path: Path, index: IndexStore) -> None:
    """Write a file's CDXJ lines, for the records read before any damage (which is raised after)."""
    lines: list[str] = []
    try:
        lines.extend(line for record in checked_records(path) if (line := cdxj_line(record)))
    finally:
        index.write(path.name, lines)


def open_archive(settings: ArchiveSettings, **archiver_options: Any) -> tuple[Archiver, list[Recovered]]:
    """Open the database (migrating it), recover abandoned files, and start an archiver (whose ``close``
    also closes the database's connections)."""
    engine = open_database(settings.paths.database_url)
    ingester = Ingester(session_factory(engine))
    index = IndexStore(settings.paths.index_dir)
    recovered = recover_archive(settings.paths, ingester, index)
    writer = WarcWriter(
        settings.paths.warc_dir,
        info=settings.info,
        prefix=settings.prefix,
        max_size=settings.max_size,
        compression=settings.compression,
    )
    archiver = Archiver(
        writer,
        ingester,
        settings.batch_size,
        fsync=settings.fsync,
        index=index,
        dedup=DigestIndex(engine) if settings.dedup else None,
        on_closed=engine.dispose,
        **archiver_options,
    )
    logger.info(
        "archiving to %s (database %s) in process %d",
        settings.paths.warc_dir,
        engine.url.render_as_string(),
        os.getpid(),
    )
    return archiver, recovered
