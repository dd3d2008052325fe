"""The scheduler daemon: APScheduler 3 with its job store in the archive database.

``newsarchive schedule FILE`` runs :class:`Scheduler` in the foreground.

- **Job store**: APScheduler's ``SQLAlchemyJobStore`` in the archive's own
  database (table ``scheduler_jobs``), so jobs, their next run times and
  the runs missed while the scheduler was down survive a restart. On start
  the store is made to match the jobs file: new jobs are added, jobs no
  longer in the file removed, unchanged jobs kept as stored (next run time
  included); a job whose schedule (trigger, start, stop, time zone) is
  unchanged keeps its next run time even if its other fields changed; a job
  whose schedule changed starts over.
- **Missed runs**: runs are coalesced (after any delay a job runs once, not
  once per missed time) and start however late unless the job sets
  ``misfire_grace``; a run later than that is skipped and recorded as
  ``missed``. An interval job without ``start`` runs when first added.
- **One at a time**: ``max_instances=1`` per job in the scheduler; a run due
  while the previous one still goes is recorded as ``skipped``. Across
  processes, the run history allows one running row per job, and the
  scheduler lock (:mod:`archive.jobs.lock`) one scheduler per database.
- **Runs**: each in a worker thread that supervises a crawl child process
  (:class:`archive.jobs.runner.CrawlRunner`).
- **Shutdown** (SIGINT or SIGTERM): no new runs start; each running crawl
  gets one SIGTERM (Scrapy closes it and its WARC files) and is killed after
  the stop grace period; the scheduler waits for every run to be recorded,
  then releases its lock. A second signal kills the crawls at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from sqlalchemy import Engine

from archive.config import ArchivePaths
from archive.db.runs import BY_SCHEDULE, JOBSTORE_TABLE, MISSED, SKIPPED
from archive.db.session import open_database, session_factory
from archive.jobs.config import JobsFile, JobSpec
from archive.jobs.history import close_dead_runs, record_event
from archive.jobs.lock import SchedulerLock, SchedulerLockLost, lock_for
from archive.jobs.runner import DEFAULT_STOP_GRACE, CrawlRunner

logger = logging.getLogger(__name__)

#: What APScheduler stores as the job's function: a reference it can import.
JOB_FUNCTION = "archive.jobs.scheduler:scheduled_run"
DEFAULT_WORKERS = 4
#: How often a running scheduler makes sure it still holds its lock.
LOCK_CHECK_SECONDS = 30.0

#: The runner of the scheduler running in this process. APScheduler stores a job as
#: an importable function and picklable arguments, so the function finds the
#: (unpicklable) runner here.
_active_runner: CrawlRunner | None = None


def scheduled_run(state: dict[str, Any]) -> None:
    """Run a stored job; APScheduler calls this in a worker thread."""
    runner = _active_runner
    if runner is None:
        raise RuntimeError("no scheduler is running in this process")
    runner.run(JobSpec.from_state(state), BY_SCHEDULE)


def job_store(engine: Engine) -> SQLAlchemyJobStore:
    """APScheduler's job store in the archive database."""
    return SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)


class _BackgroundScheduler(BackgroundScheduler):
    """APScheduler's background scheduler, minus one pass over the job store after shutdown.

    ``shutdown()`` wakes the scheduler thread once more after the executor has
    stopped: a job due at that moment fails to submit ("cannot schedule new
    futures after shutdown", agronholm/apscheduler#285 and #985) but its next
    run time is advanced in the store, so the run is lost silently instead of
    being made up at the next start.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


def new_apscheduler(engine: Engine, workers: int = DEFAULT_WORKERS) -> BackgroundScheduler:
    """An APScheduler with the archive's job store and run policy (coalesce, one instance per job)."""
    return _BackgroundScheduler(
        timezone=timezone.utc,
        jobstores={"default": job_store(engine)},
        executors={"default": ThreadPoolExecutor(workers)},
        job_defaults={"coalesce": True, "max_instances": 1},
    )


class Scheduler:
    """The daemon: a lock on the database, APScheduler, and a crawl runner."""

    def __init__(
        self,
        jobs: JobsFile,
        paths: ArchivePaths,
        workers: int = DEFAULT_WORKERS,
        stop_grace: float = DEFAULT_STOP_GRACE,
        standby: bool = False,
        lock_poll: float = 10.0,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.jobs = jobs
        self.paths = paths
        self.workers = workers
        self.stop_grace = stop_grace
        self.standby = standby
        self.lock_poll = lock_poll
        self.env = env
        self.cwd = cwd
        self.engine: Engine | None = None
        self.lock: SchedulerLock | None = None
        self.runner: CrawlRunner | None = None
        self.scheduler: BackgroundScheduler | None = None

    def start(self, stop: threading.Event | None = None) -> bool:
        """Take the lock (standing by if asked), sync the jobs and start; False if ``stop`` came first."""
        global _active_runner
        if _active_runner is not None:
            raise RuntimeError("a scheduler is already running in this process")
        self.engine = open_database(self.paths.database_url)
        self.lock = lock_for(self.engine)
        if not self.lock.acquire(wait=self.standby, poll=self.lock_poll, stop=stop):
            self.engine.dispose()
            return False
        sessions = session_factory(self.engine)
        with sessions.begin() as session:
            for run in close_dead_runs(session):
                logger.warning("job %s run %d was left running: %s", run.job, run.id, run.reason)
        self.runner = CrawlRunner(self.paths, sessions, self.stop_grace, self.env, self.cwd)
        _active_runner = self.runner
        self.scheduler = new_apscheduler(self.engine, self.workers)
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        self.scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start(paused=True)
        sync_jobs(self.scheduler, self.jobs)
        self.scheduler.resume()
        return True

    def stop(self) -> None:
        """Stop: no new runs, running crawls stopped and recorded, lock released."""
        global _active_runner
        if self.scheduler is not None and self.runner is not None:
            running = self.scheduler.running
            if running:
                self.scheduler.pause()
            self.runner.stop()
            if running:
                logger.info("stopping: waiting for running crawls to stop (grace %gs)", self.stop_grace)
                self.scheduler.shutdown(wait=True)
        _active_runner = None
        self.scheduler = self.runner = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def kill(self) -> None:
        """Stop running crawls without waiting out their grace period (a second signal)."""
        if self.runner is not None:
            self.runner.kill()

    def serve(self, check_every: float = LOCK_CHECK_SECONDS) -> int:
        """Run until SIGINT or SIGTERM (a second one kills the crawls); the process exit status."""
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if stop.is_set():
                self.kill()
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        status = 0
        try:
            if not self.start(stop):
                return 0
            logger.info(
                "scheduler started: %d jobs from %s, %d crawls at once; stop with SIGINT or SIGTERM",
                len(self.jobs.jobs),
                self.jobs.path,
                self.workers,
            )
            while not stop.wait(check_every):
                assert self.lock is not None
                self.lock.check()
        except SchedulerLockLost as e:
            logger.critical("%s: stopping", e)
            status = 1
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        logger.info("scheduler stopped")
        return status

    def _missed(self, event: JobExecutionEvent) -> None:
        late = f"scheduled for {_when(event.scheduled_run_time)}, it could not start within its misfire grace time"
        self._record(event.job_id, MISSED, late)

    def _skipped(self, event: JobSubmissionEvent) -> None:
        times = ", ".join(_when(t) for t in event.scheduled_run_times)
        self._record(
            event.job_id,
            SKIPPED,
            f"scheduled for {times}, its previous run was still going (or waiting for a free worker)",
        )

    def _record(self, job: str, status: str, reason: str) -> None:
        assert self.runner is not None
        logger.warning("job %s %s: %s", job, status, reason)
        with self.runner.sessions.begin() as session:
            record_event(session, job, BY_SCHEDULE, status, reason)


def sync_jobs(scheduler: BaseScheduler, jobs: JobsFile) -> None:
    """Make the scheduler's job store match the jobs file (see the module's documentation)."""
    wanted = {spec.name: spec for spec in jobs.jobs}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            logger.info("job %s removed: it is no longer in %s", job.id, jobs.path)
    now = datetime.now(timezone.utc)
    for spec in wanted.values():
        state = spec.to_state()
        stored = scheduler.get_job(spec.name)
        if stored is not None and stored.args == (state,):
            logger.info("job %s kept as stored: next run %s", spec.name, _when(stored.next_run_time))
            continue
        if stored is not None and _schedule(stored) == spec.schedule_state():
            scheduler.modify_job(spec.name, args=(state,), misfire_grace_time=spec.misfire_grace)
            logger.info("job %s updated, its next run kept: %s", spec.name, _when(stored.next_run_time))
            continue
        trigger = spec.trigger()
        next_run = trigger.get_next_fire_time(None, now)
        if next_run is None:
            if stored is not None:
                scheduler.remove_job(spec.name)
            logger.warning("job %s not scheduled: it has no run time left (%s)", spec.name, spec.describe_trigger())
            continue
        if spec.runs_on_add:
            next_run = now
        scheduler.add_job(
            JOB_FUNCTION,
            trigger=trigger,
            args=(state,),
            id=spec.name,
            name=spec.name,
            misfire_grace_time=spec.misfire_grace,
            next_run_time=next_run,
            replace_existing=True,
        )
        logger.info(
            "job %s %s: %s, next run %s",
            spec.name,
            "rescheduled" if stored is not None else "added",
            spec.describe_trigger(),
            _when(next_run),
        )


def stored_jobs(engine: Engine) -> list[Job]:
    """The jobs in the scheduler's store, soonest first (read without running a scheduler)."""
    return job_store(engine).get_all_jobs()


def _schedule(job: Job) -> dict[str, Any] | None:
    try:
        return JobSpec.from_state(job.args[0]).schedule_state()
    except (IndexError, KeyError, TypeError, ValueError, AttributeError):
        return None


def _when(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "none"
