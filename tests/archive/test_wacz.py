"""WACZ packages: valid for the ``wacz`` tool, complete, selectable by date range, written in flat memory."""

import gzip
import json
import os
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from archive.extract import Extraction
from archive.format import article_payload
from archive.index import IndexStore, parse_line
from archive.wacz import INDEX_BLOCK_LINES, write_wacz
from archive.warc import HttpExchange, WarcWriter
from archive.warc.records import exchange_records, metadata_record
from tests.tools import tool

DAY = datetime(2019, 2, 28, tzinfo=timezone.utc)
REPO = Path(__file__).resolve().parents[2]


def page(n: int, when: datetime, size: int = 2000) -> HttpExchange:
    body = f"<html><head><title>Story {n}</title></head><body><p>{'x' * size}</p></body></html>".encode()
    return HttpExchange(
        url=f"http://www.example.com/news/{n}",
        method="GET",
        request_headers=[(b"Host", b"www.example.com")],
        status=200,
        response_headers=[(b"Content-Type", b"text/html; charset=utf-8")],
        body=body,
        fetched_at=when,
        response_record_id=f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>",
    )


def make_archive(data: Path, stories: int, max_size: int = 40_000, size: int = 2000, hours: int = 1) -> None:
    """``stories`` article captures ``hours`` apart, each with its article metadata record in the same file."""
    writer = WarcWriter(data / "warcs", info={"software": "test"}, max_size=max_size)
    for n in range(stories):
        when = DAY + timedelta(hours=n * hours)
        ex = page(n, when, size)
        payload = article_payload(None, Extraction(title=f"Story {n}", text=f"Text of story {n}."))
        later = when + timedelta(seconds=3)  # extraction takes a moment
        extraction = metadata_record(writer.builder, ex.url, ex.response_record_id, payload, later)
        writer.write([*exchange_records(ex, writer.builder), extraction])
    writer.close()
    IndexStore(data / "indexes").rebuild(data / "warcs")


def validate(path: Path) -> None:
    done = subprocess.run([str(tool("wacz")), "validate", "-f", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and "is valid" in done.stdout, done.stdout + done.stderr


def test_a_whole_archive_packages_into_a_valid_wacz(tmp_path: Path) -> None:
    make_archive(tmp_path, 40, max_size=20_000)
    warcs = sorted((tmp_path / "warcs").glob("*.warc.gz"))
    assert len(warcs) > 2
    summary = write_wacz(tmp_path / "all.wacz", tmp_path / "warcs", IndexStore(tmp_path / "indexes"), title="Test")
    assert (summary.warc_files, summary.pages, summary.index_lines) == (len(warcs), 40, 40)
    validate(summary.path)
    with zipfile.ZipFile(summary.path) as wacz:
        for path in warcs:  # stored as they are, uncompressed, so replay tools can seek
            info = wacz.getinfo(f"archive/{path.name}")
            assert info.compress_type == zipfile.ZIP_STORED
            assert wacz.read(info) == path.read_bytes()
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()]
        assert pages[0]["format"] == "json-pages-1.0"
        assert [(p["url"], p["title"]) for p in pages[1:]] == [
            (f"http://www.example.com/news/{n}", f"Story {n}") for n in range(40)
        ]
        # at the time of the capture (the response), not of the extraction
        assert pages[1]["ts"] == "2019-02-28T00:00:00Z" and pages[2]["ts"] == "2019-02-28T01:00:00Z"
        lines = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode().splitlines(keepends=True)
        assert lines == list(IndexStore(tmp_path / "indexes").lines())
        idx = wacz.read("indexes/index.idx").decode().splitlines()
        assert json.loads(idx[0].split(" ", 2)[2])["format"] == "cdxj-gzip-1.0"
        assert len(idx) == 1 + -(-40 // INDEX_BLOCK_LINES)
        package = json.loads(wacz.read("datapackage.json"))
        assert package["wacz_version"] == "1.1.1" and package["title"] == "Test"


def test_the_index_blocks_are_where_index_idx_says(tmp_path: Path) -> None:
    make_archive(tmp_path, 2500, max_size=10_000_000, size=10)
    summary = write_wacz(tmp_path / "a.wacz", tmp_path / "warcs", IndexStore(tmp_path / "indexes"))
    with zipfile.ZipFile(summary.path) as wacz:
        data = wacz.read("indexes/index.cdx.gz")
        blocks = [line.split(" ", 2) for line in wacz.read("indexes/index.idx").decode().splitlines()[1:]]
    assert len(blocks) == 3
    for key, stamp, where in blocks:
        spot = json.loads(where)
        block = gzip.decompress(data[spot["offset"] : spot["offset"] + spot["length"]]).decode().splitlines()
        first = parse_line(block[0])
        assert (first.key, first.timestamp) == (key, stamp)
        assert len(block) in (INDEX_BLOCK_LINES, 2500 - 2 * INDEX_BLOCK_LINES)


def test_a_date_range_takes_the_files_open_during_it_and_the_captures_in_it(tmp_path: Path) -> None:
    make_archive(tmp_path, 6, max_size=1)  # one file per capture
    warcs = sorted((tmp_path / "warcs").glob("*.warc.gz"))
    for n, path in enumerate(warcs):  # as if each file had been written on its capture's day... and hour
        created = DAY + timedelta(hours=n)
        renamed = path.with_name(path.name.replace(path.name.split("-")[1], created.strftime("%Y%m%d%H%M%S000")))
        path.rename(renamed)
        os.utime(renamed, (created.timestamp() + 60, created.timestamp() + 60))
    index = IndexStore(tmp_path / "indexes")
    index.rebuild(tmp_path / "warcs")
    start, end = DAY + timedelta(hours=2), DAY + timedelta(hours=3, minutes=30)
    summary = write_wacz(tmp_path / "range.wacz", tmp_path / "warcs", index, start, end)
    validate(summary.path)
    with zipfile.ZipFile(summary.path) as wacz:
        names = sorted(n for n in wacz.namelist() if n.startswith("archive/"))
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()[1:]]
        lines = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode().splitlines()
    assert len(names) == 2
    assert [p["title"] for p in pages] == ["Story 2", "Story 3"]
    assert [parse_line(line).url.rsplit("/", 1)[1] for line in lines] == ["2", "3"]


MEMORY_PROBE = """
import sys, tracemalloc
from pathlib import Path
from archive.index import IndexStore
from archive.wacz import write_wacz
data = Path(sys.argv[1])
tracemalloc.start()
write_wacz(data / "out.wacz", data / "warcs", IndexStore(data / "indexes"))
print(tracemalloc.get_traced_memory()[1])
"""


def peak_allocated(data: Path) -> int:
    """The most memory Python held at once while writing the archive's WACZ, in a fresh process."""
    done = subprocess.run([sys.executable, "-c", MEMORY_PROBE, str(data)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_memory_stays_flat_as_the_archive_grows(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    make_archive(small, 300, max_size=2_000_000, size=20_000)  # 6 MB of pages, 300 articles
    make_archive(large, 3000, max_size=2_000_000, size=20_000)  # ten times the pages, files, lines and articles
    peak_small, peak_large = peak_allocated(small), peak_allocated(large)
    print(f"peak allocation: {peak_small / 1e6:.1f} MB for 300 articles, {peak_large / 1e6:.1f} MB for 3000")
    assert peak_large < 1.5 * peak_small + 2_000_000
