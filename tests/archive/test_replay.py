"""archive.replay and ``newsarchive replay``: find a capture by URL and time, read it back, cite it."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from archive.cli import main
from archive.cli.replay import NOT_OK, parse_time
from archive.config import ArchivePaths
from archive.index import CdxjEntry, IndexStore
from archive.index.cdxj import parse_line
from archive.replay import (
    Replayed,
    UnsafePath,
    archive_file,
    capture_time,
    captures,
    find_capture,
    load,
    nearest,
    page_text,
)
from tests.archive.web.conftest import EDITED_TITLE, EDITED_URL, two_crawls  # noqa: F401 (a fixture)
from tests.conftest import CrawlRun
from tests.fixtureweb.data import load_seeds
from tests.fixtureweb.server import TP_ARTICLE

SEEDS = load_seeds()
GZIP_URL = SEEDS[0].url  # served gzip-encoded: the archive keeps it so
TP_REDIRECT = "http://thinkprogress.org/?p=1234567"  # the fixture web answers 301, to TP_ARTICLE


def entry(stamp: str, status: str | None = "200") -> CdxjEntry:
    fields = {"url": "http://a.example/", "filename": "x.warc.gz", "offset": "0", "length": "1"}
    return CdxjEntry("example,a)/", stamp, fields | ({"status": status} if status else {}))


def test_nearest_picks_the_closest_capture_and_the_latest_without_a_time() -> None:
    entries = [entry("20190101000000"), entry("20190201000000"), entry("20190301000000")]
    assert nearest(entries).timestamp == "20190301000000"
    assert nearest(entries, datetime(2019, 2, 10)).timestamp == "20190201000000"
    assert nearest(entries, datetime(2019, 2, 20)).timestamp == "20190301000000"
    assert nearest(entries, datetime(2030, 1, 1)).timestamp == "20190301000000"
    assert nearest([], datetime(2019, 1, 1)) is None


@pytest.mark.parametrize("name", ["../archive.db", "..", "", "sub/x.warc.gz", "/etc/passwd", "a\\b", "x\0y"])
def test_archive_file_refuses_names_outside_the_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnsafePath):
        archive_file(tmp_path / "warcs", name)


def test_archive_file_refuses_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "warcs").mkdir()
    (tmp_path / "secret").write_text("no")
    (tmp_path / "warcs" / "link.warc.gz").symlink_to(tmp_path / "secret")
    with pytest.raises(UnsafePath):
        archive_file(tmp_path / "warcs", "link.warc.gz")
    assert archive_file(tmp_path / "warcs", "a.warc.gz") == (tmp_path / "warcs" / "a.warc.gz").resolve()


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: s.outlet)
def test_load_reads_each_seed_article_with_its_headers_and_citation(fixture_crawl: CrawlRun, seed) -> None:
    store = IndexStore(fixture_crawl.data_dir / "indexes")
    found = find_capture(store, seed.url)
    assert found is not None and found.status == 200
    replayed = load(store, fixture_crawl.warc_dir, found)
    assert replayed.status_line == "HTTP/1.1 200 OK"
    assert ("Last-Modified", "Thu, 28 Feb 2019 23:00:00 GMT") in replayed.headers
    assert seed.title.encode() in replayed.body
    text = page_text(replayed)
    assert text.startswith(seed.title) and seed.body_lines[0][:40] in text
    citation = replayed.citation()
    assert citation.record_id.startswith("<urn:uuid:") and citation.warc_filename == found.filename
    assert abs(citation.captured - capture_time(found)) < timedelta(seconds=1)
    assert citation.record_id in citation.text() and seed.url in citation.text()


def test_load_decodes_a_gzip_encoded_body(fixture_crawl: CrawlRun) -> None:
    store = IndexStore(fixture_crawl.data_dir / "indexes")
    replayed = load(store, fixture_crawl.warc_dir, find_capture(store, GZIP_URL))
    assert ("Content-Encoding", "gzip") in replayed.headers
    assert replayed.body.lstrip().startswith(b"<!DOCTYPE html") or replayed.body.lstrip().startswith(b"<")
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(replayed.body)


def test_a_revisit_is_read_from_the_record_it_refers_to(two_crawls: ArchivePaths) -> None:  # noqa: F811
    store = IndexStore(two_crawls.index_dir)
    seed = SEEDS[0]  # unchanged between the crawls: the second capture is a revisit
    first, second = captures(store, seed.url)
    assert second.fields["mime"] == "warc/revisit"
    replayed = load(store, two_crawls.warc_dir, second)
    assert replayed.body_from == first and seed.title.encode() in replayed.body
    assert replayed.citation().warc_filename == second.filename


def test_cli_replay_prints_the_text_of_the_capture_nearest_a_time(two_crawls: ArchivePaths, capsys) -> None:  # noqa: F811
    first, second = captures(IndexStore(two_crawls.index_dir), EDITED_URL)
    data = ["--data", str(two_crawls.data_dir)]
    assert main([*data, "replay", EDITED_URL, "--at", first.timestamp, "--cite"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The Hanoi Summit Collapses\n") and EDITED_TITLE not in out
    assert f"WARC {first.filename}" in out and "record <urn:uuid:" in out
    assert main([*data, "replay", EDITED_URL]) == 0  # the latest by default
    assert capsys.readouterr().out.startswith(EDITED_TITLE)
    assert main([*data, "replay", EDITED_URL, "--list"]) == 0
    listing = capsys.readouterr().out
    assert first.filename in listing and second.filename in listing


def test_cli_replay_writes_the_raw_body_with_its_original_headers(
    fixture_crawl: CrawlRun, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "page.html"
    data = ["--data", str(fixture_crawl.data_dir)]
    assert main([*data, "replay", GZIP_URL, "--raw", str(out), "--headers"]) == 0
    head, _, body = out.read_bytes().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Encoding: gzip" in head
    assert b"</html>" in body  # decoded
    assert main([*data, "replay", "http://nowhere.example/"]) == 1
    assert "no capture of http://nowhere.example/" in capsys.readouterr().err
    assert main([*data, "replay", GZIP_URL, "--at", "yesterday"]) == 2


def test_parse_time_takes_iso_and_cdxj_timestamps() -> None:
    assert parse_time("20190228") == datetime(2019, 2, 28)
    assert parse_time("2019") == datetime(2019, 1, 1)
    assert parse_time("20190228153012") == datetime(2019, 2, 28, 15, 30, 12)
    assert parse_time("2019-02-28T16:30:00+01:00") == datetime(2019, 2, 28, 15, 30)


def _capture_with_status(fixture_crawl: CrawlRun, status: int) -> CdxjEntry:
    store = IndexStore(fixture_crawl.data_dir / "indexes")
    return next(e for e in map(parse_line, store.lines()) if e.status == status)


def test_cli_replay_of_a_redirect_names_its_status_and_fails_unless_any_status(fixture_crawl: CrawlRun, capsys) -> None:
    """The finding: a 301's body was printed with exit 0 and no word of the status."""
    data = ["--data", str(fixture_crawl.data_dir)]
    assert main([*data, "replay", TP_REDIRECT]) == NOT_OK == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert f"answered 301 Moved Permanently (Location: {TP_ARTICLE})" in err and "--any-status" in err
    assert main([*data, "replay", TP_REDIRECT, "--any-status", "--raw", "-"]) == 0
    out, err = capsys.readouterr()
    assert "note: the capture of" in err and "301 Moved Permanently" in err


def test_cli_replay_of_a_404_fails_and_a_200_stays_exit_0(fixture_crawl: CrawlRun, tmp_path: Path, capsys) -> None:
    missing = _capture_with_status(fixture_crawl, 404)
    data = ["--data", str(fixture_crawl.data_dir)]
    out = tmp_path / "page"
    assert main([*data, "replay", missing.url, "--raw", str(out)]) == NOT_OK
    assert "answered 404 Not Found" in capsys.readouterr().err and not out.exists()
    assert main([*data, "replay", missing.url, "--raw", str(out), "--any-status"]) == 0 and out.exists()
    assert "note: the capture of" in capsys.readouterr().err
    assert main([*data, "replay", GZIP_URL]) == 0
    assert "answered" not in capsys.readouterr().err
    assert main([*data, "replay", GZIP_URL, "--raw", str(tmp_path)]) == 2  # a folder: an error, no traceback
    assert f"cannot write {tmp_path}: Is a directory" in capsys.readouterr().err


def test_replayed_status_of_each_kind_of_status_line() -> None:
    def replayed(line: str) -> Replayed:
        e = entry("20190101000000")
        return Replayed(e, "<urn:uuid:x>", datetime(2019, 1, 1), line, [("location", "/x")], b"", e)

    assert replayed("HTTP/1.1 404 Not Found").status == 404
    assert replayed("HTTP/1.1 404 Not Found").reason == "404 Not Found"
    assert replayed("HTTP/1.0 200").status == 200
    assert replayed("").status is None and replayed("HTTP/1.1 abc").status is None
    assert replayed("").header("Location") == "/x" and replayed("").header("ETag") is None
