"""``newsarchive recheck status``: how the recheck schedule stands per outlet, and the recheck rate achieved."""

from __future__ import annotations

import argparse
from dataclasses import asdict, fields
from datetime import datetime, timezone
from typing import Any

from archive.cli.output import database, export, when
from archive.cli.table import table
from archive.config import ArchivePaths
from archive.export import FORMATS, Column
from archive.queries.checks import OutletRechecks, recheck_status

#: What an export holds per outlet: the counts, then the rates the table shows.
COLUMNS: list[Column] = [
    ("outlet", "str"),
    *((f.name, "int") for f in fields(OutletRechecks) if f.name != "outlet"),
    ("rate_last_hour", "float"),
    ("rate_last_day", "float"),
]
#: The table's columns; "checks/h" is the last hour's checks, "checks/h 24h" the last day's per hour.
HEADERS = ["outlet", "watching", "due", "overdue", "upcoming", "settled", "gone", "moved", "checks/h", "checks/h 24h"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("recheck", help="articles rechecked for edits: the schedule's state per outlet")
    commands = parser.add_subparsers(dest="recheck_command", required=True, metavar="RECHECK_COMMAND")
    status = commands.add_parser(
        "status", help="per outlet: articles watched, due, overdue, settled, gone, moved; checks per hour"
    )
    status.add_argument("--outlet", metavar="NAME", help="one outlet only, by its name in the seed list")
    status.add_argument("-o", "--output", help="export the rows to this file (.csv, .jsonl, .parquet; '-' for stdout)")
    status.add_argument("--format", choices=FORMATS, help="export format (default: from the file suffix)")
    status.set_defaults(run=_status)


def _status(args: argparse.Namespace, paths: ArchivePaths) -> int:
    now = datetime.now(timezone.utc)
    with database(paths) as session:
        report = recheck_status(session, now, args.outlet)
    rows = report.outlets + ([report.total] if args.outlet is None else [])
    if args.output:
        return export((_exported(r) for r in rows), COLUMNS, args.output, args.format)
    print(f"Rechecks at {when(report.now)} UTC (overdue: due for more than {_hours(report.grace)})")
    if not report.outlets:
        print("no article is scheduled for rechecks")
        return 0
    print(
        table(
            HEADERS,
            [
                [
                    r.outlet,
                    r.watching,
                    r.due,
                    r.overdue,
                    r.upcoming,
                    r.settled,
                    r.gone,
                    r.moved,
                    r.checks_last_hour,
                    f"{r.rate_last_day:.1f}",
                ]
                for r in rows
            ],
        )
    )
    return 0


def _exported(row: OutletRechecks) -> dict[str, Any]:
    return {**asdict(row), "rate_last_hour": row.rate_last_hour, "rate_last_day": row.rate_last_day}


def _hours(span: Any) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} h"
