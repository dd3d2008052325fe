"""The CDXJ index of a WARC folder: one sorted ``<WARC name>.cdxj`` per closed WARC file.

One index file per WARC file means closing a WARC never rewrites an index
that grows with the archive, a rebuilt file replaces exactly one, and pywb
reads the folder as it is (it merges every ``.cdxj`` of an index directory).
Lookups binary-search each file and merge the answers with ``heapq.merge``;
they never read a WARC. Index files are written whole under a temporary
name and renamed, so a reader never sees half of one, and an ``.open`` WARC
is never indexed.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from archive.index.cdxj import CdxjEntry, cdxj_line, parse_line, timestamp
from archive.index.surt import surt
from archive.warc.files import closed_warcs
from archive.warc.reader import iter_records

__all__ = ["INDEX_SUFFIX", "IndexStore"]

INDEX_SUFFIX = ".cdxj"


class IndexStore:
    """Index files in one directory, for the closed WARC files of one folder."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def index_path(self, warc_name: str) -> Path:
        return self.directory / (warc_name + INDEX_SUFFIX)

    def files(self) -> list[Path]:
        """The index files, in WARC name order."""
        return sorted(self.directory.glob(f"*{INDEX_SUFFIX}")) if self.directory.is_dir() else []

    def write(self, warc_name: str, lines: Iterable[str]) -> Path:
        """Sort and store the lines of one WARC file, replacing its index file whole."""
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.index_path(warc_name)
        temporary = final.with_name(final.name + ".tmp")
        with temporary.open("w", encoding="utf-8", newline="\n") as out:
            out.writelines(sorted(lines))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
        return final

    def index_warc(self, path: str | os.PathLike[str]) -> Path:
        """Index a closed WARC file by reading it."""
        path = Path(path)
        return self.write(path.name, (line for record in iter_records(path) if (line := cdxj_line(record))))

    def rebuild(self, warc_dir: str | os.PathLike[str]) -> list[Path]:
        """Index every closed WARC file of ``warc_dir`` again, and drop index files whose WARC is gone
        (and any an interrupted write left half done)."""
        warcs = closed_warcs(warc_dir)
        written = [self.index_warc(path) for path in warcs]
        names = {path.name for path in written}
        for stale in [*self.files(), *self.directory.glob(f"*{INDEX_SUFFIX}.tmp")]:
            if stale.name not in names:
                stale.unlink()
        return written

    def lookup(self, url: str, start: datetime | None = None, end: datetime | None = None) -> Iterator[CdxjEntry]:
        """The captures of ``url`` (by SURT key, as pywb matches), oldest first, within [start, end]."""
        key = surt(url)
        first = f"{key} {timestamp(start) if start else ''}".encode()
        last = timestamp(end) if end else None
        prefix = f"{key} ".encode()
        matches = [_scan(path, first, prefix, last) for path in self.files()]
        for line in heapq.merge(*matches):
            yield parse_line(line.decode("utf-8"))

    def lines(
        self, start: datetime | None = None, end: datetime | None = None, warc_names: Iterable[str] | None = None
    ) -> Iterator[str]:
        """Every index line (of the named WARC files, if given) within [start, end], merged in sorted order."""
        paths = [self.index_path(name) for name in warc_names] if warc_names is not None else self.files()
        first, last = (timestamp(start) if start else None), (timestamp(end) if end else None)
        for line in heapq.merge(*(_read(path) for path in paths)):
            stamp = line.split(" ", 2)[1]
            if (first is None or stamp >= first) and (last is None or stamp <= last):
                yield line


def _read(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as f:
        yield from f


def _scan(path: Path, first: bytes, prefix: bytes, last: str | None) -> Iterator[bytes]:
    """Lines from the first one not before ``first``, while they start with ``prefix`` and are not after ``last``."""
    with path.open("rb") as f:
        f.seek(_first_line_at_or_after(f, path.stat().st_size, first))
        for line in f:
            if not line.startswith(prefix):
                return
            if last is not None and line[len(prefix) : len(prefix) + 14].decode() > last:
                return
            yield line


def _first_line_at_or_after(f: BinaryIO, size: int, target: bytes) -> int:
    """Offset of the first line of sorted file ``f`` that is not less than ``target`` (``size`` if none)."""

    def line_from(position: int) -> tuple[int, bytes]:  # the first line starting at or after position
        if position == 0:
            f.seek(0)
        else:
            f.seek(position - 1)
            f.readline()
        return f.tell(), f.readline()

    low, high = 0, size
    while low < high:
        middle = (low + high) // 2
        _, line = line_from(middle)
        if not line or line >= target:
            high = middle
        else:
            low = middle + 1
    return line_from(low)[0] if low < size else size
