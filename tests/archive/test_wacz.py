"""WACZ packages: valid for the ``wacz`` tool and a strict ZIP reader, complete, selectable by date range,
written in flat memory, the same from WARCs written before the metadata records' target URI convention."""

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive import zipwriter
from archive.extract import Extraction
from archive.format import article_payload, metadata_target
from archive.index import IndexStore, parse_line
from archive.wacz import INDEX_BLOCK_LINES, write_wacz
from archive.warc import HttpExchange, WarcWriter
from archive.warc.records import exchange_records, metadata_record
from tests.archive.zipcheck import LIMIT, check_zip
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


def page_url_target(payload: dict[str, object], url: str) -> str:
    """How article records were named before ``urn:newsarchive:article:<URL>`` (:func:`metadata_target`):
    by the page's URL itself."""
    return url


def make_archive(
    data: Path, stories: int, max_size: int = 40_000, size: int = 2000, hours: int = 1, target=metadata_target
) -> None:
    """``stories`` article captures ``hours`` apart, each with its article metadata record in the same file."""
    writer = WarcWriter(data / "warcs", info={"software": "test"}, max_size=max_size)
    for n in range(stories):
        when = DAY + timedelta(hours=n * hours)
        ex = page(n, when, size)
        payload = article_payload(None, Extraction(title=f"Story {n}", text=f"Text of story {n}."))
        later = when + timedelta(seconds=3)  # extraction takes a moment
        extraction = metadata_record(writer.builder, target(payload, ex.url), ex.response_record_id, payload, later)
        writer.write([*exchange_records(ex, writer.builder), extraction])
    writer.close()
    IndexStore(data / "indexes").rebuild(data / "warcs")


def validate(path: Path, zip64_limit: int = LIMIT) -> None:
    """Valid for the ``wacz`` tool, and every local header agrees with the central directory."""
    check_zip(path, zip64_limit)
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
        assert package["profile"] == "data-package" and re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", package["created"]
        )
        assert {r["path"] for r in package["resources"]} == set(wacz.namelist()) - {
            "datapackage.json",
            "datapackage-digest.json",
        }
        for resource in package["resources"]:  # WACZ 1.1.1: each file's SHA-256 and size
            member = wacz.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(member).hexdigest()
            assert resource["bytes"] == len(member) and re.fullmatch(r"[-a-z0-9._]+", resource["name"])
        digest = json.loads(wacz.read("datapackage-digest.json"))
        assert digest == {
            "path": "datapackage.json",
            "hash": "sha256:" + hashlib.sha256(wacz.read("datapackage.json")).hexdigest(),
        }
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["ts"]) for p in pages[1:])  # RFC 3339


def test_every_local_header_says_what_the_central_directory_says(tmp_path: Path) -> None:
    """The regression of ReplayWeb.page reading the index and page list 20 bytes early: zipfile's
    force_zip64 put a ZIP64 field in local headers that the central directory left out."""
    make_archive(tmp_path, 5)
    summary = write_wacz(tmp_path / "a.wacz", tmp_path / "warcs", IndexStore(tmp_path / "indexes"), with_text=True)
    members = {m.name: m for m in check_zip(summary.path)}
    assert set(members) >= {"indexes/index.cdx.gz", "indexes/index.idx", "pages/pages.jsonl", "datapackage.json"}
    assert not any(m.zip64_sizes for m in members.values())  # small: no ZIP64 anywhere
    assert [m.method for m in members.values() if m.name.startswith(("archive/", "indexes/index.cdx"))] == [0, 0]
    done = subprocess.run(["unzip", "-tqq", str(summary.path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_members_past_the_32_bit_limit_carry_zip64_fields_in_both_headers(tmp_path: Path, monkeypatch) -> None:
    """What an archive past 4 GB gets, with the limit lowered so that a small one shows it."""
    make_archive(tmp_path, 30, max_size=20_000)
    monkeypatch.setattr(zipwriter, "ZIP64_LIMIT", 3000)
    summary = write_wacz(tmp_path / "big.wacz", tmp_path / "warcs", IndexStore(tmp_path / "indexes"))
    members = check_zip(summary.path, 3000)
    assert [m for m in members if m.zip64_sizes] == [m for m in members if max(m.size, m.compressed) >= 3000]
    assert any(m.zip64_sizes for m in members) and any(not m.zip64_sizes for m in members)
    assert any(m.offset >= 3000 and not m.zip64_sizes for m in members)  # ZIP64 for the offset alone
    validate(summary.path, 3000)  # zipfile (in the wacz tool) reads the ZIP64 fields too
    with zipfile.ZipFile(summary.path) as wacz:
        for path in sorted((tmp_path / "warcs").glob("*.warc.gz")):
            assert wacz.read(f"archive/{path.name}") == path.read_bytes()


@pytest.mark.parametrize("target", [metadata_target, page_url_target], ids=["urn-target", "page-url-target"])
def test_article_records_of_either_target_convention_give_the_same_pages(tmp_path: Path, target) -> None:
    make_archive(tmp_path, 3, target=target)
    summary = write_wacz(tmp_path / "a.wacz", tmp_path / "warcs", IndexStore(tmp_path / "indexes"))
    with zipfile.ZipFile(summary.path) as wacz:
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()[1:]]
        lines = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode().splitlines()
    assert [(p["url"], p["ts"], p["title"]) for p in pages] == [
        (f"http://www.example.com/news/{n}", f"2019-02-28T0{n}:00:00Z", f"Story {n}") for n in range(3)
    ]
    assert [parse_line(line).url for line in lines] == [f"http://www.example.com/news/{n}" for n in range(3)]


def test_the_index_blocks_are_where_index_idx_says(tmp_path: Path) -> None:
    make_archive(tmp_path, 2500, max_size=10_000_000, size=10)
    summary = write_wacz(tmp_path / "a.wacz", tmp_path / "warcs", IndexStore(tmp_path / "indexes"))
    check_zip(summary.path)
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
