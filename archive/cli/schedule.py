"""``newsarchive schedule FILE``: the scheduler daemon, in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import sys

from archive.config import ArchivePaths
from archive.jobs.config import load_jobs
from archive.jobs.runner import DEFAULT_STOP_GRACE
from archive.jobs.scheduler import DEFAULT_WORKERS, Scheduler

LOG_FORMAT = "%(asctime)s [%(name)s] %(levelname)s: %(message)s"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schedule",
        help="run the jobs of a jobs file on their schedules (foreground; stop with SIGINT or SIGTERM)",
        description="Run the jobs of FILE on their schedules, each run a `scrapy crawl` process, "
        "recorded in the run history. One scheduler runs per database.",
    )
    parser.add_argument("file", metavar="FILE", help="jobs file (TOML), e.g. jobs/outlets.toml")
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help=f"crawls running at once (default {DEFAULT_WORKERS})"
    )
    add_stop_grace(parser)
    parser.add_argument(
        "--standby",
        action="store_true",
        help="if another scheduler runs on this database, wait and take over when it stops (default: exit)",
    )
    parser.add_argument(
        "--lock-poll", type=float, default=10.0, metavar="SECONDS", help="how often a standby tries (default 10)"
    )
    parser.set_defaults(run=_schedule)


def add_stop_grace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stop-grace",
        type=float,
        default=DEFAULT_STOP_GRACE,
        metavar="SECONDS",
        help=f"after SIGTERM, how long a crawl may take to close before it is killed (default {DEFAULT_STOP_GRACE:g})",
    )


def configure_logging() -> None:
    """The daemon's log: timestamped, INFO and up, to stderr (the journal, under systemd).

    It replaces whatever logging the process had: the scheduler is the whole process.
    """
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr, force=True)


def _schedule(args: argparse.Namespace, paths: ArchivePaths) -> int:
    jobs = load_jobs(args.file)  # first: a malformed file leaves the archive untouched
    configure_logging()
    scheduler = Scheduler(
        jobs, paths, workers=args.workers, stop_grace=args.stop_grace, standby=args.standby, lock_poll=args.lock_poll
    )
    return scheduler.serve()  # another scheduler holding the database: SchedulerLockError, status 75
