"""``--from`` / ``--to`` options: a time range given as ISO dates or times, in UTC."""

from __future__ import annotations

import argparse
from datetime import datetime, time, timezone

from archive.cli.output import CommandError


def add_time_range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", metavar="WHEN", help="from this date or time (ISO, UTC)")
    parser.add_argument("--to", dest="end", metavar="WHEN", help="up to this date (the whole day) or time (ISO, UTC)")


def time_range(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    """The parsed range; a date alone means the start of that day for --from, its end for --to."""
    return _parse(args.start, time.min), _parse(args.end, time.max)


def _parse(value: str | None, day_bound: time) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"not an ISO date or time: {value!r}", exit_code=1) from e
    if len(value) == 10:  # a date: the whole day
        moment = datetime.combine(moment.date(), day_bound)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
