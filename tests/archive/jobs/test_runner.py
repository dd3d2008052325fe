"""The crawl runner and the run history: one row per run, never two running rows of one job."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.cli import main
from archive.config import ArchivePaths
from archive.db import JobRun, open_database, session_factory
from archive.db.runs import BY_HAND, FAILED, INTERRUPTED, MISSED, OK, RUNNING, SKIPPED
from archive.jobs.config import JobSpec
from archive.jobs.history import HOST, close_dead_runs, utcnow
from archive.jobs.runner import CrawlRunner, _outcome
from tests.archive.jobs.helpers import SLOW_PAGE, wait_for
from tests.conftest import REPO
from tests.fixtureweb.__main__ import proxy_env
from tests.fixtureweb.server import FixtureWeb

FIXTURE_JOBS = REPO / "jobs" / "fixture-web.toml"


def spec(**changes: object) -> JobSpec:
    fields: dict = {
        "name": "job",
        "spider": "news",
        "seeds": str(REPO / "seeds" / "fixture-web.toml"),
        "args": (),
        "settings": (),
        "cron": None,
        "every": 3600,
        "start": None,
        "stop": None,
        "timezone": "UTC",
        "timeout": 600,
        "misfire_grace": None,
    }
    return JobSpec(**{**fields, **changes})


@pytest.fixture
def paths(tmp_path: Path) -> ArchivePaths:
    return ArchivePaths.resolve(data_dir=tmp_path / "data")


@pytest.fixture
def sessions(paths: ArchivePaths):
    engine = open_database(paths.database_url)
    yield session_factory(engine)
    engine.dispose()


def runs(sessions) -> list[JobRun]:
    with sessions() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def test_jobs_run_crawls_now_and_records_the_run(
    fixture_web: FixtureWeb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in proxy_env(fixture_web.proxy_url, {}).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    data = tmp_path / "data"
    assert main(["--data", str(data), "jobs", "run", "fixture-web", "--file", str(FIXTURE_JOBS)]) == 0
    assert capsys.readouterr().out.startswith("job fixture-web run 1: ok\n")
    engine = open_database(f"sqlite:///{data / 'archive.db'}")
    (run,) = runs(session_factory(engine))
    engine.dispose()
    assert (run.job, run.started_by, run.status, run.exit_code, run.reason) == ("fixture-web", BY_HAND, OK, 0, None)
    assert run.ended_at >= run.started_at and run.host == HOST and run.pid == os.getpid()
    # what the fixture crawl fetches: 24 answers (the slow page times out), 3 articles
    assert (run.pages_fetched, run.new_captures, run.articles, run.fetch_errors) == (36, 36, 3, 1)
    assert run.errors >= 1  # Scrapy logs the slow page's timeout as an error
    assert run.new_article_versions == 3  # a first crawl: one version per article
    log = Path(run.log_path)
    assert log == data / "logs" / "fixture-web" / "1.log"
    assert f"STATS_FILE={log.with_suffix('.stats.json')}" in run.command
    assert "Spider closed (finished)" in log.read_text()
    assert "sqlite:" not in run.command  # the database URL goes in the environment, not on the command line
    assert list((data / "warcs").glob("*.warc.gz")) and not list((data / "warcs").glob("*.open"))


def test_jobs_run_without_a_file_needs_a_stored_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(tmp_path), "jobs", "run", "frontpages"]) == 2
    assert "no job 'frontpages' in the scheduler's job store" in capsys.readouterr().err


def test_a_job_that_is_running_is_skipped_not_run_twice(paths: ArchivePaths, sessions) -> None:
    with sessions.begin() as session:
        session.add(
            JobRun(job="job", started_by=BY_HAND, status=RUNNING, started_at=utcnow(), host=HOST, pid=os.getpid())
        )
    runner = CrawlRunner(paths, sessions, env={})
    run = runner.run(spec(), BY_HAND)
    assert run.status == SKIPPED
    assert run.reason.startswith(f"still running: run 1 on {HOST} (pid {os.getpid()})")
    assert [r.status for r in runs(sessions)] == [RUNNING, SKIPPED]
    assert not (paths.data_dir / "logs").exists()  # no crawl was started


def test_the_database_allows_one_running_row_per_job(sessions) -> None:
    from sqlalchemy.exc import IntegrityError

    def running(job: str) -> JobRun:
        return JobRun(job=job, started_by=BY_HAND, status=RUNNING, started_at=utcnow(), host=HOST)

    with sessions.begin() as session:
        session.add_all([running("a"), running("b")])
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.add(running("a"))


def test_runs_left_by_dead_processes_are_closed_as_interrupted(sessions) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = utcnow()
    rows = {
        "dead-here": JobRun(pid=dead.pid, host=HOST, deadline=now + timedelta(hours=1)),
        "past-deadline": JobRun(pid=os.getpid(), host="elsewhere", deadline=now - timedelta(seconds=1)),
        "alive-here": JobRun(pid=os.getpid(), host=HOST, deadline=now + timedelta(hours=1)),
        "other-host": JobRun(pid=dead.pid, host="elsewhere", deadline=now + timedelta(hours=1)),
    }
    with sessions.begin() as session:
        for job, row in rows.items():
            row.job, row.started_by, row.status, row.started_at = job, BY_HAND, RUNNING, now
            session.add(row)
    with sessions.begin() as session:
        closed = {run.job: run.reason for run in close_dead_runs(session)}
    assert closed.keys() == {"dead-here", "past-deadline"}
    assert f"pid {dead.pid}" in closed["dead-here"] and "deadline" in closed["past-deadline"]
    statuses = {run.job: (run.status, run.ended_at is not None) for run in runs(sessions)}
    assert statuses == {
        "dead-here": (INTERRUPTED, True),
        "past-deadline": (INTERRUPTED, True),
        "alive-here": (RUNNING, False),
        "other-host": (RUNNING, False),
    }


def test_a_stopping_runner_starts_nothing(paths: ArchivePaths, sessions) -> None:
    runner = CrawlRunner(paths, sessions, env={})
    runner.stop()
    run = runner.run(spec(), BY_HAND)
    assert (run.status, run.reason) == (MISSED, "the scheduler was stopping")
    assert not (paths.data_dir / "logs").exists()


def test_a_crawl_that_cannot_start_is_a_failed_run(paths: ArchivePaths, sessions, tmp_path: Path) -> None:
    runner = CrawlRunner(paths, sessions, env={}, cwd=tmp_path / "missing")
    run = runner.run(spec(), BY_HAND)
    assert run.status == FAILED and run.reason.startswith("the crawl could not start:")
    assert run.ended_at is not None


def test_a_second_stop_kills_the_crawl_without_waiting_out_the_grace(
    paths: ArchivePaths, sessions, tmp_path: Path
) -> None:
    seeds = tmp_path / "slow.toml"
    seeds.write_text(SLOW_PAGE, encoding="utf-8")
    settings = {"DOWNLOAD_TIMEOUT": "60", "RETRY_TIMES": "0", "TELNETCONSOLE_ENABLED": "False"}
    job = spec(seeds=str(seeds), settings=tuple(settings.items()))
    with FixtureWeb(slow_seconds=60) as web:
        runner = CrawlRunner(paths, sessions, stop_grace=60, env=proxy_env(web.proxy_url))
        ran: list[JobRun] = []
        crawl = threading.Thread(target=lambda: ran.append(runner.run(job, BY_HAND)))
        crawl.start()
        wait_for(web.slow_waiting.is_set, 30, "the crawl to ask for the slow page")
        runner.stop()  # the slow page is in flight: Scrapy waits for it
        crawl.join(1)
        assert crawl.is_alive()
        runner.kill()
        crawl.join(10)
    (run,) = ran
    assert (run.status, run.exit_code) == (INTERRUPTED, -9)
    assert run.reason == "the scheduler stopped; killed at once (a second stop signal)"


STATS = {"finish_reason": "finished", "downloader/response_count": 5, "archive/responses": 5, "log_count/ERROR": 1}


@pytest.mark.parametrize(
    ("exit_code", "cause", "how", "stats", "status", "reason"),
    [
        (0, None, None, STATS, OK, None),
        (0, None, None, {**STATS, "finish_reason": "closespider_timeout"}, OK, "finish reason closespider_timeout"),
        (0, None, None, {**STATS, "finish_reason": "archive_error"}, FAILED, "finish reason archive_error"),
        (0, None, None, {**STATS, "finish_reason": "shutdown"}, INTERRUPTED, "stopped by a signal from outside"),
        (0, None, None, None, FAILED, "wrote no stats"),
        (1, None, None, STATS, FAILED, "exited with status 1"),
        (-9, None, None, None, FAILED, "killed by signal SIGKILL"),
        (-9, "timeout", "killed after 30s", None, FAILED, "timed out after 10m; killed after 30s"),
        (0, "timeout", "stopped gracefully", STATS, FAILED, "timed out after 10m; stopped gracefully"),
        (0, "shutdown", "stopped gracefully", STATS, INTERRUPTED, "the scheduler stopped; stopped gracefully"),
    ],
)
def test_outcome(exit_code: int, cause, how, stats, status: str, reason: str | None) -> None:
    outcome = _outcome(spec(), exit_code, cause, how, stats)
    assert outcome.status == status
    assert outcome.reason == reason if reason is None else reason in outcome.reason
    assert outcome.exit_code == exit_code
    if stats is None:
        assert outcome.pages_fetched is None and outcome.errors is None
    else:
        assert (outcome.pages_fetched, outcome.new_captures, outcome.errors, outcome.articles) == (5, 5, 1, 0)
