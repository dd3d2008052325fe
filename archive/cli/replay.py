"""``newsarchive replay URL [--at TIME]``: read one archived capture back, as text or as the bytes received."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from archive.cli.output import CommandError
from archive.cli.table import table
from archive.config import ArchivePaths
from archive.index import IndexStore
from archive.replay import UnsafePath, capture_time, captures, load, nearest, page_text

#: What a shortened CDXJ timestamp is completed with (``2019`` is ``20190101000000``).
_TIMESTAMP_FLOOR = "00000101000000"
#: Exit status when the capture asked for is not in the archive or cannot be read back as asked.
NOT_FOUND = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay", help="a URL's capture nearest a time: its extracted text, or its archived body (--raw)"
    )
    parser.add_argument("url", metavar="URL")
    parser.add_argument("--at", metavar="TIME", help="ISO date/time (UTC) or CDXJ timestamp (default: the latest)")
    parser.add_argument("--list", action="store_true", help="list every capture of the URL instead")
    parser.add_argument("--raw", metavar="FILE", help="write the archived HTTP body (decoded) to FILE ('-': stdout)")
    parser.add_argument(
        "--headers", action="store_true", help="with --raw, write the original status line and headers first"
    )
    parser.add_argument("--cite", action="store_true", help="print the capture's citation after the text")
    parser.set_defaults(run=_replay)


def parse_time(value: str) -> datetime:
    """An ISO date or time, or a CDXJ timestamp (``2019``, ``20190228``, ``20190228153000``), as naive UTC."""
    if value.isdigit() and 4 <= len(value) <= 14:
        return datetime.strptime(value + _TIMESTAMP_FLOOR[len(value) :], "%Y%m%d%H%M%S")
    moment = datetime.fromisoformat(value)
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _replay(args: argparse.Namespace, paths: ArchivePaths) -> int:
    store = IndexStore(paths.index_dir)
    try:
        at = parse_time(args.at) if args.at else None
    except ValueError as e:
        raise CommandError(f"not a time: {args.at!r} (ISO, or a timestamp such as 20190228153000)") from e
    found = captures(store, args.url)
    if not found:
        hint = "" if store.files() else f" (the index at {paths.index_dir} is empty: newsarchive index rebuild)"
        raise CommandError(f"no capture of {args.url}{hint}", exit_code=NOT_FOUND)
    if args.list:
        rows = [
            [
                capture_time(e).strftime("%Y-%m-%d %H:%M:%S"),
                e.status or "-",
                e.fields.get("mime", ""),
                e.filename,
                e.offset,
            ]
            for e in found
        ]
        print(table(["captured (UTC)", "status", "type", "WARC", "offset"], rows))
        return 0
    entry = nearest(found, at)
    assert entry is not None
    try:
        replayed = load(store, paths.warc_dir, entry)
    except (LookupError, UnsafePath, OSError) as e:
        raise CommandError(f"cannot read the capture: {e}", exit_code=NOT_FOUND) from e
    if args.raw:
        data = (replayed.head().encode("latin-1", "replace") if args.headers else b"") + replayed.body
        if args.raw == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            with open(args.raw, "wb") as out:
                out.write(data)
            print(f"wrote {len(data):,} bytes to {args.raw}", file=sys.stderr)
    else:
        try:
            print(page_text(replayed))
        except ValueError as e:  # not a text type
            raise CommandError(str(e), exit_code=NOT_FOUND) from e
    if args.cite:  # after the text; to stderr when stdout carries the body
        print(f"\n{replayed.citation().text()}", file=sys.stderr if args.raw else sys.stdout)
    return 0
