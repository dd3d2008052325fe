"""Deduplication across two crawls of the unchanged fixture web: revisit records, not second copies."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.recordbuilder import RecordBuilder

from archive.db import Capture, open_database, session_factory
from archive.warc import iter_records, read_record
from tests.conftest import CrawlRun, run_crawl
from tests.fixtureweb.server import FixtureWeb


@pytest.fixture(scope="module")
def two_crawls(fixture_web: FixtureWeb, tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlRun, CrawlRun]:
    data = tmp_path_factory.mktemp("dedup")
    first = run_crawl(fixture_web, data)
    assert first.returncode == 0, first.log[-3000:]
    second = run_crawl(fixture_web, data, RECHECK_KNOWN_ARTICLES="always")  # every article again, not when due
    assert second.returncode == 0, second.log[-3000:]
    return first, second


@pytest.fixture(scope="module")
def captures(two_crawls: tuple[CrawlRun, CrawlRun]):
    first, _ = two_crawls
    engine = open_database(first.database_url)
    with session_factory(engine)() as session:
        rows = session.scalars(select(Capture).order_by(Capture.id)).all()
        by_url: dict[str, list[Capture]] = {}
        for row in rows:
            row.url  # noqa: B018 - load the relationship before the session closes
            by_url.setdefault(row.url.url, []).append(row)
    engine.dispose()
    return by_url


def test_unchanged_pages_become_revisits_of_the_first_capture(two_crawls, captures) -> None:
    first, _ = two_crawls
    # an unchanged article is not parsed again, so its images and stylesheets are not fetched again
    twice = [rows for rows in captures.values() if len(rows) >= 2]
    pairs = [(a, b) for a, b, *_ in twice if a.status == 200 and not a.truncated]
    assert len(pairs) >= 10
    for original, revisit in pairs:
        assert not original.is_revisit
        assert revisit.is_revisit, revisit.url.url
        assert revisit.original_id == original.id
        assert revisit.payload_digest == original.payload_digest
        record = read_record(first.warc_dir / revisit.warc_filename, revisit.warc_offset)
        headers = record.rec_headers
        assert record.rec_type == "revisit"
        assert headers.get_header("WARC-Profile") == RecordBuilder.REVISIT_PROFILE_1_1
        assert headers.get_header("WARC-Refers-To") == original.record_id
        assert headers.get_header("WARC-Refers-To-Target-URI") == original.url.url
        body_record = read_record(first.warc_dir / original.warc_filename, original.warc_offset)
        assert headers.get_header("WARC-Refers-To-Date") == body_record.rec_headers.get_header("WARC-Date")
        assert record.raw_stream.read() == b""  # the head only: the body stays in the original
        assert record.http_headers.get_statuscode() == "200"


def test_errors_and_redirects_are_stored_again(captures) -> None:
    again = [rows[1] for rows in captures.values() if len(rows) >= 2 and rows[0].status != 200]
    assert {c.status for c in again} >= {301, 302, 404, 500}
    assert not any(c.is_revisit for c in again)


def test_second_crawl_stores_no_body_or_extraction_again(two_crawls) -> None:
    """Unchanged articles are neither stored again nor their extraction repeated."""
    first, _ = two_crawls
    files = sorted(first.warc_dir.glob("*.warc.gz"), key=lambda p: p.name)
    assert len(files) == 2
    kinds = Counter((r.rec_type, r.status, (r.data or {}).get("newsarchive")) for r in iter_records(files[1]))
    assert kinds[("revisit", 200, None)] >= 10
    assert kinds[("response", 200, None)] == 0
    assert not [k for k in kinds if k[2] == "article/1"]
    assert kinds[("metadata", None, "listing/1")] > 0  # a feed fetched again still says what it listed
    warcio = str(Path(sys.executable).parent / "warcio")
    for path in files:
        checked = subprocess.run([warcio, "check", "-v", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout
