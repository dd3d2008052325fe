"""What commands share: their error, opening the database, and printing rows as a table or exporting them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from archive.cli.progress import Progress
from archive.cli.table import table
from archive.config import ArchivePaths
from archive.db.models import Story
from archive.db.session import open_database, session_factory
from archive.errors import NewsArchiveError
from archive.export import FORMATS, Column, format_for, write_rows
from archive.queries import find_story

#: A table column: its header and how to read it from a row.
TableColumn = tuple[str, Callable[[Mapping[str, Any]], object]]


class CommandError(NewsArchiveError):
    """A command cannot do what was asked; ``main`` prints the message and exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = NewsArchiveError.exit_code) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def story_named(session: Session, name: str | None) -> Story | None:
    """The synced story called ``name`` (``None`` for no name), or a CommandError."""
    if not name:
        return None
    story = find_story(session, name)
    if story is None:
        raise CommandError(f"no story {name!r}; sync its file first: newsarchive stories sync FILE")
    return story


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="export every row to this file (.csv, .jsonl, .parquet; '-' for stdout)")
    parser.add_argument("--format", choices=FORMATS, help="export format (default: from the file suffix)")
    parser.add_argument("--limit", type=int, default=50, help="rows shown as a table (default 50); exports are whole")


@contextmanager
def database(paths: ArchivePaths) -> Iterator[Session]:
    """A session on the archive's database, its engine disposed afterwards."""
    engine = open_database(paths.database_url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def emit(
    args: argparse.Namespace,
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[Column],
    shown: Sequence[TableColumn],
) -> int:
    """Export the rows if ``--output`` was given, else print the first ``--limit`` as a table."""
    if args.output:
        return export(rows, columns, args.output, args.format)
    first = list(islice(rows, args.limit + 1))
    if not first:
        print("no rows")
        return 0
    print(table([header for header, _ in shown], [[read(row) for _, read in shown] for row in first[: args.limit]]))
    if len(first) > args.limit:
        print("… more rows: export them all with -o FILE (.csv, .jsonl, .parquet)")
    return 0


def export(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], output: str, fmt: str | None) -> int:
    """Stream rows to a file (or stdout), with progress on stderr when it takes a while."""
    try:
        fmt = format_for(output if output != "-" else "stdout.jsonl", fmt)
    except ValueError as e:
        raise CommandError(str(e)) from e
    progress = Progress()

    def report(count: int) -> None:
        progress.show(f"exported {count:,} rows ({progress.rate(count):,.0f} rows/s)")

    if output == "-":
        count = write_rows(rows, columns, sys.stdout.buffer, fmt, report)
        sys.stdout.flush()
    else:
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        with open(output, "wb") as out:
            count = write_rows(rows, columns, out, fmt, report)
    progress.close()
    where = "stdout" if output == "-" else output
    print(
        f"exported {count:,} rows to {where} ({fmt}) in {progress.elapsed:.1f} s ({progress.rate(count):,.0f} rows/s)",
        file=sys.stderr,
    )
    return 0


def when(value: Any) -> str:
    """A time for a table cell (UTC, to the second)."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""
