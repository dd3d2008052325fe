"""Packaging an archive, or a date range of it, as one WACZ file (format 1.1.1).

A WACZ is a ZIP that replay tools (ReplayWeb.page, pywb) open as it is:

- ``archive/*.warc.gz``: the WARC files, stored byte for byte (no ZIP compression,
  so a reader can seek to a record);
- ``indexes/index.cdx.gz`` and ``indexes/index.idx``: the CDXJ index in blocks of
  ``INDEX_BLOCK_LINES`` gzip-compressed lines, and one line per block saying
  where it is (the "zipnum" layout replay tools binary-search without reading
  the whole index);
- ``pages/pages.jsonl``: one line per archived article, with its URL, capture
  time and headline, read from the article metadata records in the WARCs;
- ``datapackage.json``: every file's size and SHA-256, and
  ``datapackage-digest.json``: the hash of that.

Everything is streamed: WARCs are copied in chunks and hashed on the way,
index lines are merged from the per-WARC index files, pages are written as
the WARCs are read. Memory stays flat however large the archive: what is held
is one index block, one line per block of the index, and a bounded map from
recent response records to their capture time.

A date range selects the WARC files that were open during it (created before
its end, last written after its start), and the index lines and pages within
it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import archive
from archive.format import ArticleRecord, parse_metadata
from archive.index import IndexStore
from archive.warc.files import closed_warcs, parse_name
from archive.warc.reader import iter_records
from archive.warc.records import ArchivedRecord

__all__ = ["WACZ_VERSION", "WaczSummary", "write_wacz"]

WACZ_VERSION = "1.1.1"
#: Index lines per compressed block (what ArchiveWeb.page and py-wacz use).
INDEX_BLOCK_LINES = 1024
#: Response records remembered while looking for the article metadata records that refer to them.
RECENT_RESPONSES = 10_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class WaczSummary:
    path: Path
    warc_files: int
    pages: int
    index_lines: int
    size: int


def write_wacz(
    output: str | os.PathLike[str],
    warc_dir: str | os.PathLike[str],
    index: IndexStore,
    start: datetime | None = None,
    end: datetime | None = None,
    title: str | None = None,
    with_text: bool = False,
) -> WaczSummary:
    """Write the closed WARC files of ``warc_dir`` (those open during [start, end]) as a WACZ file.

    ``with_text`` puts each article's text in pages.jsonl, for full-text search in replay tools.
    """
    output = Path(output)
    warcs = [path for path in closed_warcs(warc_dir) if _open_during(path, start, end)]
    for path in warcs:
        if not index.index_path(path.name).exists():
            index.index_warc(path)
    temporary = output.with_name(output.name + ".tmp")
    resources: list[dict[str, Any]] = []
    with zipfile.ZipFile(temporary, "w", allowZip64=True) as wacz:
        for path in warcs:
            resources.append(_add_file(wacz, path, f"archive/{path.name}"))
        block_index, lines = _add_index(wacz, index.lines(start, end, [path.name for path in warcs]), resources)
        resources.append(_add_bytes(wacz, "indexes/index.idx", "".join(block_index).encode()))
        pages = _add_pages(wacz, warcs, start, end, with_text, resources)
        package = {
            "profile": "data-package",
            "resources": resources,
            "wacz_version": WACZ_VERSION,
            "software": f"newsarchive {archive.__version__}",
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "title": title or "newsarchive crawl",
        }
        if start or end:
            package["description"] = f"Captures from {_iso(start) or 'the start'} to {_iso(end) or 'the end'}"
        package_bytes = json.dumps(package, indent=2).encode()
        _add_bytes(wacz, "datapackage.json", package_bytes)
        digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
        _add_bytes(wacz, "datapackage-digest.json", json.dumps(digest, indent=2).encode())
    os.replace(temporary, output)
    return WaczSummary(output, len(warcs), pages, lines, output.stat().st_size)


def _open_during(path: Path, start: datetime | None, end: datetime | None) -> bool:
    """Whether a WARC file was being written at some time in [start, end]: from its name's
    timestamp (created) to its modification time (last written)."""
    name = parse_name(path.name)
    created = name.created if name else None  # not named by this project's writer: by modification time alone
    modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    return (end is None or created is None or created <= end) and (start is None or modified >= start)


class _Hashing:
    """A writable that hashes and counts what passes through it."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.out.write(data)

    def resource(self, path: str) -> dict[str, Any]:
        return {
            # a Data Package name allows only [-a-z0-9._/]: the "~" of IIPC WARC names becomes "-"
            "name": re.sub(r"[^-a-z0-9._/]", "-", path.rsplit("/", 1)[-1].lower()),
            "path": path,
            "hash": "sha256:" + self.sha256.hexdigest(),
            "bytes": self.size,
        }


def _entry(path: str, compress: bool, size: int | None = None) -> tuple[zipfile.ZipInfo, bool]:
    info = zipfile.ZipInfo(path, datetime.now(timezone.utc).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    if size is not None:
        info.file_size = size
    return info, size is None  # an entry of unknown size may pass 2 GiB: give it ZIP64 fields


def _add_file(wacz: zipfile.ZipFile, source: Path, path: str) -> dict[str, Any]:
    info, zip64 = _entry(path, compress=False, size=source.stat().st_size)
    with source.open("rb") as f, wacz.open(info, "w", force_zip64=zip64) as out:
        hashing = _Hashing(out)
        shutil.copyfileobj(f, hashing, _CHUNK)
    return hashing.resource(path)


def _add_bytes(wacz: zipfile.ZipFile, path: str, data: bytes) -> dict[str, Any]:
    info, zip64 = _entry(path, compress=True, size=len(data))
    with wacz.open(info, "w", force_zip64=zip64) as out:
        hashing = _Hashing(out)
        hashing.write(data)
    return hashing.resource(path)


def _add_index(wacz: zipfile.ZipFile, lines: Iterator[str], resources: list[dict[str, Any]]) -> tuple[list[str], int]:
    """Write ``indexes/index.cdx.gz``; return the lines of index.idx and the number of CDXJ lines."""
    block_index = [f"!meta 0 {json.dumps({'format': 'cdxj-gzip-1.0', 'filename': 'index.cdx.gz'})}\n"]
    count = 0
    info, zip64 = _entry("indexes/index.cdx.gz", compress=False)
    with wacz.open(info, "w", force_zip64=zip64) as out:
        hashing = _Hashing(out)
        block: list[str] = []
        for line in lines:
            block.append(line)
            count += 1
            if len(block) == INDEX_BLOCK_LINES:
                block_index.append(_write_block(hashing, block))
                block = []
        if block:
            block_index.append(_write_block(hashing, block))
    resources.append(hashing.resource("indexes/index.cdx.gz"))
    return block_index, count


def _write_block(out: _Hashing, block: list[str]) -> str:
    """Compress one block of lines as its own gzip member; its index.idx line."""
    compressed = gzip.compress("".join(block).encode(), mtime=0)
    where = {
        "offset": out.size,
        "length": len(compressed),
        "digest": "sha256:" + hashlib.sha256(compressed).hexdigest(),
    }
    out.write(compressed)
    key_and_time = block[0].split(" {", 1)[0]
    return f"{key_and_time} {json.dumps(where)}\n"


def _add_pages(
    wacz: zipfile.ZipFile,
    warcs: list[Path],
    start: datetime | None,
    end: datetime | None,
    with_text: bool,
    resources: list[dict[str, Any]],
) -> int:
    count = 0
    info, zip64 = _entry("pages/pages.jsonl", compress=True)
    with wacz.open(info, "w", force_zip64=zip64) as out:
        hashing = _Hashing(out)
        header = {"format": "json-pages-1.0", "id": "pages", "title": "Archived articles"}
        if with_text:
            header["hasText"] = True
        hashing.write((json.dumps(header) + "\n").encode())
        for page in _pages(warcs, with_text):
            moment = _parse_iso(page["ts"])
            if (start is None or moment >= start) and (end is None or moment <= end):
                hashing.write((json.dumps(page, ensure_ascii=False) + "\n").encode())
                count += 1
    resources.append(hashing.resource("pages/pages.jsonl"))
    return count


def _pages(warcs: list[Path], with_text: bool) -> Iterator[dict[str, Any]]:
    """A page per article metadata record, at the capture time of the response it refers to."""
    captured: OrderedDict[str, datetime] = OrderedDict()
    for path in warcs:
        for record in iter_records(path):
            if record.rec_type in ("response", "revisit"):
                captured[record.record_id] = record.date
                if len(captured) > RECENT_RESPONSES:
                    captured.popitem(last=False)
            elif record.rec_type == "metadata" and isinstance(article := parse_metadata(record.data), ArticleRecord):
                yield _page(record, article, captured.get(record.refers_to or "", record.date), with_text)


def _page(record: ArchivedRecord, article: ArticleRecord, captured: datetime, with_text: bool) -> dict[str, Any]:
    page: dict[str, Any] = {
        "id": record.record_id.removeprefix("<urn:uuid:").removesuffix(">"),
        "url": record.target_uri,
        "ts": _iso(captured),
        "title": article.extraction.title or record.target_uri,
    }
    if with_text and article.extraction.text:
        page["text"] = article.extraction.text
    return page


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
