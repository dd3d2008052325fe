"""One scheduler per database: a lock file beside SQLite, an advisory lock on PostgreSQL."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from archive.config import ArchivePaths
from archive.db import Capture, JobRun, open_database, session_factory
from archive.db.runs import BY_HAND, OK
from archive.jobs.config import load_jobs
from archive.jobs.lock import FileLock, PostgresLock, SchedulerLockError, SchedulerLockLost, lock_for
from archive.jobs.runner import CrawlRunner
from archive.jobs.scheduler import Scheduler, stored_jobs
from tests.conftest import REPO
from tests.fixtureweb.__main__ import proxy_env
from tests.fixtureweb.server import FixtureWeb

#: The PostgreSQL server of the test suite (trust authentication, a database ``test``).
POSTGRES = os.environ.get("NEWSARCHIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def test_sqlite_lock_file_keeps_a_second_scheduler_out(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'archive.db'}")
    first, second = lock_for(engine), lock_for(engine)
    assert isinstance(first, FileLock) and first.path == tmp_path / "archive.db.scheduler-lock"
    assert first.acquire()
    with pytest.raises(SchedulerLockError, match=rf"another scheduler .*: newsarchive scheduler pid {os.getpid()} "):
        second.acquire()
    first.check()
    first.release()
    assert second.acquire()
    second.release()
    engine.dispose()


def test_a_removed_lock_file_is_a_lost_lock(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / "archive.db.scheduler-lock")
    lock.acquire()
    lock.path.unlink()
    with pytest.raises(SchedulerLockLost, match="removed or replaced"):
        lock.check()
    lock.release()


def test_a_standby_takes_over_when_the_holder_stops(tmp_path: Path) -> None:
    holder, standby = FileLock(tmp_path / "lock"), FileLock(tmp_path / "lock")
    holder.acquire()
    taken: list[bool] = []
    waiting = threading.Thread(target=lambda: taken.append(standby.acquire(wait=True, poll=0.05)))
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive() and not taken
    holder.release()
    waiting.join(5)
    assert taken == [True]
    standby.release()


def test_a_standby_told_to_stop_gives_up(tmp_path: Path) -> None:
    holder, standby = FileLock(tmp_path / "lock"), FileLock(tmp_path / "lock")
    holder.acquire()
    stop = threading.Event()
    stop.set()
    assert standby.acquire(wait=True, poll=0.05, stop=stop) is False
    holder.release()


def test_no_lock_for_a_database_crawls_cannot_share() -> None:
    with pytest.raises(SchedulerLockError, match="database file"):
        lock_for(create_engine("sqlite://"))


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"newsarchive_jobs_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as e:
        admin.dispose()
        reason = f"no PostgreSQL server at {POSTGRES}: {str(e.orig).strip().splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def test_postgres_advisory_lock_keeps_a_second_scheduler_out(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    first, second = lock_for(engine), lock_for(engine)
    assert isinstance(first, PostgresLock)
    assert first.acquire()
    with pytest.raises(SchedulerLockError, match=rf"newsarchive scheduler pid {os.getpid()} since .*backend pid"):
        second.acquire()
    first.check()
    assert first.connection is not None
    backend = first.connection.scalar(text("SELECT pg_backend_pid()"))
    # the holder's connection dies: the lock is free, and the holder finds out
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        connection.commit()
    with pytest.raises(SchedulerLockLost):
        first.check()
    assert second.acquire()
    second.check()
    second.release()
    first.release()
    engine.dispose()


def test_archives_in_separate_schemas_have_separate_locks(postgres_url: str) -> None:
    admin = create_engine(postgres_url)
    with admin.begin() as connection:
        connection.execute(text("CREATE SCHEMA one; CREATE SCHEMA two"))
    admin.dispose()
    engines = [create_engine(f"{postgres_url}?options=-csearch_path%3D{schema}") for schema in ("one", "two", "one")]
    one, two, one_again = (lock_for(engine) for engine in engines)
    assert one.acquire() and two.acquire()
    with pytest.raises(SchedulerLockError, match="schema one"):
        one_again.acquire()
    one.release()
    two.release()
    for engine in engines:
        engine.dispose()


def test_scheduler_and_runs_on_postgres(postgres_url: str, fixture_web: FixtureWeb, tmp_path: Path) -> None:
    """The job store, the run history (its one-running-row index) and a crawl, all in PostgreSQL."""
    jobs = load_jobs(REPO / "jobs" / "fixture-web.toml")
    paths = ArchivePaths.resolve(data_dir=tmp_path, database_url=postgres_url)
    engine = open_database(postgres_url)
    scheduler = Scheduler(jobs, paths)
    scheduler.start()
    try:
        assert scheduler.scheduler is not None
        scheduler.scheduler.pause()  # store only: the crawl below runs by hand
        assert [job.id for job in stored_jobs(engine)] == ["fixture-web"]
        with pytest.raises(SchedulerLockError):
            lock_for(engine).acquire()
    finally:
        scheduler.stop()
    runner = CrawlRunner(paths, session_factory(engine), env=proxy_env(fixture_web.proxy_url))
    run = runner.run(jobs.jobs[0], BY_HAND)
    assert run.status == OK and run.new_captures
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Capture)) == run.new_captures
        assert session.scalar(select(func.count()).select_from(JobRun)) == 1
    engine.dispose()
