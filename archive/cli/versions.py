"""``newsarchive versions URL``: the timeline of an article's versions, and what changed in each; beside
them, the article's place in the recheck schedule and what each check found.

The versions are the crawl-time ones unless ``--extraction`` asks for those a re-extraction found
(``newsarchive reextract``): ``latest`` (the newest extractor version that re-extracted the article), or
an extractor version by name. A version read by another extractor version than the one before it is
marked, not compared: the change may be the extractor's."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from archive.cli.output import CommandError, add_output_arguments, database, emit, when
from archive.cli.table import cut, table
from archive.config import ArchivePaths
from archive.db.models import Article
from archive.export import columns_of
from archive.queries import CHANGE_COLUMNS, find_article, stream, versions_query, with_changes
from archive.queries.checks import Check, ScheduleLine, check_history, folded, schedule_of
from archive.queries.versions import latest_reextraction, reextracted_versions_query, reextraction_counts

ORIGINAL = "original"
LATEST = "latest"
#: The headline's mark on a version read by another extractor version than the one before it.
EXTRACTOR_MARK = "~ "


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "versions", help="an article's versions over time, with words added and removed (every article without URL)"
    )
    parser.add_argument("url", nargs="?", help="the article's URL, or any address that led to it")
    parser.add_argument(
        "--extraction",
        default=ORIGINAL,
        metavar="WHICH",
        help=f"{ORIGINAL} (the crawl-time versions, default), {LATEST} (those the newest re-extraction found), "
        f"or an extractor version; a headline marked {EXTRACTOR_MARK.strip()} was read by another extractor "
        "version than the version before it, and is not compared with it",
    )
    add_output_arguments(parser)
    parser.set_defaults(run=_versions)


def _versions(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with database(paths) as session:
        article = None
        if args.url:
            article = find_article(session, args.url)
            if article is None:
                raise CommandError(f"no archived article at {args.url}")
        query = _query(session, article, args.extraction)
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
                ("+", lambda r: r["words_added"] if _compared(r) else ""),
                ("-", lambda r: r["words_removed"] if _compared(r) else ""),
                ("headline", _headline),
            ],
        )
        if article is not None and not args.output:
            _print_extractions(session, article)
            _print_checks(schedule_of(session, article.id), check_history(session, article.id), args.limit)
        return status


def _query(session: Session, article: Article | None, extraction: str) -> Select[Any]:
    """The crawl-time versions, or those a re-extraction found."""
    if extraction == ORIGINAL:
        return versions_query(article)
    extractor_version = latest_reextraction(session, article) if extraction == LATEST else extraction
    if extractor_version is None:
        raise CommandError(
            f"no re-extraction {'of this article ' if article else ''}yet: newsarchive reextract makes them"
        )
    return reextracted_versions_query(extractor_version, article)


def _compared(row: Mapping[str, Any]) -> bool:
    return row["version"] > 1 and not row["extractor_changed"]


def _headline(row: Mapping[str, Any]) -> str:
    mark = EXTRACTOR_MARK if row["extractor_changed"] else "* " if row["headline_changed"] else ""
    return mark + (cut(row["headline"], 60) or "")


def _print_extractions(session: Session, article: Article) -> None:
    """The re-extractions of the article, each extractor version's with how many versions it found."""
    found = reextraction_counts(session, article)
    if found:
        print()
    for name, count in found.items():
        print(f"re-extracted by {name}: {count} versions (newsarchive versions URL --extraction {name})")


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
