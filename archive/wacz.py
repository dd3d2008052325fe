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

The ZIP is written by :class:`_ZipWriter`, not :mod:`zipfile`: a reader that
seeks straight to a member (ReplayWeb.page's wabac.js, reading by HTTP range)
trusts the central directory, so each local header must say exactly what its
central directory entry says. zipfile gives a member of unknown size a ZIP64
extra field in its local header only, which put every byte of the index and
the page list 20 bytes off for ReplayWeb.page. Here each member's sizes are
known before its header is written (a WARC from its file; generated content,
compressed, from a temporary file beside the output), and a member carries
ZIP64 fields exactly when its sizes or offset pass 32 bits, in both headers.

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
import struct
import tempfile
import zlib
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import archive
from archive.errors import NewsArchiveError
from archive.format import ArticleRecord, described_url, parse_metadata
from archive.index import IndexStore
from archive.warc.files import closed_warcs, parse_name
from archive.warc.reader import iter_records
from archive.warc.records import ArchivedRecord

__all__ = ["WACZ_VERSION", "WaczError", "WaczSummary", "write_wacz"]

WACZ_VERSION = "1.1.1"
#: Index lines per compressed block (what ArchiveWeb.page and py-wacz use).
INDEX_BLOCK_LINES = 1024
#: Response records remembered while looking for the article metadata records that refer to them.
RECENT_RESPONSES = 10_000
#: Sizes and offsets from this value up do not fit a ZIP header's 32-bit fields and go in ZIP64 fields.
ZIP64_LIMIT = 0xFFFFFFFF
#: What a 32-bit header field holds when the value is in a ZIP64 field.
_IN_ZIP64 = 0xFFFFFFFF
_CHUNK = 1 << 20


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
        wacz = _ZipWriter(out, datetime.now(timezone.utc), spool_dir=output.parent)
        for path in warcs:
            resources.append(wacz.add_file(f"archive/{path.name}", path))
        block_index, lines = _add_index(wacz, index.lines(start, end, [path.name for path in warcs]), resources)
        resources.append(wacz.add_bytes("indexes/index.idx", "".join(block_index).encode()))
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


class _Hashing:
    """A writable that hashes (SHA-256 for the datapackage, CRC-32 for the ZIP) and counts what passes through it."""

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

    def resource(self, path: str) -> dict[str, Any]:
        return {
            # a Data Package name allows only [-a-z0-9._/]: the "~" of IIPC WARC names becomes "-"
            "name": re.sub(r"[^-a-z0-9._/]", "-", path.rsplit("/", 1)[-1].lower()),
            "path": path,
            "hash": "sha256:" + self.sha256.hexdigest(),
            "bytes": self.size,
        }


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


class _ZipWriter:
    """A ZIP file written front to back (see the module docstring for why not :mod:`zipfile`)."""

    def __init__(self, out: IO[bytes], when: datetime, spool_dir: Path) -> None:
        self.out = out
        self.spool_dir = spool_dir
        self.members: list[_Member] = []
        moment = when.astimezone(timezone.utc)
        self._time = moment.hour << 11 | moment.minute << 5 | moment.second // 2
        self._date = (max(moment.year, 1980) - 1980) << 9 | moment.month << 5 | moment.day

    def add_file(self, name: str, source: Path) -> dict[str, Any]:
        """Store a file as it is (so a reader can seek into it); its datapackage resource.

        Its size is known from the start; its CRC is written into the local header once copied.
        """
        size = source.stat().st_size
        start = self.out.tell()
        self.out.write(self._local_header(_Member(name.encode(), _STORED, 0, size, size, start)))
        hashing = _Hashing(self.out)
        with source.open("rb") as f:
            shutil.copyfileobj(f, hashing, _CHUNK)
        if hashing.size != size:
            raise WaczError(f"{source} changed while it was being packaged")
        member = _Member(name.encode(), _STORED, hashing.crc, size, size, start)
        end = self.out.tell()
        self.out.seek(start)
        self.out.write(self._local_header(member))
        self.out.seek(end)
        self.members.append(member)
        return hashing.resource(name)

    @contextmanager
    def generated(self, name: str, compress: bool = True) -> Iterator[_Hashing]:
        """A member written through the yielded writable: spooled (compressed) to a temporary
        file, then added with sizes and CRC known."""
        with tempfile.TemporaryFile(dir=self.spool_dir, prefix=".wacz-") as spool:
            sink = _Deflating(spool) if compress else spool
            hashing = _Hashing(sink)
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

    def add_bytes(self, name: str, data: bytes) -> dict[str, Any]:
        with self.generated(name) as out:
            out.write(data)
        return out.resource(name)

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


def _add_index(wacz: _ZipWriter, lines: Iterator[str], resources: list[dict[str, Any]]) -> tuple[list[str], int]:
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
    wacz: _ZipWriter,
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
