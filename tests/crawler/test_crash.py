"""Crash safety: a crawler killed with SIGKILL at any moment loses no finished record, and the next
start (or ``newsarchive recover``) closes what it left open; SIGINT and SIGTERM stop it cleanly.

The crawls run in subprocesses against the generated outlet of the fixture web
(``LOAD_HOST``: five 2 MB files, then 120 articles answered after a short
delay), so there is time to kill them mid-crawl, and big records to be killed
in the middle of (those leave a torn tail). Extraction runs in a thread
(``EXTRACTION_WORKERS=0``) so that killing the crawler leaves no worker behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.cli import main
from archive.db import Capture, open_database, session_factory
from archive.db.models import Base, WarcPointer
from archive.index import IndexStore, parse_line
from archive.warc import iter_records, read_record
from archive.warc.files import OPEN_SUFFIX, parse_name
from archive.warc.recovery import process_alive
from tests.conftest import REPO, TEST_CRAWL_SETTINGS, run_crawl
from tests.fixtureweb.__main__ import proxy_env
from tests.fixtureweb.server import FIDELITY_HOST, LOAD_FILES, LOAD_HOST, FixtureWeb
from tests.tools import tool

CRAWL_SETTINGS = {**TEST_CRAWL_SETTINGS, "EXTRACTION_WORKERS": "0"}


def load_seeds(folder: Path) -> Path:
    """The generated outlet: its front page and big files as start pages, sections, articles."""
    start_urls = [f"http://{LOAD_HOST}/"] + [f"http://{LOAD_HOST}/files/{n}.bin" for n in range(LOAD_FILES)]
    seeds = folder / "load.toml"
    seeds.write_text(
        "[[outlet]]\n"
        'name = "Load Test"\n'
        f'allowed_domains = ["{LOAD_HOST}"]\n'
        f"start_urls = {json.dumps(start_urls)}\n"
        "article_patterns = ['/story/\\d+$']\n"
        "follow_patterns = ['/section/\\d+$']\n"
    )
    return seeds


def tiny_seeds(folder: Path) -> Path:
    """A seed list of one empty page: a crawl that starts, recovers, and ends at once."""
    seeds = folder / "tiny.toml"
    seeds.write_text(
        f'[[outlet]]\nname = "Tiny"\nallowed_domains = ["{FIDELITY_HOST}"]\n'
        f'start_urls = ["http://{FIDELITY_HOST}/empty"]\narticle_patterns = ["^$"]\n'
    )
    return seeds


def start_crawl(web: FixtureWeb, data: Path, seeds: Path, **settings: str) -> tuple[subprocess.Popen[bytes], Path]:
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}"]
    for name, value in {**CRAWL_SETTINGS, "ARCHIVE_DATA_DIR": str(data), **settings}.items():
        command += ["-s", f"{name}={value}"]
    log = data.parent / f"{data.name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=proxy_env(web.proxy_url), stdout=out, stderr=subprocess.STDOUT
        )
    return process, log


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, "the crawl ended before the moment to interrupt it"
        assert time.monotonic() < deadline, "the crawl never reached the moment to interrupt it"
        time.sleep(0.01)


def open_bytes(warc_dir: Path) -> int:
    return sum(p.stat().st_size for p in warc_dir.glob(f"*{OPEN_SUFFIX}")) if warc_dir.is_dir() else 0


def assert_archive_consistent(data: Path) -> int:
    """No open file; every WARC passes ``warcio check`` and has its index; every database pointer
    reads back its record; every response in the WARCs is in the database. Returns the responses."""
    warc_dir = data / "warcs"
    assert not list(warc_dir.glob(f"*{OPEN_SUFFIX}"))
    warcs = sorted(warc_dir.glob("*.warc.gz"))
    assert warcs
    warcio = tool("warcio")
    index = IndexStore(data / "indexes")
    assert [p.name for p in index.files()] == [f"{p.name}.cdxj" for p in warcs]
    for path in warcs:
        checked = subprocess.run([str(warcio), "check", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    for line in index.lines():
        entry = parse_line(line)
        assert (
            read_record(warc_dir / entry.filename, entry.offset).rec_headers.get_header("WARC-Target-URI") == entry.url
        )
    responses = {r.record_id for path in warcs for r in iter_records(path) if r.rec_type in ("response", "revisit")}
    engine = open_database(f"sqlite:///{data / 'archive.db'}")
    with session_factory(engine)() as session:
        for mapper in Base.registry.mappers:  # every table that points into the WARCs
            if issubclass(mapper.class_, WarcPointer):
                for row in session.scalars(select(mapper.class_)):
                    record = read_record(warc_dir / row.warc_filename, row.warc_offset)
                    assert record.rec_headers.get_header("WARC-Record-ID") == row.record_id
        assert set(session.scalars(select(Capture.record_id))) == responses
    engine.dispose()
    return len(responses)


@pytest.mark.parametrize(
    ("open_size", "then"),
    [(1, "recover"), (1_000_000, "recover"), (10_500_000, "next crawl")],
    ids=["first-record", "inside-a-big-record", "among-the-articles"],
)
def test_sigkill_loses_no_finished_record(fixture_web: FixtureWeb, tmp_path: Path, open_size: int, then: str) -> None:
    data = tmp_path / "data"
    process, _ = start_crawl(fixture_web, data, load_seeds(tmp_path))
    try:
        wait_until(lambda: open_bytes(data / "warcs") >= open_size, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    (left_open,) = (data / "warcs").glob(f"*{OPEN_SUFFIX}")
    # the kernel kills the crawler's archiver process (named in the file) with it, a moment later
    archiver = parse_name(left_open.name).pid  # type: ignore[union-attr]
    deadline = time.monotonic() + 10
    while process_alive(archiver):
        assert time.monotonic() < deadline, "the archiver process outlived the crawler"
        time.sleep(0.01)
    if then == "recover":
        assert main(["--data", str(data), "recover"]) == 0
    else:
        run = run_crawl(fixture_web, data, seeds=tiny_seeds(tmp_path), **CRAWL_SETTINGS)
        assert run.returncode == 0, run.log[-3000:]
        assert f"recovered {left_open.name}" in run.log
        assert "'archive/recovered_files': 1" in run.log
    assert not left_open.exists()
    assert assert_archive_consistent(data) > 0


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_crawl_with_every_file_closed(fixture_web: FixtureWeb, tmp_path: Path, stop: int) -> None:
    data = tmp_path / "data"
    # two stories at a time: the crawl lasts some 3 s past the big files, however far the writer lags
    process, log = start_crawl(fixture_web, data, load_seeds(tmp_path), CONCURRENT_REQUESTS="2")
    try:
        wait_until(lambda: open_bytes(data / "warcs") >= 10_300_000, process)  # past the big files
        process.send_signal(stop)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text()
    assert "shutting down gracefully" in text and "'finish_reason': 'shutdown'" in text
    assert "recovered" not in text
    responses = assert_archive_consistent(data)
    assert 10 < responses < 137  # stopped before the end


def test_recover_with_nothing_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(tmp_path), "recover"]) == 0
    assert "No abandoned WARC file" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["archive.db", "archive.db.schema-lock"]  # no WARC folder made
