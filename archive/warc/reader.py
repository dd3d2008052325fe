"""Reading records back: one record at an offset, every record of a file, and damage in a file.

warcio reads what it can and is quiet about the rest: it takes a truncated
last gzip member for a whole one and stops before trailing bytes it cannot
parse. :func:`checked_records` yields a record only once it is known to be
whole and reports damage as :class:`DamagedWarc` with the offset where the
unreadable data starts, so a rebuild can index up to it and say so; recovery
uses the same member checks to find where a torn file's whole records end.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from archive.errors import NewsArchiveError
from archive.warc.records import ArchivedRecord, RecordLocation, describe_record

__all__ = [
    "TRUNCATED",
    "DamagedWarc",
    "checked_records",
    "iter_records",
    "member_length",
    "read_record",
    "whole_record_length",
]

TRUNCATED = "a record whose gzip member does not end (file truncated?)"
GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16
_HEADER_LIMIT = 1 << 20  # a WARC header block longer than this is not one of ours


class DamagedWarc(NewsArchiveError):
    """A WARC file that cannot be read past some offset: corrupt, truncated, or not a WARC."""

    def __init__(self, path: Path, offset: int, reason: str) -> None:
        self.path, self.offset, self.reason = path, offset, reason
        super().__init__(f"{path}: offset {offset}: {reason}")


def read_record(path: str | os.PathLike[str], offset: int) -> ArcWarcRecord:
    """The record whose gzip member starts at ``offset``, its payload held in memory.

    ``record.raw_stream`` holds the payload as stored (still content-encoded)
    and ``record.content_stream()`` decodes it, after the file is closed.
    """
    with open(path, "rb") as f:
        f.seek(offset)
        record = next(iter(ArchiveIterator(f)))
        record.raw_stream = BytesIO(record.raw_stream.read())
        return record


def iter_records(path: str | os.PathLike[str]) -> Iterator[ArchivedRecord]:
    """Every record of a WARC file, described for indexing, streaming."""
    name = Path(path).name
    with open(path, "rb") as f:
        records = ArchiveIterator(f)
        for record in records:
            payload = None
            if record.rec_type in ("metadata", "warcinfo"):
                payload = record.content_stream().read()
            else:
                record.content_stream().read()  # consume so the member length is known
            records.read_to_end(record)
            location = RecordLocation(name, records.get_record_offset(), records.get_record_length())
            yield describe_record(record, location, payload)


def checked_records(path: Path) -> Iterator[ArchivedRecord]:
    """The records of one WARC file, each yielded only once it is known to be complete.

    Damage raises :class:`DamagedWarc` after every whole record before it was yielded.
    """
    previous: ArchivedRecord | None = None
    end = 0
    try:
        for record in iter_records(path):
            if previous is not None:
                yield previous
            previous, end = record, record.location.offset + record.location.length
    except Exception as e:  # noqa: BLE001 - warcio raises anything from ValueError to TypeError on bad bytes
        if previous is not None:
            yield previous
        raise DamagedWarc(path, end, f"{type(e).__name__}: {e}".splitlines()[0][:200]) from e
    if previous is not None:
        if path.name.endswith(".gz"):
            with path.open("rb") as f:
                whole = member_length(f, previous.location.offset) is not None
            if not whole:
                raise DamagedWarc(path, previous.location.offset, TRUNCATED)
        yield previous
    size = path.stat().st_size
    if end < size:
        with path.open("rb") as f:
            f.seek(end)
            begun = f.read(2) == GZIP_MAGIC
        raise DamagedWarc(
            path, end, TRUNCATED if begun else f"{size - end} bytes after the last record are not a WARC record"
        )


def member_length(f: BinaryIO, offset: int) -> int | None:
    """The length of the gzip member at ``offset`` if it decompresses to its end (the gzip
    trailer's CRC and length check out), else None."""
    inflated = _inflate_member(f, offset)
    return None if inflated is None else inflated[0]


def whole_record_length(f: BinaryIO, offset: int) -> int | None:
    """The length of the gzip member at ``offset`` if it is whole and holds exactly one WARC
    record whose block is as long as its ``Content-Length`` says, else None."""
    inflated = _inflate_member(f, offset)
    if inflated is None:
        return None
    length, head, size = inflated
    header_end = head.find(b"\r\n\r\n")
    if not head.startswith(b"WARC/") or header_end < 0:
        return None
    lengths = re.findall(rb"(?im)^content-length:[ \t]*(\d+)[ \t]*\r$", head[:header_end] + b"\r")
    if len(lengths) != 1 or size != header_end + 4 + int(lengths[0]) + 4:
        return None
    return length


def _inflate_member(f: BinaryIO, offset: int) -> tuple[int, bytes, int] | None:
    """Decompress the gzip member at ``offset``, streaming: its compressed length, the start of its
    contents (up to the end of a header block), and its decompressed size; None if it does not end."""
    f.seek(offset)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    fed = inflated = 0
    head = b""
    try:
        while chunk := f.read(_CHUNK):
            fed += len(chunk)
            data = inflater.decompress(chunk)
            inflated += len(data)
            if len(head) < _HEADER_LIMIT and b"\r\n\r\n" not in head:
                head += data[: _HEADER_LIMIT - len(head)]
            if inflater.eof:
                break
    except zlib.error:
        return None
    if not inflater.eof:
        return None  # the file ends inside this member: the torn tail
    return fed - len(inflater.unused_data), head, inflated
