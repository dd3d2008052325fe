"""``newsarchive replay URL [--at TIME]``: read one archived capture back, as text or as the bytes received.

The archive keeps what the server answered, errors and redirects included. A
capture whose status is not a success (a 404 page, a 301's body) is not the
page a researcher asked for, so by default ``replay`` prints nothing on stdout
for it: it names the status (and a redirect's target) on stderr and exits
with :data:`NOT_OK`, as ``curl --fail`` does; ``--any-status`` prints it anyway.
"""

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
#: Exit status when the capture's HTTP status is not 2xx (and --any-status was not given).
NOT_OK = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="a URL's capture nearest a time: its extracted text, or its archived body (--raw)",
        description="Print a URL's capture nearest a time: its extracted text, or its archived body (--raw).",
        epilog=(
            f"exit status: 0 the capture was printed; {NOT_FOUND} no such capture, or it cannot be read as asked; "
            "2 a usage error; "
            f"{NOT_OK} the capture is not a 2xx answer (a 404, a redirect...): its status goes to stderr and "
            "nothing to stdout, unless --any-status"
        ),
    )
    parser.add_argument("url", metavar="URL")
    parser.add_argument("--at", metavar="TIME", help="ISO date/time (UTC) or CDXJ timestamp (default: the latest)")
    parser.add_argument("--list", action="store_true", help="list every capture of the URL instead")
    parser.add_argument("--raw", metavar="FILE", help="write the archived HTTP body (decoded) to FILE ('-': stdout)")
    parser.add_argument(
        "--headers", action="store_true", help="with --raw, write the original status line and headers first"
    )
    parser.add_argument("--cite", action="store_true", help="print the capture's citation after the text")
    parser.add_argument(
        "--any-status",
        action="store_true",
        help="print a capture whatever its HTTP status (a 404 page, a redirect's body), exit 0; "
        "its status still goes to stderr",
    )
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
    if replayed.status is not None and not 200 <= replayed.status < 300:
        when = capture_time(entry).strftime("%Y-%m-%d %H:%M:%S")
        location = replayed.header("Location")
        status = replayed.reason + (f" (Location: {location})" if location else "")
        if not args.any_status:
            raise CommandError(
                f"the capture of {args.url} at {when} UTC answered {status}; --any-status prints it anyway",
                exit_code=NOT_OK,
            )
        print(f"newsarchive: note: the capture of {args.url} at {when} UTC answered {status}", file=sys.stderr)
    if args.raw:
        data = (replayed.head().encode("latin-1", "replace") if args.headers else b"") + replayed.body
        if args.raw == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            try:
                with open(args.raw, "wb") as out:
                    out.write(data)
            except OSError as e:
                raise CommandError(f"cannot write {args.raw}: {e.strerror or e}") from e
            print(f"wrote {len(data):,} bytes to {args.raw}", file=sys.stderr)
    else:
        try:
            print(page_text(replayed))
        except ValueError as e:  # not a text type
            raise CommandError(str(e), exit_code=NOT_FOUND) from e
    if args.cite:  # after the text; to stderr when stdout carries the body
        print(f"\n{replayed.citation().text()}", file=sys.stderr if args.raw else sys.stdout)
    return 0
