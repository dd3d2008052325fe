"""``newsarchive versions URL``: the timeline of an article's versions, and what changed in each; beside
them, the article's place in the recheck schedule and what each check found."""

from __future__ import annotations

import argparse

from archive.cli.output import CommandError, add_output_arguments, database, emit, when
from archive.cli.table import cut, table
from archive.config import ArchivePaths
from archive.export import columns_of
from archive.queries import CHANGE_COLUMNS, find_article, stream, versions_query, with_changes
from archive.queries.checks import Check, ScheduleLine, check_history, folded, schedule_of


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "versions", help="an article's versions over time, with words added and removed (every article without URL)"
    )
    parser.add_argument("url", nargs="?", help="the article's URL, or any address that led to it")
    add_output_arguments(parser)
    parser.set_defaults(run=_versions)


def _versions(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with database(paths) as session:
        article = None
        if args.url:
            article = find_article(session, args.url)
            if article is None:
                raise CommandError(f"no archived article at {args.url}")
        query = versions_query(article)
        status = emit(
            args,
            with_changes(stream(session, query)),
            columns_of(query, CHANGE_COLUMNS),
            [
                *([] if article else [("article", lambda r: r["url"])]),
                ("version", lambda r: r["version"]),
                ("first seen (UTC)", lambda r: when(r["first_seen"])),
                ("last seen (UTC)", lambda r: when(r["last_seen"])),
                ("captures", lambda r: r["captures"]),
                ("words", lambda r: r["words"]),
                ("+", lambda r: r["words_added"] if r["version"] > 1 else ""),
                ("-", lambda r: r["words_removed"] if r["version"] > 1 else ""),
                ("headline", lambda r: ("* " if r["headline_changed"] else "") + (cut(r["headline"], 60) or "")),
            ],
        )
        if article is not None and not args.output:
            _print_checks(schedule_of(session, article.id), check_history(session, article.id), args.limit)
        return status


def _print_checks(schedule: ScheduleLine | None, checks: list[Check], limit: int) -> None:
    """The schedule line, then the checks, a run of the same finding on one line."""
    print()
    if schedule is None:
        print("recheck schedule: not scheduled")
    else:
        print(
            f"recheck schedule: {schedule.state} · last checked {when(schedule.last_checked)} · "
            f"last changed {when(schedule.last_changed)} · next due {when(schedule.next_due) or '-'} (UTC)"
        )
    runs = folded(checks)
    print()
    print(f"checks: {len(checks)}")
    if not runs:
        return
    print(
        table(
            ["when (UTC)", "outcome", "detail", "version", "checks"],
            [
                [
                    when(run.first) + (f" to {when(run.last)}" if run.checks > 1 else ""),
                    run.outcome,
                    cut(run.detail, 60),
                    run.version,
                    run.checks,
                ]
                for run in runs[:limit]
            ],
        )
    )
    if len(runs) > limit:
        print(f"… {len(runs) - limit} more lines: show them with --limit {len(runs)}")
