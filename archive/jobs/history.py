"""The run history in the database: one ``job_runs`` row per run, each change in one transaction.

A run is inserted as ``running`` before its crawl starts and completed when
it ends. The database allows one ``running`` row per job (a partial unique
index), so two processes starting the same job race on the insert, and the
loser records a ``skipped`` run instead of crawling.

A ``running`` row whose supervising process died is recognised (its
process is gone from this host, or its deadline has passed) and closed as
``interrupted`` before the job runs again and when a scheduler starts.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archive.db.runs import INTERRUPTED, RUNNING, SKIPPED, JobRun

HOST = socket.gethostname()


def utcnow() -> datetime:
    """Now as naive UTC, as the database stores times."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, as written into its row."""

    status: str
    reason: str | None = None
    exit_code: int | None = None
    pages_fetched: int | None = None
    new_captures: int | None = None
    articles: int | None = None
    new_article_versions: int | None = None
    errors: int | None = None
    fetch_errors: int | None = None


def begin_run(
    sessions: sessionmaker[Session],
    job: str,
    started_by: str,
    longest: timedelta,
    prepare: Callable[[JobRun], None],
) -> tuple[JobRun, bool]:
    """Insert the run's ``running`` row; ``(row, True)``, or a ``skipped`` row and False if the job is running.

    ``prepare`` fills in what depends on the run's id (command, log file) in the same transaction.
    """
    with sessions.begin() as session:
        close_dead_runs(session, job)
    now = utcnow()
    try:
        with sessions.begin() as session:
            run = JobRun(
                job=job,
                started_by=started_by,
                status=RUNNING,
                started_at=now,
                deadline=now + longest,
                host=HOST,
                pid=os.getpid(),
            )
            session.add(run)
            session.flush()
            prepare(run)
        return run, True
    except IntegrityError:
        pass
    with sessions.begin() as session:
        other = session.scalars(select(JobRun).where(JobRun.job == job, JobRun.status == RUNNING)).first()
        holder = (
            f"run {other.id} on {other.host} (pid {other.pid}) since {other.started_at:%Y-%m-%d %H:%M:%S}"
            if other
            else "another run"
        )
        return record_event(session, job, started_by, SKIPPED, f"still running: {holder}"), False


def finish_run(sessions: sessionmaker[Session], run_id: int, outcome: RunOutcome) -> JobRun:
    """Complete a ``running`` row with how the run ended, in one transaction."""
    with sessions.begin() as session:
        run = session.get_one(JobRun, run_id)
        run.ended_at = utcnow()
        for field, value in vars(outcome).items():
            setattr(run, field, value)
        return run


def record_event(session: Session, job: str, started_by: str, status: str, reason: str) -> JobRun:
    """A run that never started (``skipped``, ``missed``), for the history to show the gap."""
    now = utcnow()
    run = JobRun(
        job=job,
        started_by=started_by,
        status=status,
        started_at=now,
        ended_at=now,
        host=HOST,
        pid=os.getpid(),
        reason=reason,
    )
    session.add(run)
    session.flush()
    return run


def close_dead_runs(session: Session, job: str | None = None) -> list[JobRun]:
    """Mark ``running`` rows whose supervising process is gone as ``interrupted``; return them."""
    query = select(JobRun).where(JobRun.status == RUNNING)
    if job is not None:
        query = query.where(JobRun.job == job)
    now = utcnow()
    closed = []
    for run in session.scalars(query):
        if run.deadline is not None and run.deadline < now:
            why = "its supervising process stopped answering: the run is past its deadline with no result"
        elif run.host == HOST and run.pid is not None and not _alive(run.pid):
            why = f"its supervising process (pid {run.pid}) died before the run ended"
        else:
            continue
        run.status = INTERRUPTED
        run.ended_at = now
        run.reason = why
        closed.append(run)
    return closed


def recent_runs(session: Session, job: str | None = None, limit: int = 50) -> Sequence[JobRun]:
    """The latest runs, newest first."""
    query = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    return session.scalars(query).all()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
