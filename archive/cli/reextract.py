"""``newsarchive reextract``: read archived captures again with the current extractor.

The work is :func:`archive.reextract.reextract`: the captures of an outlet,
of a time range, or all (``--all``), whose crawl-time extraction another
extractor version made (every one with ``--force``), are extracted again on
all cores and written to a new WARC file as re-extractions, then indexed;
the original records and rows are left as they are. ``--dry-run`` only says
how many captures a run would take. Interrupted (Ctrl-C), a run keeps what
it did; the same command started again goes on with the rest.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from archive.cli.output import CommandError
from archive.cli.progress import Progress
from archive.cli.table import table
from archive.cli.timerange import time_range
from archive.config import ArchivePaths
from archive.extract import EXTRACTOR, EXTRACTOR_VERSION
from archive.reextract import (
    DEFAULT_CHUNK,
    DEFAULT_TIMEOUT,
    ReextractProgress,
    Selection,
    pending_by_outlet,
    reextract,
)

#: Exit status of a run stopped by Ctrl-C (128 + SIGINT, as the shell reports it).
INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reextract", help="extract archived captures again with the current extractor (the originals are kept)"
    )
    parser.add_argument("--outlet", metavar="NAME", help="only this outlet's captures")
    parser.add_argument(
        "--since", "--from", dest="start", metavar="WHEN", help="captures from this date or time (ISO, UTC)"
    )
    parser.add_argument(
        "--until",
        "--to",
        dest="end",
        metavar="WHEN",
        help="captures up to this date (the whole day) or time (ISO, UTC)",
    )
    parser.add_argument("--all", action="store_true", help="every capture of the archive")
    parser.add_argument(
        "--force", action="store_true", help="also captures the current extractor version read at crawl time"
    )
    parser.add_argument("--workers", type=int, metavar="N", help="extraction processes (default: one per core)")
    parser.add_argument(
        "--chunk", type=int, default=DEFAULT_CHUNK, metavar="N", help=f"captures per chunk (default {DEFAULT_CHUNK})"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time one page may take (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("--dry-run", action="store_true", help="only count the captures a run would re-extract")
    parser.set_defaults(run=_reextract)


def _reextract(args: argparse.Namespace, paths: ArchivePaths) -> int:
    start, end = time_range(args)
    if args.all == bool(args.outlet or start or end):
        raise CommandError("choose the captures: --outlet NAME, --since/--until WHEN, or --all")
    if (args.workers is not None and args.workers < 1) or args.chunk < 1:
        raise CommandError("--workers and --chunk take a number of 1 or more")
    selection = Selection(args.outlet, _naive(start), _naive(end), args.force)
    extractor = f"{EXTRACTOR} {EXTRACTOR_VERSION}"
    if args.dry_run:
        pending = pending_by_outlet(paths, selection)
        print(f"{sum(pending.values()):,} captures to re-extract with {extractor}")
        if pending:
            rows = [[outlet or "(no outlet)", f"{count:,}"] for outlet, count in sorted(pending.items(), key=_by_name)]
            print(table(["outlet", "captures"], rows))
        return 0
    progress = Progress()

    def report(state: ReextractProgress) -> None:
        rate = progress.rate(state.done)
        eta = (state.total - state.done) / rate if rate > 0 else 0.0
        counts = state.counts
        progress.show(
            f"captures {state.done:,}/{state.total:,}  {rate:,.1f}/s  ETA {_duration(eta)}  "
            f"changed {counts.changed:,}  unchanged {counts.unchanged:,}  no article {counts.no_article:,}  "
            f"errors {counts.errors:,}"
        )

    result = reextract(paths, selection, args.workers, args.chunk, args.timeout, report)
    progress.close()
    counts = result.counts
    print(f"re-extraction run {result.run} with {extractor}: {progress.elapsed:.1f} s")
    print(
        table(
            ["captures", "count"],
            [
                ["selected", f"{counts.selected:,}"],
                ["re-extracted", f"{counts.reextracted:,}"],
                ["  text changed", f"{counts.changed:,}"],
                ["  text unchanged", f"{counts.unchanged:,}"],
                ["  no article", f"{counts.no_article:,}"],
                ["errors", f"{counts.errors:,}"],
            ],
        )
    )
    for path in result.warc_files:
        print(f"written to {path} and indexed")
    for error in result.errors:
        print(f"newsarchive: not re-extracted: {error}", file=sys.stderr)
    if counts.errors > len(result.errors):
        print(f"newsarchive: … {counts.errors - len(result.errors):,} more errors (see the warnings)", file=sys.stderr)
    if result.interrupted:
        print(
            f"newsarchive: interrupted after {counts.done:,} of {counts.selected:,} captures; "
            "run the same command again to go on",
            file=sys.stderr,
        )
        return INTERRUPTED
    return 1 if counts.errors else 0


def _naive(moment: datetime | None) -> datetime | None:
    """A UTC time as the database stores it (naive UTC)."""
    return moment.replace(tzinfo=None) if moment is not None else None


def _by_name(item: tuple[str | None, int]) -> str:
    return item[0] or ""


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
