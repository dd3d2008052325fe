"""CDXJ lines, as pywb and cdxj-indexer write them.

A line is ``<SURT key> <14-digit timestamp> <JSON>``, the JSON holding the
capture's URL, MIME type (without parameters), HTTP status, payload digest,
and where the record is: WARC file name, gzip member offset and length.
Lines sort as plain text, so the captures of one URL are adjacent and in
time order, and a lookup is a binary search.

Only captures are indexed (response, revisit and resource records): the
project's JSON metadata records describe a page (``urn:newsarchive:<kind>:<URL>``,
or the page's URL itself in older files), and a replay tool asked for its
URL must never pick one of them instead of the page.
``tests/archive/index/test_cdxj.py`` checks every line against the output of
cdxj-indexer run on the same WARC.

A server-not-modified revisit (a recheck's ``304 Not Modified``) gets no line
either: pywb and wabac.js replay a revisit with its own HTTP head, so the
page would replay as a bodiless 304 (ukwa/ukwa-pywb#40); without it, a replay
at that moment finds the capture holding the body, which is what the 304
says the page still was. The database keeps it as a check of the article.

A capture whose target URI cannot be parsed (:mod:`archive.urls`) gets no
line, as it gets no row in the database: nothing could look it up, and the
archiver's writer thread, which builds these lines, must go on.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from archive.index.surt import surt
from archive.urls import UnparseableUrl, split_url
from archive.warc.records import SERVER_NOT_MODIFIED, ArchivedRecord

__all__ = ["INDEXED_TYPES", "CdxjEntry", "cdxj_line", "parse_line", "timestamp"]

logger = logging.getLogger(__name__)

INDEXED_TYPES = frozenset({"response", "revisit", "resource"})
_MIME_END = re.compile(r"[;\s]")


def timestamp(moment: Any) -> str:
    """The 14-digit CDXJ timestamp of a datetime (UTC, seconds)."""
    return moment.strftime("%Y%m%d%H%M%S")


def cdxj_line(record: ArchivedRecord) -> str | None:
    """The index line of a written record, or None if it is not a capture or its URL cannot be parsed."""
    if record.rec_type not in INDEXED_TYPES or record.profile == SERVER_NOT_MODIFIED:
        return None
    try:
        key = _urn_key(record.target_uri) or surt(split_url(record.target_uri).url)
    except UnparseableUrl as e:
        logger.warning("%s record %s not indexed for replay: %s", record.rec_type, record.record_id, e)
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
    return f"{key} {timestamp(record.date)} {json.dumps(fields)}\n"


def _urn_key(target: str) -> str | None:
    """A URN names itself (as cdxj-indexer keys it): a derived record such as Browsertrix's
    ``urn:pageinfo:<URL>`` must never be keyed as a capture of the URL inside it."""
    return target if target[:4].lower() == "urn:" else None


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
