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

The ZIP is written by :class:`archive.zipwriter.ZipWriter`, not
:mod:`zipfile`, so that every local header says what its central directory
entry says (ReplayWeb.page reads members by HTTP range and trusts the
central directory).

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
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import archive
from archive.errors import NewsArchiveError
from archive.format import ArticleRecord, described_url, parse_metadata
from archive.index import IndexStore
from archive.warc.files import closed_warcs, parse_name
from archive.warc.reader import iter_records
from archive.warc.records import ArchivedRecord
from archive.zipwriter import Hashing, ZipWriteError, ZipWriter

__all__ = ["WACZ_VERSION", "WaczError", "WaczSummary", "write_wacz"]

WACZ_VERSION = "1.1.1"
#: Index lines per compressed block (what ArchiveWeb.page and py-wacz use).
INDEX_BLOCK_LINES = 1024
#: Response records remembered while looking for the article metadata records that refer to them.
RECENT_RESPONSES = 10_000


class WaczError(NewsArchiveError):
    """A WACZ file could not be written as asked."""


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
    with temporary.open("wb") as out, _removed_on_failure(temporary):
        wacz = ZipWriter(out, datetime.now(timezone.utc), spool_dir=output.parent)
        for path in warcs:
            try:
                stored = wacz.add_file(f"archive/{path.name}", path)
            except ZipWriteError as e:
                raise WaczError(str(e)) from e
            resources.append(_resource(f"archive/{path.name}", stored))
        block_index, lines = _add_index(wacz, index.lines(start, end, [path.name for path in warcs]), resources)
        index_idx = "indexes/index.idx"
        resources.append(_resource(index_idx, wacz.add_bytes(index_idx, "".join(block_index).encode())))
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
        wacz.add_bytes("datapackage.json", package_bytes)
        digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest()}
        wacz.add_bytes("datapackage-digest.json", json.dumps(digest, indent=2).encode())
        wacz.close()
    os.replace(temporary, output)
    return WaczSummary(output, len(warcs), pages, lines, output.stat().st_size)


@contextmanager
def _removed_on_failure(path: Path) -> Iterator[None]:
    try:
        yield
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _open_during(path: Path, start: datetime | None, end: datetime | None) -> bool:
    """Whether a WARC file was being written at some time in [start, end]: from its name's
    timestamp (created) to its modification time (last written)."""
    name = parse_name(path.name)
    created = name.created if name else None  # not named by this project's writer: by modification time alone
    modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    return (end is None or created is None or created <= end) and (start is None or modified >= start)


def _resource(path: str, stored: Hashing) -> dict[str, Any]:
    """A member's entry in datapackage.json."""
    return {
        # a Data Package name allows only [-a-z0-9._/]: the "~" of IIPC WARC names becomes "-"
        "name": re.sub(r"[^-a-z0-9._/]", "-", path.rsplit("/", 1)[-1].lower()),
        "path": path,
        "hash": "sha256:" + stored.sha256.hexdigest(),
        "bytes": stored.size,
    }


def _add_index(wacz: ZipWriter, lines: Iterator[str], resources: list[dict[str, Any]]) -> tuple[list[str], int]:
    """Write ``indexes/index.cdx.gz``; return the lines of index.idx and the number of CDXJ lines."""
    block_index = [f"!meta 0 {json.dumps({'format': 'cdxj-gzip-1.0', 'filename': 'index.cdx.gz'})}\n"]
    count = 0
    # stored: its blocks are gzip members already, found by offset
    with wacz.generated("indexes/index.cdx.gz", compress=False) as hashing:
        block: list[str] = []
        for line in lines:
            block.append(line)
            count += 1
            if len(block) == INDEX_BLOCK_LINES:
                block_index.append(_write_block(hashing, block))
                block = []
        if block:
            block_index.append(_write_block(hashing, block))
    resources.append(_resource("indexes/index.cdx.gz", hashing))
    return block_index, count


def _write_block(out: Hashing, block: list[str]) -> str:
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
    wacz: ZipWriter,
    warcs: list[Path],
    start: datetime | None,
    end: datetime | None,
    with_text: bool,
    resources: list[dict[str, Any]],
) -> int:
    count = 0
    with wacz.generated("pages/pages.jsonl") as hashing:
        header = {"format": "json-pages-1.0", "id": "pages", "title": "Archived articles"}
        if with_text:
            header["hasText"] = True
        hashing.write((json.dumps(header) + "\n").encode())
        for page in _pages(warcs, with_text):
            moment = _parse_iso(page["ts"])
            if (start is None or moment >= start) and (end is None or moment <= end):
                hashing.write((json.dumps(page, ensure_ascii=False) + "\n").encode())
                count += 1
    resources.append(_resource("pages/pages.jsonl", hashing))
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
    url = described_url(record.target_uri)
    page: dict[str, Any] = {
        "id": record.record_id.removeprefix("<urn:uuid:").removesuffix(">"),
        "url": url,
        "ts": _iso(captured),
        "title": article.extraction.title or url,
    }
    if with_text and article.extraction.text:
        page["text"] = article.extraction.text
    return page


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _parse_iso(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
