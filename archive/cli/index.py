"""``newsarchive index``: rebuild the CDXJ index of the WARC files, or look captures up in it."""

from __future__ import annotations

import argparse
import json

from archive.cli.table import table
from archive.cli.timerange import add_time_range, time_range
from archive.config import ArchivePaths
from archive.index import IndexStore


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("index", help="the CDXJ index of the WARC files: rebuild it, look URLs up")
    commands = parser.add_subparsers(dest="index_command", required=True, metavar="INDEX_COMMAND")

    rebuild = commands.add_parser("rebuild", help="index every closed WARC file again (.open files never)")
    rebuild.set_defaults(run=_rebuild)

    lookup = commands.add_parser("lookup", help="the captures of a URL, from the index (no WARC is read)")
    lookup.add_argument("url", metavar="URL")
    add_time_range(lookup)
    lookup.add_argument("--cdxj", action="store_true", help="print the index lines themselves")
    lookup.set_defaults(run=_lookup)


def _rebuild(args: argparse.Namespace, paths: ArchivePaths) -> int:
    written = IndexStore(paths.index_dir).rebuild(paths.warc_dir)
    print(f"Indexed {len(written)} WARC files into {paths.index_dir}")
    return 0


def _lookup(args: argparse.Namespace, paths: ArchivePaths) -> int:
    start, end = time_range(args)
    entries = list(IndexStore(paths.index_dir).lookup(args.url, start, end))
    if args.cdxj:
        for entry in entries:
            print(entry.key, entry.timestamp, json.dumps(entry.fields))
        return 0 if entries else 1
    if not entries:
        print(f"No capture of {args.url} in the index")
        return 1
    print(
        table(
            ["timestamp", "status", "type", "URL", "WARC file", "offset", "length"],
            [
                [e.timestamp, e.fields.get("status"), e.fields.get("mime"), e.url, e.filename, e.offset, e.length]
                for e in entries
            ],
        )
    )
    return 0
