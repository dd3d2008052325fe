"""WARC file names and folders: how files are named, which are finished, which are still written.

Names follow the IIPC convention ``<prefix>-<UTC timestamp to the ms>-<serial>-<pid>~<host>.warc.gz``,
so several crawler processes, on several machines, can share one folder
without two of them choosing the same name, and name order is time order.
A file being written carries the suffix ``.open`` and is renamed when it is
closed (warcprox's discipline): readers, indexers and packagers list only
closed files, and never see a torn one as finished. Recovery keeps a
damaged file's original beside its repaired copy under ``.damaged``, and
writes the copy under ``.repairing`` first; nothing lists either as a WARC.

Everything that names, parses or lists WARC files goes through here: the
writer, recovery, the CDXJ index, the database rebuild, WACZ packaging, the
summary and the web app.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

__all__ = [
    "DAMAGED_SUFFIX",
    "OPEN_SUFFIX",
    "REPAIRING_SUFFIX",
    "WARC_SUFFIX",
    "WarcName",
    "closed_name",
    "closed_warcs",
    "file_host",
    "is_closed_warc",
    "new_name",
    "open_warcs",
    "parse_name",
    "sync_directory",
    "warc_files",
]

logger = logging.getLogger(__name__)

WARC_SUFFIX = ".warc.gz"
OPEN_SUFFIX = ".open"
#: A damaged file's original, kept as it was beside the copy recovery made of its whole records.
DAMAGED_SUFFIX = ".damaged"
#: Recovery's copy of a damaged file's whole records while it is written (renamed when complete).
REPAIRING_SUFFIX = ".repairing"
#: What a WARC file given by hand may be called (another tool's uncompressed WARC too).
READABLE_SUFFIXES = (WARC_SUFFIX, ".warc")
#: File name timestamps: UTC, to the millisecond (the first 17 digits).
STAMP_FORMAT = "%Y%m%d%H%M%S%f"
_NAME = re.compile(
    r"^(?P<prefix>.*)-(?P<stamp>\d{17})-(?P<serial>\d+)-(?P<pid>\d+)~(?P<host>.+)"
    + re.escape(WARC_SUFFIX)
    + f"(?:{re.escape(OPEN_SUFFIX)})?$"
)


@dataclass(frozen=True)
class WarcName:
    """What a file name says: who wrote the file, and when it was opened."""

    prefix: str
    created: datetime
    serial: int
    pid: int
    host: str


def new_name(prefix: str, serial: int, when: datetime | None = None) -> str:
    """The name of a new WARC file written by this process on this machine (without ``.open``)."""
    stamp = (when or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime(STAMP_FORMAT)[:17]
    return f"{prefix}-{stamp}-{serial:05d}-{os.getpid()}~{file_host()}{WARC_SUFFIX}"


def parse_name(name: str) -> WarcName | None:
    """The parts of a file name of ours, closed or open; None for a name of another form."""
    match = _NAME.match(name)
    if match is None:
        return None
    try:
        created = datetime.strptime(match["stamp"] + "000", STAMP_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:  # seventeen digits that are no time (month 99): not a name of ours
        return None
    return WarcName(match["prefix"], created, int(match["serial"]), int(match["pid"]), match["host"])


def file_host() -> str:
    """This machine's name as it appears in WARC file names (no ``-`` or ``~``, which delimit fields)."""
    return socket.gethostname().replace("-", "").replace("~", "") or "localhost"


def closed_name(path: Path) -> Path:
    """The name an open file gets when it is closed."""
    return path.with_name(path.name.removesuffix(OPEN_SUFFIX))


def is_closed_warc(path: Path) -> bool:
    """Whether a path is a finished gzip WARC file (not one still being written)."""
    return path.name.endswith(WARC_SUFFIX) and path.is_file()


def closed_warcs(directory: str | os.PathLike[str]) -> list[Path]:
    """The finished WARC files of a folder, in name order (time order for our names)."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if is_closed_warc(path))


def open_warcs(directory: str | os.PathLike[str]) -> list[Path]:
    """The WARC files of a folder that a writer has not closed: being written, or abandoned."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"*{WARC_SUFFIX}{OPEN_SUFFIX}"))


def warc_files(paths: Iterable[Path]) -> list[Path]:
    """The closed WARC files among files and folders given by hand, in name order.

    A folder contributes its gzip and uncompressed WARC files; a file is taken
    as given, unless it is still being written (``*.open``), which is never read.
    """
    found: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found.update(p for p in path.iterdir() if p.name.endswith(READABLE_SUFFIXES) and p.is_file())
        elif path.name.endswith(OPEN_SUFFIX):
            logger.warning("%s is still being written; not indexed", path)
        else:
            found.add(path)
    return sorted(found, key=lambda p: (p.name, str(p)))


def sync_directory(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
