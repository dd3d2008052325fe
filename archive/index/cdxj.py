"""CDXJ lines, as pywb and cdxj-indexer write them.

A line is ``<SURT key> <14-digit timestamp> <JSON>``, the JSON holding the
capture's URL, MIME type (without parameters), HTTP status, payload digest,
and where the record is: WARC file name, gzip member offset and length.
Lines sort as plain text, so the captures of one URL are adjacent and in
time order, and a lookup is a binary search.

Only captures are indexed (response, revisit and resource records): the
project's JSON metadata records share their article's URL, and a replay
tool asked for that URL must never pick one of them instead of the page.
``tests/archive/index/test_cdxj.py`` checks every line against the output of
cdxj-indexer run on the same WARC.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from archive.index.surt import surt
from archive.warc.records import ArchivedRecord

__all__ = ["INDEXED_TYPES", "CdxjEntry", "cdxj_line", "parse_line", "timestamp"]

INDEXED_TYPES = frozenset({"response", "revisit", "resource"})
_MIME_END = re.compile(r"[;\s]")


def timestamp(moment: Any) -> str:
    """The 14-digit CDXJ timestamp of a datetime (UTC, seconds)."""
    return moment.strftime("%Y%m%d%H%M%S")


def cdxj_line(record: ArchivedRecord) -> str | None:
    """The index line of a written record, or None if it is not a capture."""
    if record.rec_type not in INDEXED_TYPES:
        return None
    fields: dict[str, str] = {"url": record.target_uri}
    mime = "warc/revisit" if record.rec_type == "revisit" else record.content_type
    if mime:
        fields["mime"] = _MIME_END.split(mime, 1)[0].strip()
    if record.status is not None:
        fields["status"] = str(record.status)
    if record.payload_digest:
        fields["digest"] = record.payload_digest
    fields["length"] = str(record.location.length)
    fields["offset"] = str(record.location.offset)
    fields["filename"] = record.location.filename
    return f"{surt(record.target_uri)} {timestamp(record.date)} {json.dumps(fields)}\n"


@dataclass(frozen=True)
class CdxjEntry:
    """One parsed index line."""

    key: str
    timestamp: str
    fields: dict[str, str]

    @property
    def url(self) -> str:
        return self.fields.get("url", "")

    @property
    def filename(self) -> str:
        return self.fields["filename"]

    @property
    def offset(self) -> int:
        return int(self.fields["offset"])

    @property
    def length(self) -> int:
        return int(self.fields["length"])

    @property
    def status(self) -> int | None:
        status = self.fields.get("status", "")
        return int(status) if status.isdigit() else None


def parse_line(line: str) -> CdxjEntry:
    key, stamp, data = line.rstrip("\n").split(" ", 2)
    return CdxjEntry(key, stamp, json.loads(data))
