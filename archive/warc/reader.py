"""Reading records back: one record at an offset, or every record of a file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from archive.warc.records import ArchivedRecord, RecordLocation, describe_record


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
