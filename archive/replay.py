"""Reading one capture back as it was archived: find it by URL and time, decode its body, cite it.

Lookups go through the CDXJ index (:class:`archive.index.IndexStore`), a
binary search per index file, so finding a URL costs the same in a small
archive and a large one and never reads a WARC; only the one record found is
read, at its offset. The index covers closed WARC files (``newsarchive index
rebuild`` rebuilds it).

A revisit record holds no body: its payload is read from the record it
refers to (found in the index by its target URI, date and digest), while the
status line and headers stay the revisit's own, since those are what the
server answered that time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from warcio.recordloader import ArcWarcRecord

from archive.errors import NewsArchiveError
from archive.extract import extract_article
from archive.index import CdxjEntry, IndexStore
from archive.warc.reader import read_record
from archive.warc.records import parse_warc_date

__all__ = [
    "Citation",
    "Replayed",
    "UnsafePath",
    "archive_file",
    "capture_time",
    "captures",
    "find_capture",
    "load",
    "nearest",
    "page_text",
]

REVISIT_MIME = "warc/revisit"


class UnsafePath(NewsArchiveError, ValueError):
    """A file name that would lead outside the archive's folders."""


def archive_file(folder: str | os.PathLike[str], name: str) -> Path:
    """The file called ``name`` directly inside ``folder``, refusing anything else.

    Names come from index lines and from request paths, both of which a
    hostile archive or client can shape: only a plain file name (no
    separators, no ``..``) whose resolved path is still inside the folder is
    accepted, so no request can read a file outside the archive.
    """
    base = Path(folder).resolve()
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise UnsafePath(f"not a file name in the archive: {name!r}")
    path = (base / name).resolve()
    if path.parent != base:
        raise UnsafePath(f"outside the archive: {name!r}")
    return path


def capture_time(entry: CdxjEntry) -> datetime:
    """The capture's time (UTC, naive as in the database) from its 14-digit timestamp."""
    return datetime.strptime(entry.timestamp, "%Y%m%d%H%M%S")


def captures(
    store: IndexStore, url: str, start: datetime | None = None, end: datetime | None = None
) -> list[CdxjEntry]:
    """Every capture of ``url`` in the index, oldest first."""
    return list(store.lookup(url, start, end))


def nearest(entries: list[CdxjEntry], at: datetime | None = None) -> CdxjEntry | None:
    """The capture closest in time to ``at`` (the latest without it); a tie goes to the earlier one.

    Revisits count as captures (the page was seen then), but a capture
    with a status of its own is preferred to one without.
    """
    if not entries:
        return None
    if at is None:
        return entries[-1]
    at = at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo else at
    return min(entries, key=lambda e: (abs((capture_time(e) - at).total_seconds()), e.status is None))


def find_capture(store: IndexStore, url: str, at: datetime | None = None) -> CdxjEntry | None:
    """The capture of ``url`` nearest ``at`` (the latest without it), or None if it was never captured."""
    return nearest(captures(store, url), at)


@dataclass(frozen=True)
class Citation:
    """What a researcher pastes to point at one capture: enough to find the exact bytes again."""

    url: str
    captured: datetime
    warc_filename: str
    warc_offset: int
    record_id: str

    def text(self) -> str:
        return (
            f"{self.url}, captured {self.captured.strftime('%Y-%m-%d %H:%M:%S')} UTC; "
            f"WARC {self.warc_filename} (offset {self.warc_offset}), record {self.record_id}"
        )


@dataclass(frozen=True)
class Replayed:
    """One capture read back: its record's identity, the HTTP answer's head, and its body decoded."""

    entry: CdxjEntry
    record_id: str
    warc_date: datetime
    status_line: str
    headers: list[tuple[str, str]]
    #: The payload with transfer and content encodings undone (gzip, br, chunked).
    body: bytes
    #: For a revisit, the capture whose record held the body.
    body_from: CdxjEntry

    @property
    def url(self) -> str:
        return self.entry.url

    @property
    def status(self) -> int | None:
        """The HTTP status the server answered (a revisit's own), or None for a record without one."""
        code = self.status_line.split(" ", 2)[1:2]
        return int(code[0]) if code and code[0].isdigit() else None

    @property
    def reason(self) -> str:
        """The status line without its protocol: ``404 Not Found``."""
        return self.status_line.partition(" ")[2]

    def header(self, name: str) -> str | None:
        """The first value of the original header ``name`` (any case), if the answer had it."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def content_type(self) -> str:
        return self.header("Content-Type") or ""

    def citation(self) -> Citation:
        return Citation(self.url, self.warc_date, self.entry.filename, self.entry.offset, self.record_id)

    def head(self) -> str:
        """The original status line and headers, as received (CRLF-terminated, blank line after)."""
        return "".join(f"{line}\r\n" for line in [self.status_line, *(f"{k}: {v}" for k, v in self.headers), ""])


def load(store: IndexStore, warc_dir: str | os.PathLike[str], entry: CdxjEntry) -> Replayed:
    """Read the capture's record (and, for a revisit, its original's) and decode the body."""
    record = _read(warc_dir, entry)
    body_from, payload = entry, record
    if record.rec_type == "revisit":
        original = _original(store, record, entry)
        if original is None:
            raise LookupError(f"the record a revisit of {entry.url} refers to is not in the index")
        body_from, payload = original, _read(warc_dir, original)
    http = record.http_headers or payload.http_headers
    return Replayed(
        entry=entry,
        record_id=record.rec_headers.get_header("WARC-Record-ID"),
        warc_date=parse_warc_date(record.rec_headers.get_header("WARC-Date")).replace(tzinfo=None),
        status_line=http.protocol + " " + http.statusline if http else "",
        headers=list(http.headers) if http else [],
        body=payload.content_stream().read(),
        body_from=body_from,
    )


def page_text(replayed: Replayed) -> str:
    """The page's text as the archive's extractor reads it (headline first); plain text as it is."""
    mime = replayed.content_type.split(";", 1)[0].strip().lower()
    if mime in ("text/html", "application/xhtml+xml") or (not mime and replayed.body.lstrip()[:1] == b"<"):
        extraction = extract_article(replayed.body, replayed.url, replayed.warc_date)
        if extraction is None:
            return ""
        return f"{extraction.title}\n\n{extraction.text}" if extraction.title else extraction.text
    if mime.startswith("text/") or mime.endswith(("+xml", "/xml", "/json")):
        return replayed.body.decode(_charset(replayed.content_type), "replace")
    raise ValueError(f"{replayed.url} is {mime or 'of unknown type'}, not text: write it out with --raw")


def _read(warc_dir: str | os.PathLike[str], entry: CdxjEntry) -> ArcWarcRecord:
    return read_record(archive_file(warc_dir, entry.filename), entry.offset)


def _original(store: IndexStore, revisit: ArcWarcRecord, entry: CdxjEntry) -> CdxjEntry | None:
    """The non-revisit capture a revisit refers to: its target URI at its date, with the same digest."""
    target = revisit.rec_headers.get_header("WARC-Refers-To-Target-URI") or entry.url
    date = revisit.rec_headers.get_header("WARC-Refers-To-Date")
    at = parse_warc_date(date).replace(tzinfo=None) if date else None
    digest = entry.fields.get("digest")
    candidates = [
        e
        for e in store.lookup(target, None, at)
        if e.fields.get("mime") != REVISIT_MIME and (digest is None or e.fields.get("digest") == digest)
    ]
    return nearest(candidates, at)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"
