"""Recovering WARC files left open by a crawler that died.

A crawler killed mid-crawl (SIGKILL, out of memory, a crash) leaves its
current file as ``*.warc.gz.open``: every record it finished is whole on disk
(the writer flushes after each group), and the last one may be torn. Recovery
keeps the file's whole records, cuts the torn tail, and closes the file the
way the writer would have (renamed without ``.open``). What it closed is
returned, and the caller indexes it (:func:`archive.opening.recover_archive`
adds CDXJ lines and the database rows it may not yet have): this layer
knows WARC files only.

A record counts as whole when its gzip member decompresses to its end (the
gzip trailer's CRC and length check out) and holds exactly one WARC record
whose block is as long as its ``Content-Length`` says. The first member
that is not whole ends the file.

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
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from archive.warc.files import OPEN_SUFFIX, file_host, open_warcs, parse_name, sync_directory
from archive.warc.reader import whole_record_length

__all__ = ["Recovered", "process_alive", "recover", "recover_file", "whole_records_end"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovered:
    """What recovery did to one abandoned file."""

    path: Path  # the closed file, or the removed ``.open`` file when nothing in it was whole
    records: int  # whole records kept
    size: int  # bytes kept
    cut: int  # bytes of torn tail removed


def recover(warc_dir: str | os.PathLike[str]) -> list[Recovered]:
    """Close every abandoned ``.open`` file of ``warc_dir``; what was done to each."""
    recovered = []
    for path in open_warcs(warc_dir):
        result = recover_file(path)
        if result is None:
            continue
        logger.warning(
            "recovered %s: %d whole records kept, %d bytes of torn tail cut", path.name, result.records, result.cut
        )
        recovered.append(result)
    return recovered


def recover_file(path: Path) -> Recovered | None:
    """Close one ``.open`` file if it is abandoned (None if a live writer has it, or it is gone)."""
    try:
        f = path.open("r+b")
    except FileNotFoundError:  # closed by its writer, or recovered by another process, meanwhile
        return None
    with f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.EACCES):
                logger.info("%s is being written by a live crawler; left alone", path.name)
                return None
            raise
        try:  # the lock is ours: is the file still the one at this name?
            if not os.path.samestat(os.fstat(f.fileno()), os.stat(path)):
                return None
        except FileNotFoundError:
            return None
        if _writer_running(path.name):
            logger.warning("%s belongs to a process still running on this machine; left alone", path.name)
            return None
        size = os.fstat(f.fileno()).st_size
        end, records = whole_records_end(f)
        if end < size:
            f.truncate(end)
        f.flush()
        os.fsync(f.fileno())
        if records:
            final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
            os.replace(path, final)
        else:
            final = path
            path.unlink()
        sync_directory(path.parent)
    return Recovered(final, records, end, size - end)


def whole_records_end(f: BinaryIO) -> tuple[int, int]:
    """The offset just after the last whole record of a gzip WARC file (from the start), and their count."""
    offset = records = 0
    while (length := whole_record_length(f, offset)) is not None:
        offset += length
        records += 1
    return offset, records


def _writer_running(name: str) -> bool:
    """Whether the process named in an open file's name still runs here and predates the file."""
    parsed = parse_name(name)
    if parsed is None or parsed.host != file_host():
        return False
    pid = parsed.pid
    if pid == os.getpid():  # our own writer holds its lock; an earlier process had our pid
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
