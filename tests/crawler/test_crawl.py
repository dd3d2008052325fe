"""A whole crawl of the fixture web through the real server: what lands in the WARCs and the database."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from archive.db import Article, Capture, FetchError, Observation, Outlet, open_database, session_factory
from archive.extract import EXTRACTOR, EXTRACTOR_VERSION
from archive.warc import read_record
from tests.conftest import CrawlRun
from tests.fixtureweb.data import load_cases, load_seeds

SEEDS = load_seeds()
CASES = {case["kind"]: case for case in load_cases()}


@pytest.fixture(scope="module")
def sessions(fixture_crawl: CrawlRun):
    engine = open_database(fixture_crawl.database_url)
    yield session_factory(engine)
    engine.dispose()


def captures_of(sessions, url: str) -> list[Capture]:
    with sessions() as session:
        return [c for c in session.scalars(select(Capture).order_by(Capture.id)) if c.url.url == url]


def warc_files(run: CrawlRun) -> list[Path]:
    files = sorted(run.warc_dir.glob("*.warc.gz"))
    assert files, "the crawl wrote no WARC file"
    assert not list(run.warc_dir.glob("*.open")), "a WARC file was left open"
    return files


def test_every_warc_passes_warcio_check_and_index(fixture_crawl: CrawlRun) -> None:
    warcio = str(Path(sys.executable).parent / "warcio")
    for path in warc_files(fixture_crawl):
        checked = subprocess.run([warcio, "check", "-v", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        indexed = subprocess.run([warcio, "index", str(path)], capture_output=True, text=True)
        assert indexed.returncode == 0 and indexed.stdout.count("\n") > 10
        with path.open("rb") as f:
            assert next(iter(ArchiveIterator(f))).rec_type == "warcinfo"


def test_every_capture_row_reads_back_its_response_record(fixture_crawl: CrawlRun, sessions) -> None:
    with sessions() as session:
        captures = session.scalars(select(Capture)).all()
        assert len(captures) >= 20
        for capture in captures:
            record = read_record(fixture_crawl.warc_dir / capture.warc_filename, capture.warc_offset)
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Record-ID") == capture.record_id
            assert record.rec_headers.get_header("WARC-Target-URI") == capture.url.url
            assert int(record.http_headers.get_statuscode()) == capture.status
            member = (fixture_crawl.warc_dir / capture.warc_filename).read_bytes()[
                capture.warc_offset : capture.warc_offset + capture.warc_length
            ]
            assert gzip.decompress(member).startswith(b"WARC/1.1\r\nWARC-Record-ID: " + capture.record_id.encode())


def test_captures_keep_the_outlets_addresses(sessions) -> None:
    with sessions() as session:
        urls = [c.url.url for c in session.scalars(select(Capture))]
    assert all(url.startswith("http://") and "127.0.0.1" not in url for url in urls)
    assert {url.split("/")[2] for url in urls} >= {
        "www.commondreams.org",
        "thinkprogress.org",
        "feeds.thinkprogress.org",
        "www.theamericanconservative.com",
    }


def test_one_article_per_seed_page_with_its_outlet_and_metadata(sessions) -> None:
    with sessions() as session:
        articles = {a.url.url: a for a in session.scalars(select(Article))}
        assert sorted(articles) == sorted(seed.url for seed in SEEDS)
        for seed in SEEDS:
            article = articles[seed.url]
            assert article.outlet.name == seed.outlet
            assert article.published == seed.date
            (version,) = article.versions  # one crawl: one version
            assert version.title == seed.title
            assert version.author == seed.author
            assert version.published == seed.date
            assert version.language == seed.language
            assert version.extractor == EXTRACTOR and version.extractor_version == EXTRACTOR_VERSION
            for line in seed.body_lines:
                assert line.strip() in version.text


def test_listed_dates_from_feeds_and_sitemaps_are_kept(sessions) -> None:
    with sessions() as session:
        listed = {a.url.url: (a.listed_published, a.listed_source) for a in session.scalars(select(Article))}
    cd, tp, tac = (seed.url for seed in SEEDS)
    assert listed[cd][0] == "2019-02-28" and listed[cd][1] in ("feed", "sitemap")
    assert listed[tac] == ("2019-02-28", "feed")
    assert listed[tp] == ("2019-02-28", "feed")  # reached through the feed's redirect chain


def test_bodies_are_archived_as_the_server_sent_them(fixture_crawl: CrawlRun, sessions) -> None:
    for kind in ("gzip", "chunked", "repeated-header", "non-html"):
        url = CASES[kind]["url"]
        sent = [r for r in fixture_crawl.served if r.url == url and r.status == 200]
        assert sent, f"the crawl never fetched {url}"
        (capture,) = [c for c in captures_of(sessions, url) if c.status == 200]
        record = read_record(fixture_crawl.warc_dir / capture.warc_filename, capture.warc_offset)
        assert record.raw_stream.read() == sent[-1].body, kind
        stored = dict(record.http_headers.headers)
        if kind == "gzip":
            assert stored["Content-Encoding"] == "gzip"
            assert sent[-1].body[:2] == b"\x1f\x8b"
        if kind == "chunked":  # stored de-chunked, so no header may claim chunked framing
            assert sent[-1].chunked
            assert "Transfer-Encoding" not in stored
        if kind == "repeated-header":
            cookies = [v for n, v in record.http_headers.headers if n.lower() == "set-cookie"]
            assert cookies == sent[-1].response_header_values("Set-Cookie") and len(cookies) == 2


def test_request_records_hold_the_request_as_sent(fixture_crawl: CrawlRun) -> None:
    path = warc_files(fixture_crawl)[0]
    with path.open("rb") as f:
        requests = [r for r in ArchiveIterator(f) if r.rec_type == "request"]
    assert requests
    for record in requests:
        assert record.rec_headers.get_header("WARC-Concurrent-To")
        headers = record.http_headers
        assert headers.get_header("Host") == record.rec_headers.get_header("WARC-Target-URI").split("/")[2]
        assert headers.get_header("User-Agent").startswith("newsarchive/")
        assert headers.get_header("Accept-Encoding") == "gzip, deflate"


def test_robots_txt_is_obeyed(fixture_crawl: CrawlRun, sessions) -> None:
    disallowed = CASES["robots-disallowed"]["url"]
    assert not [r for r in fixture_crawl.served if r.url.startswith(disallowed.split("?")[0])]
    assert captures_of(sessions, disallowed) == []
    assert [c.status for c in captures_of(sessions, "http://www.commondreams.org/robots.txt")] == [200]


@pytest.mark.parametrize("kind", ["not-found", "server-error"])
def test_error_statuses_are_archived_as_captures(sessions, kind: str) -> None:
    case = CASES[kind]
    statuses = {c.status for c in captures_of(sessions, case["url"])}
    assert statuses == {case["status"]}


def test_redirect_chain_is_archived_hop_by_hop(sessions) -> None:
    start = CASES["redirect-chain"]["url"]
    (first,) = captures_of(sessions, start)
    assert first.status == 302
    (second,) = captures_of(sessions, "http://thinkprogress.org/?p=1234567")
    assert second.status == 301
    assert [c.status for c in captures_of(sessions, SEEDS[1].url)] == [200]


def test_timeout_is_recorded_as_a_fetch_error(fixture_crawl: CrawlRun, sessions) -> None:
    url = CASES["slow"]["url"]
    assert captures_of(sessions, url) == []
    with sessions() as session:
        errors = [e for e in session.scalars(select(FetchError)) if e.url.url == url]
    assert len(errors) == 1 and "TimeoutError" in errors[0].error
    record = read_record(fixture_crawl.warc_dir / errors[0].warc_filename, errors[0].warc_offset)
    assert record.rec_type == "metadata"


@pytest.mark.parametrize("kind", ["non-html", "no-article"])
def test_pages_without_an_article_are_captures_without_article(sessions, kind: str) -> None:
    (capture,) = captures_of(sessions, CASES[kind]["url"])
    assert capture.status == 200
    assert capture.content_type == CASES[kind]["content_type"]
    with sessions() as session:
        assert session.scalar(select(Observation).where(Observation.capture_id == capture.id)) is None


def test_outlets_come_from_the_seed_list(sessions) -> None:
    with sessions() as session:
        outlets = {o.name: o.domains for o in session.scalars(select(Outlet))}
    assert outlets == {
        "Common Dreams": ["commondreams.org"],
        "ThinkProgress": ["thinkprogress.org"],
        "The American Conservative": ["theamericanconservative.com"],
    }


def test_crawl_finished_cleanly(fixture_crawl: CrawlRun) -> None:
    assert "'finish_reason': 'finished'" in fixture_crawl.log
    assert "Traceback" not in fixture_crawl.log
    assert "Warning:" not in fixture_crawl.log
    assert "'extraction/articles': 3" in fixture_crawl.log
    assert "archive/responses" in fixture_crawl.log
