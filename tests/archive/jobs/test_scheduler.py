"""The scheduler with second-scale triggers against the fixture web: runs, timeouts, restarts, shutdown."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, select

from archive.cli import main
from archive.config import ArchivePaths
from archive.db import Capture, JobRun, open_database, session_factory
from archive.db.runs import BY_SCHEDULE, FAILED, INTERRUPTED, MISSED, OK, RUNNING, SKIPPED, scheduler_jobs
from archive.jobs.config import load_jobs
from archive.jobs.scheduler import Scheduler, new_apscheduler, sync_jobs
from archive.warc import read_record
from tests.archive.jobs.helpers import FAST, ONE_OUTLET, SLOW_PAGE, wait_for
from tests.conftest import FIXTURE_SEEDS, REPO
from tests.fixtureweb.__main__ import proxy_env
from tests.fixtureweb.server import FixtureWeb

FIXTURE_JOBS = REPO / "jobs" / "fixture-web.toml"
CLI = "import sys; from archive.cli import main; sys.exit(main())"


def history(engine: Engine) -> list[JobRun]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def stored_next_run(engine: Engine, job: str) -> float | None:
    with engine.connect() as connection:
        return connection.scalar(select(scheduler_jobs.c.next_run_time).where(scheduler_jobs.c.id == job))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# -- two runs of one job ------------------------------------------------------------------------


@dataclass
class TwoRuns:
    data_dir: Path
    engine: Engine
    runs: list[JobRun]

    @property
    def finished(self) -> list[JobRun]:
        """The runs that finished: on a loaded machine a crawl can outlast the 5 s interval, and the
        run due meanwhile is then recorded as skipped (max_instances=1), which is right too."""
        return [r for r in self.runs if r.status == OK]


@pytest.fixture(scope="module")
def two_runs(fixture_web: FixtureWeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoRuns]:
    """The repository's fixture-web job (every 5 s) run by the scheduler until it has run twice."""
    data = tmp_path_factory.mktemp("two-runs")
    paths = ArchivePaths.resolve(data_dir=data)
    engine = open_database(paths.database_url)
    scheduler = Scheduler(load_jobs(FIXTURE_JOBS), paths, stop_grace=10, env=proxy_env(fixture_web.proxy_url))
    assert scheduler.start()
    try:
        wait_for(lambda: sum(r.status == OK for r in history(engine)) >= 2, 60, "two finished runs")
    finally:
        scheduler.stop()
    yield TwoRuns(data, engine, history(engine))
    engine.dispose()


def test_two_runs_one_history_row_each(two_runs: TwoRuns) -> None:
    first, second = two_runs.finished[:2]
    assert [(r.job, r.started_by, r.status, r.exit_code) for r in (first, second)] == [
        ("fixture-web", BY_SCHEDULE, OK, 0)
    ] * 2
    interval = (second.started_at - first.started_at).total_seconds()
    assert interval >= 4 and abs(interval - 5 * round(interval / 5)) <= 2  # on the 5 s schedule
    assert first.ended_at <= second.started_at
    between = [r for r in two_runs.runs if first.id < r.id < second.id]
    assert all(r.status == SKIPPED and "still going" in (r.reason or "") for r in between), between
    later = [r for r in two_runs.runs if r.id > second.id]
    assert all(r.status in (INTERRUPTED, SKIPPED) for r in later)  # a third run, if the stop came after it started
    for run in (first, second):
        assert run.new_captures == run.pages_fetched
    # the second run found the three articles unchanged: revisits, neither extracted nor a new version,
    # and their images and stylesheets not fetched again
    assert first.pages_fetched >= 20 and 10 <= second.pages_fetched < first.pages_fetched
    assert (first.articles, second.articles) == (3, 0)
    assert (first.new_article_versions, second.new_article_versions) == (3, 0)


def captures_by_run(two_runs: TwoRuns) -> list[list[Capture]]:
    with session_factory(two_runs.engine)() as session:
        captures = session.scalars(select(Capture).where(Capture.status == 200).order_by(Capture.id)).all()
        for capture in captures:
            _ = capture.url.url
    return [[c for c in captures if run.started_at <= c.fetched_at <= run.ended_at] for run in two_runs.finished[:2]]


def test_two_runs_capture_every_page_twice(two_runs: TwoRuns) -> None:
    """Every page but the requisites of unchanged articles, which are not parsed again."""
    first, second = captures_by_run(two_runs)
    assert len(first) >= 15
    per_url = Counter(c.url.url for c in first + second)
    once = {c.url.url: c.content_type for c in first if per_url[c.url.url] == 1}
    assert set(per_url.values()) == {1, 2}, per_url
    assert all(not kind.startswith(("text/html", "application/rss", "application/xml")) for kind in once.values())


def test_the_second_capture_of_an_unchanged_page_is_a_revisit(two_runs: TwoRuns) -> None:
    first, second = captures_by_run(two_runs)
    warcs = two_runs.data_dir / "warcs"
    assert {read_record(warcs / c.warc_filename, c.warc_offset).rec_type for c in first} == {"response"}
    # only complete 200 answers with a body are deduplicated; errors and redirects are stored again
    unchanged = [c for c in second if c.status == 200]
    assert unchanged
    assert {read_record(warcs / c.warc_filename, c.warc_offset).rec_type for c in unchanged} == {"revisit"}
    assert {read_record(warcs / c.warc_filename, c.warc_offset).rec_type for c in second if c.status != 200} <= {
        "response"
    }


def test_jobs_history_and_list_show_the_runs(two_runs: TwoRuns, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(two_runs.data_dir)
    assert main(["--data", data, "jobs", "history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == (
        "run job by started (UTC) took status exit pages captures articles versions errors fetch errors reason".split()
    )
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    for run in two_runs.finished[:2]:
        assert rows[str(run.id)][1:3] == ["fixture-web", "schedule"]
        assert rows[str(run.id)][6:9] == ["ok", "0", str(run.pages_fetched)]
    assert main(["--data", data, "jobs", "list"]) == 0
    (header, _, row) = capsys.readouterr().out.splitlines()
    assert header.split()[:5] == ["job", "next", "run", "trigger", "last"]
    assert row.startswith("fixture-web ") and "every 5s" in row
    assert f"{two_runs.runs[-1].id} {two_runs.runs[-1].status} " in row


# -- a job that hangs ---------------------------------------------------------------------------


def test_a_hanging_job_is_killed_at_its_timeout_and_the_next_job_still_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The timeout leaves the crawl time to start (its SIGTERM handler must be installed, or the
    signal's default action ends it at once); on a machine loaded 10 and more that took over 8 s."""
    write(tmp_path, "slow.toml", SLOW_PAGE)
    write(tmp_path, "one.toml", ONE_OUTLET)
    jobs = write(
        tmp_path,
        "jobs.toml",
        f"""
        [defaults]
        settings = {{ {FAST}, DOWNLOAD_TIMEOUT = 60 }}

        [[job]]
        name = "hangs"
        seeds = "slow.toml"
        trigger = {{ every = "1h" }}
        timeout = "20s"

        [[job]]
        name = "quick"
        seeds = "one.toml"
        trigger = {{ every = "4s" }}
        timeout = "1m"
        """,
    )
    paths = ArchivePaths.resolve(data_dir=tmp_path / "data")
    engine = open_database(paths.database_url)

    def hang_done_and_quick_ran_after() -> bool:
        runs = history(engine)
        hang = next((r for r in runs if r.job == "hangs" and r.ended_at), None)
        return hang is not None and any(
            r.job == "quick" and r.status == OK and r.started_at > hang.ended_at for r in runs
        )

    caplog.set_level(logging.INFO, logger="archive.jobs.runner")
    with FixtureWeb(slow_seconds=60) as web:
        scheduler = Scheduler(load_jobs(jobs), paths, stop_grace=1, env=proxy_env(web.proxy_url))
        assert scheduler.start()
        try:
            wait_for(hang_done_and_quick_ran_after, 90, "the hanging run to end and the quick job to run again")
        finally:
            scheduler.stop()
    runs = history(engine)
    engine.dispose()
    (hang,) = [r for r in runs if r.job == "hangs"]
    assert (hang.status, hang.exit_code) == (FAILED, -signal.SIGKILL)
    assert hang.reason == "timed out after 20s; killed after a grace period of 1s"
    assert 20 <= (hang.ended_at - hang.started_at).total_seconds() < 26
    quick = [r for r in runs if r.job == "quick" and r.status == OK]
    assert any(r.started_at < hang.ended_at for r in quick), "ran while the other hung"
    assert any(r.started_at > hang.ended_at for r in quick), "ran after it"
    # the crawl's whole process group (its extraction worker too) is gone
    pid = int(re.search(r"job hangs run \d+ started: pid (\d+)", caplog.text).group(1))
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


# -- restart and shutdown of the daemon process -------------------------------------------------


class Daemon:
    """``newsarchive schedule`` in a child process, its log collected as it comes."""

    def __init__(self, data: Path, jobs: Path, env: dict[str, str], *args: str) -> None:
        command = [sys.executable, "-c", CLI, "--data", str(data), "schedule", str(jobs), *args]
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def logged(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.process.send_signal(signum)
        status = self.process.wait(timeout)
        self._reader.join(5)
        assert self.process.stderr is not None
        self.process.stderr.close()
        return status

    @property
    def log(self) -> str:
        return "".join(self.lines)


def test_sigterm_stops_crawls_cleanly_and_a_restart_keeps_jobs_and_next_run_times(
    fixture_web: FixtureWeb, tmp_path: Path
) -> None:
    jobs = write(
        tmp_path,
        "jobs.toml",
        f"""
        [[job]]
        name = "hourly"
        seeds = "{FIXTURE_SEEDS}"
        trigger = {{ every = "1h" }}
        timeout = "5m"
        settings = {{ {FAST}, DOWNLOAD_TIMEOUT = 30 }}  # the slow page keeps the crawl going for 5 s
        """,
    )
    data = tmp_path / "data"
    warcs = data / "warcs"
    env = proxy_env(fixture_web.proxy_url)
    first = Daemon(data, jobs, env, "--stop-grace", "20")
    try:
        wait_for(lambda: list(warcs.glob("*.open")), 60, "the first crawl to be writing its WARC")
    except AssertionError:
        first.stop(signal.SIGKILL)
        raise
    engine = open_database(f"sqlite:///{data / 'archive.db'}")
    next_run = stored_next_run(engine, "hourly")
    assert next_run is not None and next_run - time.time() > 3500  # the job ran when added; next in an hour

    assert first.stop() == 0, first.log
    assert first.logged("stopping: waiting for running crawls to stop")
    (run,) = history(engine)
    assert (run.status, run.exit_code, run.reason) == (INTERRUPTED, 0, "the scheduler stopped; stopped gracefully")
    assert run.ended_at is not None and run.pages_fetched and run.new_captures == run.pages_fetched
    assert not list(warcs.glob("*.open")), "a WARC file was left open"
    warcio = Path(sys.executable).parent / "warcio"
    for path in warcs.glob("*.warc.gz"):
        checked = subprocess.run([warcio, "check", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr

    second = Daemon(data, jobs, env)
    try:
        wait_for(lambda: second.logged("scheduler started"), 60, "the restarted scheduler")
        assert second.logged("job hourly kept as stored")
        assert stored_next_run(engine, "hourly") == next_run
        # one scheduler per database: a third one is refused and names the one running
        third = subprocess.run(
            [sys.executable, "-c", CLI, "--data", str(data), "schedule", str(jobs)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert third.returncode == 75
        assert "another scheduler is running on this database" in third.stderr
        assert f"newsarchive scheduler pid {second.process.pid} since" in third.stderr
    finally:
        assert second.stop() == 0, second.log
    assert [r.id for r in history(engine)] == [run.id]  # the restart ran nothing
    assert stored_next_run(engine, "hourly") == next_run
    engine.dispose()


# -- the job store follows the jobs file --------------------------------------------------------


def paused_scheduler(engine: Engine) -> BackgroundScheduler:
    scheduler = new_apscheduler(engine)
    scheduler.start(paused=True)
    return scheduler


def test_syncing_keeps_next_run_times_of_unchanged_schedules(tmp_path: Path) -> None:
    write(tmp_path, "one.toml", ONE_OUTLET)
    text = """
    [defaults]
    timeout = "10m"

    [[job]]
    name = "a"
    seeds = "one.toml"
    trigger = { every = "1h" }

    [[job]]
    name = "b"
    seeds = "one.toml"
    trigger = { cron = "0 6 * * *" }
    """
    engine = open_database(f"sqlite:///{tmp_path / 'archive.db'}")

    def sync(text: str) -> dict[str, datetime | None]:
        scheduler = paused_scheduler(engine)
        sync_jobs(scheduler, load_jobs(write(tmp_path, "jobs.toml", text)))
        times = {job.id: job.next_run_time for job in scheduler.get_jobs()}
        scheduler.shutdown()
        return times

    started = datetime.now(timezone.utc)
    times = sync(text)
    assert times.keys() == {"a", "b"}
    assert abs(times["a"] - started) < timedelta(seconds=5)  # an interval job without start runs when added
    assert times["b"].hour == 6 and times["b"] > started

    ran = datetime(2031, 1, 1, 12, tzinfo=timezone.utc)  # as if it had run: its next time is stored
    scheduler = paused_scheduler(engine)
    scheduler.modify_job("a", next_run_time=ran)
    scheduler.shutdown()
    assert sync(text)["a"] == ran  # unchanged: kept
    changed = sync(text.replace('name = "a"', 'name = "a"\ntimeout = "20m"'))
    assert changed["a"] == ran  # same schedule, other fields changed: next run kept
    scheduler = paused_scheduler(engine)
    assert scheduler.get_job("a").args[0]["timeout"] == 1200
    scheduler.shutdown()
    rescheduled = sync(text.replace('every = "1h"', 'every = "2h"'))
    assert rescheduled["a"] != ran and rescheduled["a"] < ran  # a new schedule starts over
    assert sync(text.split('[[job]]\n    name = "b"')[0]).keys() == {"a"}  # removed from the file: removed
    ended = text.replace('{ cron = "0 6 * * *" }', '{ cron = "0 6 * * *" }\n    stop = 2020-01-01')
    assert sync(ended).keys() == {"a"}  # no run time left: not scheduled
    engine.dispose()


def test_missed_runs_are_coalesced_and_late_ones_beyond_their_grace_skipped(
    fixture_web: FixtureWeb, tmp_path: Path
) -> None:
    write(tmp_path, "one.toml", ONE_OUTLET)
    jobs = load_jobs(
        write(
            tmp_path,
            "jobs.toml",
            f"""
            [defaults]
            timeout = "1m"
            settings = {{ {FAST}, DOWNLOAD_TIMEOUT = 1 }}

            [[job]]
            name = "strict"
            seeds = "one.toml"
            trigger = {{ every = "10m" }}
            misfire_grace = "1m"

            [[job]]
            name = "catch-up"
            seeds = "one.toml"
            trigger = {{ every = "10m" }}
            """,
        )
    )
    paths = ArchivePaths.resolve(data_dir=tmp_path / "data")
    engine = open_database(paths.database_url)
    # both jobs were due 65 minutes ago, while the scheduler was down: seven run times each
    scheduler = paused_scheduler(engine)
    sync_jobs(scheduler, jobs)
    for name in ("strict", "catch-up"):
        scheduler.modify_job(name, next_run_time=datetime.now(timezone.utc) - timedelta(minutes=65))
    scheduler.shutdown()

    daemon = Scheduler(jobs, paths, stop_grace=5, env=proxy_env(fixture_web.proxy_url))
    assert daemon.start()
    try:
        wait_for(lambda: any(r.job == "catch-up" and r.ended_at for r in history(engine)), 60, "the catch-up run")
    finally:
        daemon.stop()
    runs = {(r.job, r.status) for r in history(engine)}
    assert len(history(engine)) == 2  # one row per job: the missed times were coalesced
    assert runs == {("strict", MISSED), ("catch-up", OK)}
    (missed,) = [r for r in history(engine) if r.job == "strict"]
    assert "could not start within its misfire grace time" in missed.reason
    now = time.time()
    assert 0 < stored_next_run(engine, "strict") - now <= 600  # on its schedule again
    assert not [r for r in history(engine) if r.status == RUNNING]
    engine.dispose()


def test_the_systemd_unit_stops_the_scheduler_only_and_waits_longer_than_the_grace() -> None:
    unit = dict(
        line.split("=", 1)
        for line in (REPO / "deploy" / "newsarchive-scheduler.service").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert (unit["KillSignal"], unit["KillMode"], unit["Restart"]) == ("SIGTERM", "mixed", "on-failure")
    command = unit["ExecStart"].split()
    assert command[:2] == ["/opt/newsarchive/.venv/bin/newsarchive", "schedule"]
    grace = float(command[command.index("--stop-grace") + 1])
    assert float(unit["TimeoutStopSec"]) > grace
    assert load_jobs(REPO / command[-1]).jobs  # the jobs file it names, relative to WorkingDirectory
