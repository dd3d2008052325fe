"""Tables of the job scheduler: the history of scheduled crawls and APScheduler's job store.

Each crawl a job starts is one ``job_runs`` row, written when the crawl
starts (status ``running``) and completed when it ends, each in one
transaction, so the history never holds half a run. A partial unique index
allows one ``running`` row per job: the same job cannot run twice at once,
whichever scheduler or ``newsarchive jobs run`` starts it, on one database.

``scheduler_jobs`` is the table APScheduler's ``SQLAlchemyJobStore`` reads
and writes (its own layout, created here so that Alembic knows it and never
proposes to drop it).

Times are naive UTC, as in :mod:`archive.db.models`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    Unicode,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from archive.db.models import Base

#: Run statuses. ``running`` is the only one that is not final.
RUNNING = "running"
OK = "ok"  # the crawl finished by itself
FAILED = "failed"  # it exited with an error, or was stopped at its timeout
INTERRUPTED = "interrupted"  # the scheduler stopped it, or died while it ran
SKIPPED = "skipped"  # not started: the same job was still running
MISSED = "missed"  # not started: later than its misfire grace time
STATUSES = (RUNNING, OK, FAILED, INTERRUPTED, SKIPPED, MISSED)

#: How a run was started.
BY_SCHEDULE = "schedule"
BY_HAND = "manual"

JOBSTORE_TABLE = "scheduler_jobs"

_ONE_RUNNING = text(f"status = '{RUNNING}'")


class JobRun(Base):
    """One run of a scheduled job: when, how it ended, and what the crawl fetched."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index(
            "ix_job_runs_one_running",
            "job",
            unique=True,
            sqlite_where=_ONE_RUNNING,
            postgresql_where=_ONE_RUNNING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100), index=True)
    started_by: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: After this time the run is certainly over (timeout plus stop grace): a row still
    #: ``running`` past it was left by a process that died.
    deadline: Mapped[datetime | None] = mapped_column(DateTime)
    #: The process supervising the crawl (the scheduler or ``newsarchive jobs run``).
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    command: Mapped[str | None] = mapped_column(Text)
    log_path: Mapped[str | None] = mapped_column(Text)
    #: The crawl's exit status (negative: killed by that signal).
    exit_code: Mapped[int | None] = mapped_column(Integer)
    #: Why the run ended as it did, in words (timeout, exit status, shutdown...).
    reason: Mapped[str | None] = mapped_column(Text)
    #: From the crawl's final stats; empty when the crawl wrote none.
    pages_fetched: Mapped[int | None] = mapped_column(Integer)
    new_captures: Mapped[int | None] = mapped_column(Integer)
    articles: Mapped[int | None] = mapped_column(Integer)
    #: Article versions the crawl created (first versions of new articles included), from
    #: the stat ``archive/new_article_versions``; empty if the crawl did not report it.
    new_article_versions: Mapped[int | None] = mapped_column(Integer)
    #: Messages the crawl logged at ERROR or CRITICAL level.
    errors: Mapped[int | None] = mapped_column(Integer)
    #: Fetches that got no HTTP answer (archived as fetch-error records).
    fetch_errors: Mapped[int | None] = mapped_column(Integer)


#: APScheduler 3's ``SQLAlchemyJobStore`` table layout, column for column.
scheduler_jobs = Table(
    JOBSTORE_TABLE,
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
