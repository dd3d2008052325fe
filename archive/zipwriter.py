"""A ZIP file written front to back, whose local headers say exactly what its central directory says.

A WACZ (:mod:`archive.wacz`) is written by :class:`ZipWriter`, not :mod:`zipfile`: a reader that
seeks straight to a member (ReplayWeb.page's wabac.js, reading by HTTP range)
trusts the central directory, so each local header must say exactly what its
central directory entry says. zipfile gives a member of unknown size a ZIP64
extra field in its local header only, which put every byte of the index and
the page list 20 bytes off for ReplayWeb.page. Here each member's sizes are
known before its header is written (a WARC from its file; generated content,
compressed, from a temporary file beside the output), and a member carries
ZIP64 fields exactly when its sizes or offset pass 32 bits, in both headers.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from archive.errors import NewsArchiveError

__all__ = ["ZIP64_LIMIT", "Hashing", "ZipWriteError", "ZipWriter"]

#: Sizes and offsets from this value up do not fit a ZIP header's 32-bit fields and go in ZIP64 fields.
ZIP64_LIMIT = 0xFFFFFFFF
#: What a 32-bit header field holds when the value is in a ZIP64 field.
_IN_ZIP64 = 0xFFFFFFFF
_CHUNK = 1 << 20


class ZipWriteError(NewsArchiveError):
    """A member could not be stored as it was when its header was written."""


class Hashing:
    """A writable that hashes (SHA-256, and CRC-32 for the ZIP) and counts what passes through it."""

    def __init__(self, out: IO[bytes] | _Deflating) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()
        self.crc = 0
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self.out.write(data)
        return len(data)


class _Deflating:
    """A writable that deflates (raw DEFLATE, as a ZIP member holds it) into a file."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)

    def write(self, data: bytes) -> int:
        self.out.write(self._compressor.compress(data))
        return len(data)

    def finish(self) -> None:
        self.out.write(self._compressor.flush())


@dataclass(frozen=True)
class _Member:
    """What a ZIP member's local header and central directory entry both say of it."""

    name: bytes
    method: int  # 0 stored, 8 deflated
    crc: int
    compressed: int
    size: int
    offset: int  # of its local header

    @property
    def zip64_sizes(self) -> bool:
        return self.size >= ZIP64_LIMIT or self.compressed >= ZIP64_LIMIT

    @property
    def version(self) -> int:
        """The version needed to extract: 4.5 with ZIP64 fields, 2.0 to inflate, 1.0 to copy."""
        if self.zip64_sizes or self.offset >= ZIP64_LIMIT:
            return 45
        return 20 if self.method == _DEFLATED else 10

    @property
    def flags(self) -> int:
        return 0 if self.name.isascii() else 0x800  # bit 11: the name is UTF-8


_STORED, _DEFLATED = 0, 8
_LOCAL = struct.Struct("<4s2B4H3I2H")
_CENTRAL = struct.Struct("<4s4B4H3I5H2I")
_END = struct.Struct("<4s4H2IH")
_END64 = struct.Struct("<4sQ2H2I4Q")
_END64_LOCATOR = struct.Struct("<4sIQI")
_UNIX = 3


class ZipWriter:
    """A ZIP file written front to back (see the module docstring for why not :mod:`zipfile`)."""

    def __init__(self, out: IO[bytes], when: datetime, spool_dir: Path) -> None:
        self.out = out
        self.spool_dir = spool_dir
        self.members: list[_Member] = []
        moment = when.astimezone(timezone.utc)
        self._time = moment.hour << 11 | moment.minute << 5 | moment.second // 2
        self._date = (max(moment.year, 1980) - 1980) << 9 | moment.month << 5 | moment.day

    def add_file(self, name: str, source: Path) -> Hashing:
        """Store a file as it is (so a reader can seek into it); what was hashed of it.

        Its size is known from the start; its CRC is written into the local header once copied.
        """
        size = source.stat().st_size
        start = self.out.tell()
        self.out.write(self._local_header(_Member(name.encode(), _STORED, 0, size, size, start)))
        hashing = Hashing(self.out)
        with source.open("rb") as f:
            shutil.copyfileobj(f, hashing, _CHUNK)
        if hashing.size != size:
            raise ZipWriteError(f"{source} changed while it was being stored")
        member = _Member(name.encode(), _STORED, hashing.crc, size, size, start)
        end = self.out.tell()
        self.out.seek(start)
        self.out.write(self._local_header(member))
        self.out.seek(end)
        self.members.append(member)
        return hashing

    @contextmanager
    def generated(self, name: str, compress: bool = True) -> Iterator[Hashing]:
        """A member written through the yielded writable: spooled (compressed) to a temporary
        file, then added with sizes and CRC known."""
        with tempfile.TemporaryFile(dir=self.spool_dir, prefix=".wacz-") as spool:
            sink = _Deflating(spool) if compress else spool
            hashing = Hashing(sink)
            yield hashing
            if isinstance(sink, _Deflating):
                sink.finish()
            member = _Member(
                name.encode(),
                _DEFLATED if compress else _STORED,
                hashing.crc,
                spool.tell(),
                hashing.size,
                self.out.tell(),
            )
            self.out.write(self._local_header(member))
            spool.seek(0)
            shutil.copyfileobj(spool, self.out, _CHUNK)
            self.members.append(member)

    def add_bytes(self, name: str, data: bytes) -> Hashing:
        with self.generated(name) as out:
            out.write(data)
        return out

    def close(self) -> None:
        """Write the central directory and its end records (ZIP64 ones when counts or offsets need them)."""
        start = self.out.tell()
        for member in self.members:
            self.out.write(self._central_header(member))
        size, count = self.out.tell() - start, len(self.members)
        if count >= 0xFFFF or size >= ZIP64_LIMIT or start >= ZIP64_LIMIT:
            end64 = self.out.tell()
            self.out.write(_END64.pack(b"PK\x06\x06", _END64.size - 12, 45, 45, 0, 0, count, count, size, start))
            self.out.write(_END64_LOCATOR.pack(b"PK\x06\x07", 0, end64, 1))
        self.out.write(
            _END.pack(
                b"PK\x05\x06",
                0,
                0,
                min(count, 0xFFFF),
                min(count, 0xFFFF),
                _IN_ZIP64 if size >= ZIP64_LIMIT else size,
                _IN_ZIP64 if start >= ZIP64_LIMIT else start,
                0,
            )
        )

    def _local_header(self, m: _Member) -> bytes:
        # a local header's ZIP64 field holds both sizes (APPNOTE 4.5.3), never the offset
        extra = struct.pack("<2H2Q", 1, 16, m.size, m.compressed) if m.zip64_sizes else b""
        sizes = (_IN_ZIP64, _IN_ZIP64) if m.zip64_sizes else (m.compressed, m.size)
        head = _LOCAL.pack(
            b"PK\x03\x04",
            m.version,
            0,
            m.flags,
            m.method,
            self._time,
            self._date,
            m.crc,
            *sizes,
            len(m.name),
            len(extra),
        )
        return head + m.name + extra

    def _central_header(self, m: _Member) -> bytes:
        # the central directory's ZIP64 field holds the sizes if the local one does, and the offset if it needs it
        values = [m.size, m.compressed] if m.zip64_sizes else []
        if m.offset >= ZIP64_LIMIT:
            values.append(m.offset)
        extra = struct.pack(f"<2H{len(values)}Q", 1, 8 * len(values), *values) if values else b""
        sizes = (_IN_ZIP64, _IN_ZIP64) if m.zip64_sizes else (m.compressed, m.size)
        return (
            _CENTRAL.pack(
                b"PK\x01\x02",
                m.version,
                _UNIX,
                m.version,
                0,
                m.flags,
                m.method,
                self._time,
                self._date,
                m.crc,
                *sizes,
                len(m.name),
                len(extra),
                0,
                0,
                0,
                0o100644 << 16,  # a regular file, rw-r--r--
                _IN_ZIP64 if m.offset >= ZIP64_LIMIT else m.offset,
            )
            + m.name
            + extra
        )
