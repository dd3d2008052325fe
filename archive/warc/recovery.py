"""Recovering WARC files left open by a crawler that died.

A crawler killed mid-crawl (SIGKILL, out of memory, a crash) leaves its
current file as ``*.warc.gz.open``: every record it finished is whole on disk
(the writer flushes after each group), and the last one may be torn.
Recovery closes the file the way the writer would have (renamed without
``.open``). What it closed is returned, and the caller indexes it
(:func:`archive.opening.recover_archive` adds CDXJ lines and the database
rows it may not yet have): this layer knows WARC files only.

Recovery never removes a byte it cannot prove torn. A record counts as
whole when its gzip member decompresses to its end (the gzip trailer's CRC
and length check out) and holds exactly one WARC record whose block is as
long as its ``Content-Length`` says. A torn tail is the start of one gzip
member that the file ends inside, with no whole record after it: that, and
only that, is cut in place. Any other stretch that is not whole records (a
flipped bit, a lost block, foreign bytes) is damage: reading resumes at the
next gzip member holding a whole record, the whole records before and after
are copied into the closed file, and the original is kept beside it,
untouched, as ``<name>.damaged`` (which nothing lists as a WARC); the
skipped stretches are reported with their offsets. A file in another valid
layout (an uncompressed WARC, or one gzip member around many records) is
closed as it is (warcio reads the latter only after ``warcio recompress``,
so it is not indexed, and the report says so). A
directory, symlink or other entry that only carries the name of an open
file is reported and left alone, and one file's failure never stops the
recovery of the others.

Only abandoned files are touched: a live writer holds an exclusive ``flock``
on its open file, so a file that cannot be locked is in use, whichever
process or crawler shares the folder. As a second guard for writers that do
not lock (or file systems where locks do not reach), a file named for a
process that is still running on this machine, and was already running when
the file was created, is left alone too.
"""

from __future__ import annotations

import errno
import fcntl
import gzip
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

from archive.warc.files import (
    DAMAGED_SUFFIX,
    REPAIRING_SUFFIX,
    closed_name,
    file_host,
    open_warcs,
    parse_name,
    sync_directory,
)
from archive.warc.reader import GZIP_MAGIC, member_length, next_whole_record, torn_member, whole_record_length

__all__ = [
    "GZIP_RECORDS",
    "UNCOMPRESSED",
    "WHOLE_GZIP",
    "Recovered",
    "Stretch",
    "Survey",
    "process_alive",
    "recover",
    "recover_file",
    "survey",
]

logger = logging.getLogger(__name__)

#: The layout this project writes: one gzip member per record.
GZIP_RECORDS = "gzip per record"
UNCOMPRESSED = "uncompressed"
WHOLE_GZIP = "gzip around many records"
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Stretch:
    """Bytes of a file that are not whole records: where they start, and how many."""

    offset: int
    length: int


@dataclass(frozen=True)
class Survey:
    """What a file of gzip members holds: its whole records, the damage between them, its torn tail."""

    kept: tuple[Stretch, ...]  # runs of whole records, in file order
    records: int
    skipped: tuple[Stretch, ...]  # damage: neither whole records nor a torn tail
    tail: int  # where the torn tail starts (the file's size if there is none)


@dataclass(frozen=True)
class Recovered:
    """What recovery did to one entry named like an abandoned file."""

    path: Path  # the closed file; else where the entry is now (left alone, kept as damaged, or removed)
    records: int  # whole records in the closed file
    size: int  # bytes in the closed file
    cut: int = 0  # bytes of torn tail removed
    closed: bool = False  # whether ``path`` is a closed WARC file to index
    layout: str = GZIP_RECORDS
    skipped: tuple[Stretch, ...] = ()  # damaged stretches left out of the closed file (offsets in the original)
    original: Path | None = None  # the damaged original, kept beside the closed file
    problems: tuple[str, ...] = ()  # what went wrong or was left alone, for the report


def recover(warc_dir: str | os.PathLike[str]) -> list[Recovered]:
    """Close every abandoned ``.open`` file of ``warc_dir``; what was done to each (and to stray entries)."""
    recovered = []
    for path in open_warcs(warc_dir):
        try:
            result = recover_file(path)
        except Exception as e:  # noqa: BLE001 - one file's failure must not stop the others, nor a crawl
            logger.exception("recovering %s failed; left as it is", path)
            result = Recovered(path, 0, 0, problems=(f"recovery failed: {type(e).__name__}: {e}",))
        if result is None:
            continue
        _log(path.name, result)
        recovered.append(result)
    return recovered


def recover_file(path: Path) -> Recovered | None:
    """Close one ``.open`` file if it is abandoned (None if a live writer has it, or it is gone)."""
    try:
        entry = os.lstat(path)
    except FileNotFoundError:  # closed by its writer, or recovered by another process, meanwhile
        return None
    if not stat.S_ISREG(entry.st_mode):
        kind = (
            "a symlink" if stat.S_ISLNK(entry.st_mode) else "a directory" if stat.S_ISDIR(entry.st_mode) else "special"
        )
        return Recovered(path, 0, 0, problems=(f"{kind}, not a regular file; left alone",))
    try:  # no symlink swapped in meanwhile, no blocking on a FIFO swapped in meanwhile
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "r+b") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return Recovered(path, 0, 0, problems=("not a regular file; left alone",))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                logger.info("%s is being written by a live crawler; left alone", path.name)
                return None
            raise
        try:  # the lock is ours: is the file still the one at this name?
            if not os.path.samestat(os.fstat(fd), os.stat(path)):
                return None
        except FileNotFoundError:
            return None
        if _writer_running(path.name):
            logger.warning("%s belongs to a process still running on this machine; left alone", path.name)
            return None
        return _close(path, f)


def survey(f: BinaryIO) -> Survey:
    """Walk a file of gzip members: its whole records, the damaged stretches between them, its torn tail."""
    size = f.seek(0, os.SEEK_END)
    kept: list[Stretch] = []
    skipped: list[Stretch] = []
    offset = records = 0
    tail = size
    while offset < size:
        length = whole_record_length(f, offset)
        if length is not None:
            if kept and kept[-1].offset + kept[-1].length == offset:
                kept[-1] = Stretch(kept[-1].offset, kept[-1].length + length)
            else:
                kept.append(Stretch(offset, length))
            records += 1
            offset += length
            continue
        resume = next_whole_record(f, offset + 1)
        if resume is None:
            if torn_member(f, offset):
                tail = offset
            else:
                skipped.append(Stretch(offset, size - offset))
            break
        skipped.append(Stretch(offset, resume - offset))
        offset = resume
    return Survey(tuple(kept), records, tuple(skipped), tail)


def _close(path: Path, f: BinaryIO) -> Recovered:
    """Close an abandoned file we hold the lock of: as it is, cut at its torn tail, or repaired."""
    final = closed_name(path)
    if os.path.lexists(final):  # never replaced: it is not ours to judge (or a repair was cut short)
        return Recovered(path, 0, 0, problems=(f"{final.name} exists already; left alone",))
    size = os.fstat(f.fileno()).st_size
    layout = _layout(f)
    if layout != GZIP_RECORDS:  # a valid WARC of another tool's layout: nothing is ours to cut
        _rename(path, f, final)
        f.seek(0)
        records = _count_records(gzip.GzipFile(fileobj=f) if layout == WHOLE_GZIP else f)
        return Recovered(final, records, size, closed=True, layout=layout)
    found = survey(f)
    cut = size - found.tail
    if not found.skipped:
        f.truncate(found.tail)
        if not found.records:  # nothing but the start of one torn record (or nothing at all)
            path.unlink()
            sync_directory(path.parent)
            return Recovered(path, 0, 0, cut)
        _rename(path, f, final)
        return Recovered(final, found.records, found.tail, cut, closed=True)
    original = final.with_name(final.name + DAMAGED_SUFFIX)
    kept = sum(stretch.length for stretch in found.kept)
    if found.records:  # the copy first, so the original is renamed only once its whole records are safe
        _copy(f, found.kept, final)
    os.replace(path, original)
    sync_directory(path.parent)
    where = final if found.records else original
    return Recovered(where, found.records, kept, cut, found.records > 0, skipped=found.skipped, original=original)


def _layout(f: BinaryIO) -> str:
    """How a file holds its records: uncompressed, one gzip member around many (either only if warcio
    reads a record of it), or (by default, also for damaged files) one gzip member per record."""
    f.seek(0)
    start = f.read(len(b"WARC/"))
    if start == b"WARC/":  # if warcio reads a record of it; else it is damage like any other
        f.seek(0)
        return UNCOMPRESSED if _count_records(f) else GZIP_RECORDS
    if start.startswith(GZIP_MAGIC) and whole_record_length(f, 0) is None and member_length(f, 0) is not None:
        f.seek(0)
        return WHOLE_GZIP if _count_records(gzip.GzipFile(fileobj=f)) > 1 else GZIP_RECORDS
    return GZIP_RECORDS


def _count_records(f: BinaryIO) -> int:
    """How many records warcio reads from the start of a stream, up to any damage."""
    count = 0
    records = ArchiveIterator(f)
    try:
        for record in records:
            records.read_to_end(record)
            count += 1
    except Exception:  # noqa: BLE001, S110 - warcio raises anything on bad bytes: the count so far stands
        pass
    return count


def _copy(f: BinaryIO, stretches: tuple[Stretch, ...], final: Path) -> None:
    """Write the given stretches of ``f`` as the closed file, whole or not at all."""
    repairing = final.with_name(final.name + REPAIRING_SUFFIX)
    with repairing.open("wb") as out:
        for stretch in stretches:
            f.seek(stretch.offset)
            left = stretch.length
            while left:
                chunk = f.read(min(left, _COPY_CHUNK))
                out.write(chunk)
                left -= len(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.replace(repairing, final)


def _rename(path: Path, f: BinaryIO, final: Path) -> None:
    """Close a file under its final name, on disk."""
    f.flush()
    os.fsync(f.fileno())
    os.replace(path, final)
    sync_directory(path.parent)


def _log(name: str, result: Recovered) -> None:
    if result.problems:
        logger.warning("%s: %s", name, "; ".join(result.problems))
    elif result.layout != GZIP_RECORDS:
        logger.warning("recovered %s: a WARC in another layout (%s), closed as it was", name, result.layout)
    else:
        logger.warning(
            "recovered %s: %d whole records kept, %d bytes of torn tail cut", name, result.records, result.cut
        )
    for stretch in result.skipped:
        logger.warning(
            "%s: %d damaged bytes at offset %d skipped (the original is kept as %s)",
            name,
            stretch.length,
            stretch.offset,
            result.original.name if result.original else "?",
        )


def _writer_running(name: str) -> bool:
    """Whether the process named in an open file's name still runs here and predates the file."""
    parsed = parse_name(name)
    if parsed is None or parsed.host != file_host():
        return False
    pid = parsed.pid
    # our own writer holds its lock (an earlier process had our pid); 0 is a process group; no pid passes pid_max
    if pid == os.getpid() or not 0 < pid < 1 << 22:
        return False
    if not process_alive(pid):
        return False
    started = _process_start(pid)
    return started is None or started <= parsed.created.timestamp() + 1


def process_alive(pid: int) -> bool:
    """Whether a process exists and has not exited: a zombie (killed, not yet reaped by its
    parent) writes nothing and holds no lock."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, someone else's
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return True  # no /proc here, or it exited meanwhile: the flock is the guard then
    return state not in ("Z", "X")


def _process_start(pid: int) -> float | None:
    """When a process started (epoch seconds), from /proc; None where that is not known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime "))
    except (OSError, StopIteration):
        return None
    ticks = int(stat.rpartition(")")[2].split()[19])  # field 22, counted after the command name
    return int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")
