"""Rebuilding the database from the WARC files alone.

The WARCs are the archive; the database is an index over them. A rebuild
reads closed WARC files in name order (time order for this project's names)
through the same :class:`~archive.db.ingester.Ingester` the crawler uses, so
the rebuilt database holds what the crawl's did. A damaged or foreign file
is indexed up to the damage and reported (file and offset), and the files
after it are indexed all the same. A record the ingester cannot index (a
value the database refuses, a bug meeting odd data) is reported with its
file, offset and error and left out; the rest of its file goes on.

Rows point at a file by its name in the WARC folder, so a file to index
from elsewhere is first copied into the folder (:func:`bring_into`).
"""

from __future__ import annotations

import filecmp
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from archive.db.ingester import DEFAULT_BATCH, Ingester
from archive.errors import NewsArchiveError
from archive.warc.files import WARC_SUFFIX, sync_directory
from archive.warc.reader import DamagedWarc, checked_records
from archive.warc.records import ArchivedRecord

__all__ = ["ForeignFileError", "RebuildProgress", "RebuildReport", "SkippedRecord", "bring_into", "rebuild"]

logger = logging.getLogger(__name__)


@dataclass
class RebuildProgress:
    files_done: int
    files_total: int
    records: int
    current: Path | None


@dataclass(frozen=True)
class SkippedRecord:
    """A record left out of the index: where it is, and why."""

    path: Path
    offset: int
    record_id: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: record {self.record_id} at offset {self.offset} not indexed: {self.reason}"


@dataclass
class RebuildReport:
    files: int = 0
    records: int = 0
    damaged: list[DamagedWarc] = field(default_factory=list)
    skipped: list[SkippedRecord] = field(default_factory=list)


class ForeignFileError(NewsArchiveError):
    """A file to be copied into the WARC folder clashes with one already there."""


def rebuild(
    ingester: Ingester,
    files: Sequence[Path],
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[RebuildProgress], None] | None = None,
) -> RebuildReport:
    """Index every record of the files, in order; damaged files are listed in the report."""
    report = RebuildReport(files=len(files))
    for done, path in enumerate(files):

        def indexed(count: int, done: int = done, path: Path = path) -> None:
            report.records += count
            if progress:
                progress(RebuildProgress(done, len(files), report.records, path))

        def bad(record: ArchivedRecord, error: Exception, path: Path = path) -> None:
            reason = f"{type(error).__name__}: {error}".splitlines()[0][:300]
            skipped = SkippedRecord(path, record.location.offset, record.record_id, reason)
            logger.warning("%s", skipped)
            report.skipped.append(skipped)

        try:
            ingester.ingest_all(checked_records(path), batch_size, indexed, bad)
        except DamagedWarc as damage:
            report.damaged.append(damage)
        if progress:
            progress(RebuildProgress(done + 1, len(files), report.records, None))
    return report


def bring_into(warc_dir: Path, files: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """The files as they are in the WARC folder, copying there those that are elsewhere.

    Returns every file's path in the folder (in the given order) and the copies made.
    A file not named like the folder's WARC files, or whose name the folder already
    uses for a different file, is refused with :class:`ForeignFileError` before
    anything is copied; one identical to the file there is not copied again. A copy
    is written under a hidden name, synced and then renamed, so the folder never
    holds half of one.
    """
    folder = warc_dir.resolve()
    placed: list[tuple[Path, Path]] = []
    for path in files:
        if path.resolve().parent == folder:
            placed.append((path, path))
            continue
        there = warc_dir / path.name
        if not path.name.endswith(WARC_SUFFIX) or path.name.startswith("."):
            raise ForeignFileError(
                f"{path}: the WARC folder holds only gzip WARC files named *{WARC_SUFFIX}, one gzip member "
                "per record (`warcio recompress` makes one); rename or recompress it to add it to the archive"
            )
        if there.exists() and not filecmp.cmp(path, there, shallow=False):
            raise ForeignFileError(
                f"{path}: the WARC folder {warc_dir} already holds a different file named {path.name}; "
                "rename one of them (WARC file names must be unique within an archive)"
            )
        placed.append((path, there))
    copied: list[Path] = []
    for source, there in placed:
        if source is there or there.exists():
            continue
        warc_dir.mkdir(parents=True, exist_ok=True)
        partial = warc_dir / f".{there.name}.copying"
        with source.open("rb") as src, partial.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, there)
        copied.append(there)
    if copied:
        sync_directory(warc_dir)
    return [there for _, there in placed], copied
