"""The archiver in its own process: same records and rows as in threads, failures reported,
and a child that never outlives its parent."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from archive.archiver import ArchiverError
from archive.archiver_process import ArchiverProcess
from archive.config import ArchivePaths
from archive.db import Article, Capture, open_database, session_factory
from archive.extract import Extraction
from archive.format import OUTLETS_FIELD, article_payload, outlets_field
from archive.opening import ArchiveSettings
from archive.warc import iter_records
from archive.warc.files import OPEN_SUFFIX
from archive.warc.recovery import process_alive
from tests.archive.test_archiver import OUTLETS, WHEN, page
from tests.conftest import REPO


def settings(tmp_path: Path, **options: object) -> ArchiveSettings:
    paths = ArchivePaths.resolve(data_dir=tmp_path / "data")
    info = {"software": "test", OUTLETS_FIELD: outlets_field(OUTLETS)}
    return ArchiveSettings(paths=paths, info=info, **options)  # type: ignore[arg-type]


def test_records_and_rows_are_those_of_the_archiver(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="archive")
    archiver = ArchiverProcess(settings(tmp_path, batch_size=2))
    assert archiver.wait_ready() == []
    story = page("http://www.example.com/news/story")
    archiver.submit_exchange(story)
    archiver.submit_exchange(page("http://www.example.com/gone", status=404, body=b"not here"))
    article = article_payload(None, Extraction(title="Story", text="story", extractor="trafilatura"))
    archiver.submit_metadata(story.url, story.response_record_id, article, WHEN, unless_revisit=True)
    archiver.submit_exchange(page("http://www.example.com/news/story"))  # unchanged: a revisit
    assert archiver.batches_submitted == 4
    archiver.close()

    assert archiver.batches_written == 4
    assert archiver.failure is None
    paths = settings(tmp_path).paths
    (warc,) = paths.warc_dir.glob("*.warc.gz")
    kinds = [r.rec_type for r in iter_records(warc)]
    assert kinds == ["warcinfo", "request", "response", "request", "response", "metadata", "request", "revisit"]
    assert archiver.records_written == len(kinds)
    assert archiver.counts is not None
    assert (archiver.counts.captures, archiver.counts.revisits, archiver.counts.articles) == (3, 1, 1)
    engine = open_database(paths.database_url)
    with session_factory(engine)() as session:
        assert len(session.scalars(select(Capture)).all()) == 3
        assert session.scalars(select(Article)).one()
    engine.dispose()
    assert (paths.index_dir / f"{warc.name}.cdxj").is_file()
    # the child's log lines come out of the parent's loggers
    assert any(r.name == "archive.opening" and "archiving to" in r.getMessage() for r in caplog.records)


def test_started_before_its_settings_it_archives_once_opened(tmp_path: Path) -> None:
    archiver = ArchiverProcess()  # as the crawl command starts it, long before the spider exists
    pid = archiver.pid
    assert pid is not None and process_alive(pid)
    archiver.open(settings(tmp_path))
    assert archiver.wait_ready() == []
    archiver.submit_exchange(page("http://www.example.com/news/story"))
    archiver.close()

    assert archiver.records_written == 3  # warcinfo, request, response
    (warc,) = settings(tmp_path).paths.warc_dir.glob("*.warc.gz")
    assert [r.rec_type for r in iter_records(warc)] == ["warcinfo", "request", "response"]
    assert not process_alive(pid)
    # it ended at once, but only after closing the database: nothing was left in the write-ahead log
    database = settings(tmp_path).paths.data_dir / "archive.db"
    assert database.is_file() and not database.with_name("archive.db-wal").exists()
    with pytest.raises(ArchiverError, match="opened already"):
        archiver.open(settings(tmp_path))


def test_one_never_opened_ends_when_closed() -> None:
    archiver = ArchiverProcess()
    pid = archiver.pid
    assert pid is not None
    archiver.close()
    assert not process_alive(pid)
    assert archiver.records_written == 0


def test_an_archive_that_cannot_be_opened_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    archiver = ArchiverProcess(settings(tmp_path))
    with pytest.raises(ArchiverError, match="could not be opened"):
        archiver.wait_ready()


def test_a_failing_archiver_stops_taking_submissions(tmp_path: Path) -> None:
    archiver = ArchiverProcess(settings(tmp_path))
    archiver.wait_ready()
    engine = open_database(settings(tmp_path).paths.database_url)
    with engine.begin() as connection:  # the database breaks under the crawl
        connection.execute(text("ALTER TABLE captures RENAME TO elsewhere"))
    engine.dispose()
    deadline = time.monotonic() + 10
    while archiver.failure is None and time.monotonic() < deadline:
        archiver.submit_exchange(page("http://www.example.com/a"))
        archiver.flush()
        time.sleep(0.05)
    assert archiver.failure is not None
    with pytest.raises(ArchiverError):
        archiver.submit_exchange(page("http://www.example.com/b"))
    with pytest.raises(ArchiverError, match="archiving failed"):
        archiver.close()


def test_the_child_ignores_interrupts_and_dies_with_its_parent(tmp_path: Path) -> None:
    # A parent that starts an archiver, writes a page, tells us the child's pid, then is killed.
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from pathlib import Path
        from archive.archiver_process import ArchiverProcess
        from archive.opening import ArchiveSettings
        from archive.config import ArchivePaths
        from tests.archive.test_archiver import page
        archiver = ArchiverProcess(ArchiveSettings(ArchivePaths.resolve(data_dir={str(tmp_path / "data")!r}), {{}}))
        archiver.wait_ready()
        archiver.submit_exchange(page("http://www.example.com/a"))
        archiver.flush()
        while archiver.batches_written < 1:
            time.sleep(0.01)
        print(archiver.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    os.kill(child, signal.SIGINT)  # a Ctrl-C reaches the whole process group: the child goes on
    time.sleep(0.3)
    assert process_alive(child)
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 5
    while process_alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not process_alive(child)
    # what it wrote stays behind in the open file, for recovery
    (left_open,) = (tmp_path / "data" / "warcs").glob(f"*{OPEN_SUFFIX}")
    assert left_open.stat().st_size > 0
