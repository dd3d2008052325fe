"""Rebuilding the database from the WARC files alone.

The WARCs are the archive; the database is an index over them. A rebuild
reads closed WARC files in name order (time order for this project's names)
through the same :class:`~archive.db.ingester.Ingester` the crawler uses, so
the rebuilt database holds what the crawl's did. A damaged or foreign file
is indexed up to the damage and reported (file and offset), and the files
after it are indexed all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from archive.db.ingester import DEFAULT_BATCH, Ingester
from archive.warc.reader import DamagedWarc, checked_records

__all__ = ["RebuildProgress", "RebuildReport", "rebuild"]


@dataclass
class RebuildProgress:
    files_done: int
    files_total: int
    records: int
    current: Path | None


@dataclass
class RebuildReport:
    files: int = 0
    records: int = 0
    damaged: list[DamagedWarc] = field(default_factory=list)


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

        try:
            ingester.ingest_all(checked_records(path), batch_size, indexed)
        except DamagedWarc as damage:
            report.damaged.append(damage)
        if progress:
            progress(RebuildProgress(done + 1, len(files), report.records, None))
    return report
