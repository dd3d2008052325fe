"""Running one job: a ``scrapy crawl`` child process, supervised and recorded.

A Twisted reactor cannot be restarted, so every run is its own process
(``python -m scrapy crawl SPIDER -a ...``), writing into the same WARC folder
and database as any other crawl. The child gets its own process group, so a
Ctrl-C in the scheduler's terminal reaches only the scheduler, which then
stops each crawl once, on purpose.

Stopping a crawl (at its timeout, or when the scheduler stops): SIGTERM
first, on which Scrapy closes the spider and the recorder closes its WARC
files; if the crawl has not exited after the stop grace period, SIGKILL to
its whole process group (extraction workers included).

Each run's output goes to ``<data dir>/logs/<job>/<run id>.log``; the crawl
writes its final Scrapy stats beside it (``<run id>.stats.json``, through the
``STATS_FILE`` extension), from which the run's counts are taken.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path
from time import monotonic
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archive.config import DATA_ENV, DATABASE_URL_ENV, ArchivePaths
from archive.configfile import format_duration
from archive.db.runs import FAILED, INTERRUPTED, MISSED, OK, JobRun
from archive.jobs.config import JobSpec
from archive.jobs.history import RunOutcome, begin_run, finish_run, record_event

logger = logging.getLogger(__name__)

#: The Scrapy project the crawls run in, unless the environment names another.
CRAWLER_SETTINGS = "crawler.settings"
DEFAULT_STOP_GRACE = 60.0
#: How often a waiting supervisor looks at the clock and the stop flag.
POLL_SECONDS = 0.25
#: Slack on top of timeout and grace before a ``running`` row is taken for dead.
DEADLINE_SLACK = timedelta(minutes=5)

#: Final Scrapy stats read into the run's row.
PAGES_STAT = "downloader/response_count"
CAPTURES_STAT = "archive/responses"
ARTICLES_STAT = "extraction/articles"
#: Set by the recorder from the database indexer's counts when the crawl closes.
ARTICLE_VERSIONS_STAT = "archive/new_article_versions"
FETCH_ERRORS_STAT = "archive/fetch_errors"
ERROR_LOG_STATS = ("log_count/ERROR", "log_count/CRITICAL")
#: Scrapy finish reasons of a crawl that ended as configured.
FINISHED_REASONS = {
    "finished",
    "closespider_timeout",
    "closespider_timeout_no_item",
    "closespider_itemcount",
    "closespider_pagecount",
}


class CrawlRunner:
    """Runs jobs' crawls as child processes and records each run in the history.

    Thread-safe: the scheduler calls :meth:`run` from several worker threads,
    and :meth:`stop` / :meth:`kill` from its main thread.
    """

    def __init__(
        self,
        paths: ArchivePaths,
        sessions: sessionmaker[Session],
        stop_grace: float = DEFAULT_STOP_GRACE,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.paths = paths
        self.sessions = sessions
        self.stop_grace = stop_grace
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd or Path.cwd()
        self._stopping = threading.Event()
        self._killing = threading.Event()

    def stop(self) -> None:
        """Stop every running crawl gracefully, and start no more."""
        self._stopping.set()

    def kill(self) -> None:
        """Stop every running crawl without waiting out the grace period."""
        self._stopping.set()
        self._killing.set()

    def run(self, spec: JobSpec, started_by: str) -> JobRun:
        """Run the job's crawl to its end, or to its timeout; return its completed history row."""
        if self._stopping.is_set():
            with self.sessions.begin() as session:
                return record_event(session, spec.name, started_by, MISSED, "the scheduler was stopping")
        log_dir = self.paths.data_dir / "logs" / spec.name
        command: list[str] = []

        def prepare(run: JobRun) -> None:
            command[:] = self.command(spec, log_dir / f"{run.id}.stats.json")
            run.command = shlex.join(command)
            run.log_path = str(log_dir / f"{run.id}.log")

        longest = timedelta(seconds=spec.timeout + self.stop_grace) + DEADLINE_SLACK
        run, started = begin_run(self.sessions, spec.name, started_by, longest, prepare)
        if not started:
            logger.warning("job %s not started: %s", spec.name, run.reason)
            return run
        try:
            outcome = self._crawl(spec, run, command)
        except BaseException as e:
            finish_run(self.sessions, run.id, RunOutcome(FAILED, reason=f"the runner failed: {e!r}"))
            raise
        run = finish_run(self.sessions, run.id, outcome)
        logger.info(
            "job %s run %d %s%s (log %s)",
            spec.name,
            run.id,
            run.status,
            f": {run.reason}" if run.reason else "",
            run.log_path,
        )
        return run

    def command(self, spec: JobSpec, stats_file: Path) -> list[str]:
        """The crawl's command line (no secrets: the database URL goes in the environment)."""
        command = [sys.executable, "-m", "scrapy", "crawl", spec.spider]
        if spec.seeds:
            command += ["-a", f"seeds={spec.seeds}"]
        for name, value in spec.args:
            command += ["-a", f"{name}={value}"]
        for name, value in spec.settings:
            command += ["-s", f"{name}={value}"]
        command += ["-s", f"ARCHIVE_WARC_DIR={self.paths.warc_dir}", "-s", f"STATS_FILE={stats_file}"]
        return command

    def child_env(self) -> dict[str, str]:
        env = dict(self.env)
        env[DATA_ENV] = str(self.paths.data_dir)
        env[DATABASE_URL_ENV] = self.paths.database_url
        env.setdefault("SCRAPY_SETTINGS_MODULE", CRAWLER_SETTINGS)
        return env

    def _crawl(self, spec: JobSpec, run: JobRun, command: list[str]) -> RunOutcome:
        assert run.log_path is not None
        log_path = Path(run.log_path)
        stats_path = log_path.with_suffix(".stats.json")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        if self._stopping.is_set():
            return RunOutcome(INTERRUPTED, reason="the scheduler stopped before the crawl started")
        with log_path.open("ab") as log:
            started = datetime.now(timezone.utc).isoformat(timespec="seconds")
            log.write(f"# job {spec.name} run {run.id} at {started}: {run.command}\n".encode())
            log.flush()
            try:
                process = subprocess.Popen(
                    command,
                    cwd=self.cwd,
                    env=self.child_env(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    process_group=0,
                )
            except OSError as e:
                return RunOutcome(FAILED, reason=f"the crawl could not start: {e}")
            logger.info("job %s run %d started: pid %d, log %s", spec.name, run.id, process.pid, log_path)
            cause, how = self._supervise(process, spec.timeout)
        return _outcome(spec, process.returncode, cause, how, _read_stats(stats_path))

    def _supervise(self, process: subprocess.Popen[bytes], timeout: float) -> tuple[str | None, str | None]:
        """Wait for the crawl; stop it at its timeout or when the runner stops: (why, how), or (None, None)."""
        ends = monotonic() + timeout
        while True:
            try:
                process.wait(timeout=min(POLL_SECONDS, max(0.0, ends - monotonic())))
                return None, None
            except subprocess.TimeoutExpired:
                pass
            if self._stopping.is_set():
                return "shutdown", self._terminate(process)
            if monotonic() >= ends:
                return "timeout", self._terminate(process)

    def _terminate(self, process: subprocess.Popen[bytes]) -> str:
        """SIGTERM once (a graceful close), SIGKILL to the process group after the grace period; how it ended."""
        process.send_signal(signal.SIGTERM)
        ends = monotonic() + self.stop_grace
        while not self._killing.is_set() and monotonic() < ends:
            try:
                process.wait(timeout=min(POLL_SECONDS, max(0.0, ends - monotonic())))
                return "stopped gracefully"
            except subprocess.TimeoutExpired:
                pass
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if self._killing.is_set():
            return "killed at once (a second stop signal)"
        return f"killed after a grace period of {self.stop_grace:g}s"


def _outcome(
    spec: JobSpec, exit_code: int, cause: str | None, how: str | None, stats: dict[str, Any] | None
) -> RunOutcome:
    """How the run ended, from why and how it was stopped (if it was), its exit status and its final stats."""
    counts: dict[str, int | None] = {}
    if stats is not None:
        counts = {
            "pages_fetched": int(stats.get(PAGES_STAT, 0)),
            "new_captures": int(stats.get(CAPTURES_STAT, 0)),
            "articles": int(stats.get(ARTICLES_STAT, 0)),
            "new_article_versions": stats.get(ARTICLE_VERSIONS_STAT),
            "errors": sum(int(stats.get(name, 0)) for name in ERROR_LOG_STATS),
            "fetch_errors": int(stats.get(FETCH_ERRORS_STAT, 0)),
        }
    finish = stats.get("finish_reason") if stats else None
    if cause == "timeout":
        status, reason = FAILED, f"timed out after {format_duration(spec.timeout)}; {how}"
    elif cause == "shutdown":
        status, reason = INTERRUPTED, f"the scheduler stopped; {how}"
    elif exit_code < 0:
        status, reason = FAILED, f"the crawl was killed by signal {_signal_name(-exit_code)}"
    elif exit_code != 0:
        status, reason = FAILED, f"the crawl exited with status {exit_code}"
    elif stats is None:
        status, reason = FAILED, "the crawl wrote no stats (see its log)"
    elif finish in FINISHED_REASONS:
        status, reason = OK, None if finish == "finished" else f"finish reason {finish}"
    elif finish == "shutdown":
        status, reason = INTERRUPTED, "the crawl was stopped by a signal from outside the scheduler"
    else:
        status, reason = FAILED, f"finish reason {finish}"
    return RunOutcome(status, reason=reason, exit_code=exit_code, **counts)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _read_stats(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        logger.warning("unreadable crawl stats in %s", path, exc_info=True)
        return None
