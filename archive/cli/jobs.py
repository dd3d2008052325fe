"""``newsarchive jobs``: check a jobs file, see the schedule and the run history, run a job now."""

from __future__ import annotations

import argparse
import os
import signal
from datetime import datetime, timezone
from types import FrameType
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from archive.cli.output import CommandError
from archive.cli.schedule import add_stop_grace
from archive.cli.table import cut, table
from archive.config import ArchivePaths
from archive.configfile import format_duration
from archive.db.runs import BY_HAND, OK, JobRun
from archive.db.session import open_database, session_factory
from archive.jobs.config import JobSpec, load_jobs
from archive.jobs.history import recent_runs
from archive.jobs.runner import CrawlRunner
from archive.jobs.scheduler import job_store, stored_jobs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("jobs", help="scheduled crawls: check a jobs file, list, history, run one now")
    commands = parser.add_subparsers(dest="jobs_command", required=True, metavar="JOBS_COMMAND")

    check = commands.add_parser("check", help="validate a jobs file and print each job's next run times")
    check.add_argument("file", metavar="FILE")
    check.add_argument("--count", type=int, default=3, help="run times to print per job (default 3)")
    check.set_defaults(run=_check)

    listing = commands.add_parser("list", help="the jobs the scheduler holds, their next and last runs")
    listing.set_defaults(run=_list)

    history = commands.add_parser("history", help="past runs, newest first")
    history.add_argument("--job", help="only this job's runs")
    history.add_argument("--limit", type=int, default=30, help="runs to show (default 30)")
    history.set_defaults(run=_history)

    now = commands.add_parser("run", help="run one job now, as the scheduler would, and record it")
    now.add_argument("name", metavar="NAME")
    now.add_argument("--file", help="take the job from this jobs file (default: the scheduler's stored job)")
    add_stop_grace(now)
    now.set_defaults(run=_run)


def _check(args: argparse.Namespace, paths: ArchivePaths) -> int:
    jobs = load_jobs(args.file)
    now = datetime.now(timezone.utc)
    rows = []
    for spec in jobs.jobs:
        times = spec.next_run_times(now, args.count)
        shown = [_local(t, spec.timezone) for t in times] or ["(no run left)"]
        if spec.runs_on_add:
            shown[0] += " (when first scheduled)"
        rows.append(
            [
                spec.name,
                _crawl(spec),
                spec.describe_trigger(),
                spec.timezone,
                format_duration(spec.timeout),
                format_duration(spec.misfire_grace) if spec.misfire_grace else "any delay",
                shown[0],
            ]
        )
        rows += [[""] * 6 + [t] for t in shown[1:]]
    print(f"{jobs.path}: {len(jobs.jobs)} job{'s' if len(jobs.jobs) != 1 else ''}, valid")
    print()
    print(table(["job", "crawl", "trigger", "time zone", "timeout", "late runs", "next runs"], rows))
    return 0


def _list(args: argparse.Namespace, paths: ArchivePaths) -> int:
    engine = open_database(paths.database_url)
    jobs = stored_jobs(engine)
    with session_factory(engine)() as session:
        last = {job.id: next(iter(recent_runs(session, job.id, 1)), None) for job in jobs}
    engine.dispose()
    if not jobs:
        print("no scheduled jobs (start one with: newsarchive schedule FILE)")
        return 0
    rows = []
    for job in jobs:
        spec = JobSpec.from_state(job.args[0])
        run = last[job.id]
        rows.append(
            [
                job.id,
                _local(job.next_run_time, spec.timezone) if job.next_run_time else "paused",
                spec.describe_trigger(),
                f"{run.id} {run.status} {run.started_at:%Y-%m-%d %H:%M:%S}" if run else "",
            ]
        )
    print(table(["job", "next run", "trigger", "last run (UTC)"], rows))
    return 0


def _history(args: argparse.Namespace, paths: ArchivePaths) -> int:
    engine = open_database(paths.database_url)
    with session_factory(engine)() as session:
        runs = recent_runs(session, args.job, args.limit)
    engine.dispose()
    if not runs:
        print("no runs yet")
        return 0
    print(
        table(
            ["run", "job", "by", "started (UTC)", "took", "status", "exit", "pages", "captures", "articles"]
            + ["versions", "errors", "fetch errors", "reason"],
            [
                [
                    run.id,
                    run.job,
                    run.started_by,
                    f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                    _took(run),
                    run.status,
                    run.exit_code,
                    run.pages_fetched,
                    run.new_captures,
                    run.articles,
                    run.new_article_versions,
                    run.errors,
                    run.fetch_errors,
                    cut(run.reason, 70),
                ]
                for run in runs
            ],
        )
    )
    return 0


def _run(args: argparse.Namespace, paths: ArchivePaths) -> int:
    engine = open_database(paths.database_url)
    try:
        spec = _job(args, engine)
        if spec is None:
            where = args.file or "the scheduler's job store (give the jobs file with --file)"
            raise CommandError(f"no job {args.name!r} in {where}")
        runner = CrawlRunner(paths, session_factory(engine), stop_grace=args.stop_grace)

        def on_signal(signum: int, frame: FrameType | None) -> None:
            (runner.kill if stopping else runner.stop)()
            stopping.append(signum)

        stopping: list[int] = []
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            run = runner.run(spec, BY_HAND)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        engine.dispose()
    counts = f"{run.pages_fetched} pages, {run.new_captures} captures, {run.articles} articles, {run.errors} errors"
    print(f"job {run.job} run {run.id}: {run.status}" + (f" ({run.reason})" if run.reason else ""))
    if run.log_path:
        print(f"  {counts}; log {run.log_path}")
    return 0 if run.status == OK else 1


def _job(args: argparse.Namespace, engine: Engine) -> JobSpec | None:
    if args.file:
        return load_jobs(args.file).job(args.name)
    stored = job_store(engine).lookup_job(args.name)
    return JobSpec.from_state(stored.args[0]) if stored is not None else None


def _crawl(spec: JobSpec) -> str:
    seeds = f" seeds={_relative(spec.seeds)}" if spec.seeds else ""
    args = "".join(f" {name}={value}" for name, value in spec.args)
    return f"{spec.spider}{seeds}{args}"


def _relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def _took(run: JobRun) -> str:
    if run.ended_at is None:
        return ""
    return format_duration(max(0, int((run.ended_at - run.started_at).total_seconds())))
