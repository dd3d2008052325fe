"""Reading records back: one record at an offset, every record of a file, and damage in a file.

warcio reads what it can and is quiet about the rest: it takes a truncated
last gzip member for a whole one and stops before trailing bytes it cannot
parse. :func:`checked_records` yields a record only once it is known to be
whole and reports damage as :class:`DamagedWarc` with the offset where the
unreadable data starts, so a rebuild can index up to it and say so; recovery
uses the same member checks to find a damaged file's whole records.

Reading streams: a record's block is read in chunks to find where it ends,
never held whole, so memory does not grow with the size of a record. A
record from another tool that says something this project cannot index (no
``WARC-Record-ID``, a ``WARC-Date`` that is not a date) is skipped and
logged with its offset, and the records after it are read; a WARC version
warcio does not know (``WARC/1.2``, ``WARC/9.9``) is read as far as its
fields are those of WARC 1.1.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeadersParser

from archive.errors import NewsArchiveError
from archive.warc.records import ArchivedRecord, RecordLocation, UnreadableRecord, describe_record

__all__ = [
    "MANY_RECORDS",
    "TRUNCATED",
    "DamagedWarc",
    "checked_records",
    "iter_records",
    "member_length",
    "next_whole_record",
    "read_record",
    "torn_member",
    "whole_record_length",
]

TRUNCATED = "a record whose gzip member does not end (file truncated?)"
MANY_RECORDS = "one gzip member holds many records: no record has an offset (`warcio recompress` splits it)"
GZIP_MAGIC = b"\x1f\x8b"
_MEMBER_START = GZIP_MAGIC + b"\x08"  # the magic and the deflate method: how every gzip member begins
_CHUNK = 1 << 16
_HEADER_LIMIT = 1 << 20  # a WARC header block longer than this is not one of ours
#: The longest metadata or warcinfo payload read for its fields; a longer one is indexed without them.
PAYLOAD_LIMIT = 1 << 24
#: The first line of any WARC version: the ones warcio knows first (their protocol is kept), then any other.
_ANY_WARC_VERSION = StatusAndHeadersParser([*ArcWarcRecordLoader.WARC_TYPES, "WARC/"])

logger = logging.getLogger(__name__)


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
        records = ArchiveIterator(f)
        records.loader.warc_parser = _ANY_WARC_VERSION  # what iter_records indexed can be read back
        record = next(iter(records))
        record.raw_stream = BytesIO(record.raw_stream.read())
        return record


def iter_records(path: str | os.PathLike[str]) -> Iterator[ArchivedRecord]:
    """Every indexable record of a WARC file, described for indexing, streaming (records that
    cannot be indexed are logged and skipped)."""
    name = Path(path).name
    with open(path, "rb") as f:
        records = ArchiveIterator(f)
        records.loader.warc_parser = _ANY_WARC_VERSION
        for record in records:
            payload = None
            if record.rec_type in ("metadata", "warcinfo"):
                payload = record.content_stream().read(PAYLOAD_LIMIT + 1)
                if len(payload) > PAYLOAD_LIMIT:
                    payload = None
            records.read_to_end(record)  # in chunks: the member length is known without holding the block
            location = RecordLocation(name, records.get_record_offset(), records.get_record_length())
            if location.length <= 0:  # warcio's arithmetic inside one gzip member around many records
                raise DamagedWarc(Path(path), location.offset, MANY_RECORDS)
            try:
                yield describe_record(record, location, payload)
            except UnreadableRecord as e:
                logger.warning("%s: offset %d: record skipped: %s", path, location.offset, e)


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
    except DamagedWarc:
        if previous is not None:
            yield previous
        raise
    except Exception as e:  # noqa: BLE001 - warcio raises anything from ValueError to TypeError on bad bytes
        if previous is not None:
            yield previous
        first_line = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
        raise DamagedWarc(path, end, f"{type(e).__name__}: {first_line}"[:200]) from e
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
    inflated = _inflate_member(f, offset, expect=b"WARC/")
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


def next_whole_record(f: BinaryIO, start: int) -> int | None:
    """The offset of the first gzip member at or after ``start`` that holds a whole WARC record
    (:func:`whole_record_length`), or None: where reading can go on after damage."""
    position = start
    while True:
        f.seek(position)
        chunk = f.read(_CHUNK)
        found = chunk.find(_MEMBER_START)
        while found >= 0:
            if whole_record_length(f, position + found) is not None:
                return position + found
            found = chunk.find(_MEMBER_START, found + 1)
        if len(chunk) < _CHUNK:
            return None
        position += len(chunk) - len(_MEMBER_START) + 1  # a member start may straddle two chunks


def torn_member(f: BinaryIO, offset: int) -> bool:
    """Whether everything from ``offset`` to the end of the file is the beginning of a gzip member
    holding a WARC record, cut off by the end of the file: the tail a writer killed mid-write leaves.

    Any other bytes (a bad CRC, a deflate error, data after the member's end) are damage, not a tear.
    """
    f.seek(offset)
    start = f.read(len(GZIP_MAGIC))
    if not start or not GZIP_MAGIC.startswith(start):
        return False
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head = b""
    try:
        for data in _inflated(f, offset, inflater):
            if len(head) < len(b"WARC/"):
                head += data[: len(b"WARC/") - len(head)]
                if not b"WARC/".startswith(head):
                    return False
    except zlib.error:
        return False
    return not inflater.eof  # a member that ends is whole (though it holds no whole record), not torn


def _inflate_member(f: BinaryIO, offset: int, expect: bytes = b"") -> tuple[int, bytes, int] | None:
    """Decompress the gzip member at ``offset``, streaming: its compressed length, the start of its
    contents (up to the end of a header block), and its decompressed size; None if it does not end,
    or (given ``expect``) as soon as its contents do not start with ``expect``."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    inflated = 0
    head = b""
    try:
        for data in _inflated(f, offset, inflater):
            inflated += len(data)
            if len(head) < _HEADER_LIMIT and b"\r\n\r\n" not in head:
                head += data[: _HEADER_LIMIT - len(head)]
                if not (head.startswith(expect) or expect.startswith(head)):
                    return None
    except zlib.error:
        return None
    if not inflater.eof:
        return None  # the file ends inside this member: the torn tail
    return f.tell() - offset - len(inflater.unused_data), head, inflated


def _inflated(f: BinaryIO, offset: int, inflater: Any) -> Iterator[bytes]:
    """The contents of the gzip member at ``offset``, in pieces of at most ``_CHUNK`` bytes (a member
    that inflates a thousandfold takes no more memory), up to the member's end or the file's."""
    f.seek(offset)
    while not inflater.eof and (chunk := f.read(_CHUNK)):
        while True:
            data = inflater.decompress(chunk, _CHUNK)
            chunk = inflater.unconsumed_tail
            yield data
            if inflater.eof or (not chunk and len(data) < _CHUNK):  # a full piece may leave output pending
                break
