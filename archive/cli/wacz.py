"""``newsarchive wacz``: package the archive, or a date range of it, as one WACZ file."""

from __future__ import annotations

import argparse

from archive.cli.output import CommandError
from archive.cli.timerange import add_time_range, time_range
from archive.config import ArchivePaths
from archive.index import IndexStore
from archive.wacz import write_wacz
from archive.warc.files import closed_warcs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "wacz", help="package the closed WARC files (of a date range) with their index and article list as WACZ"
    )
    parser.add_argument("output", metavar="FILE.wacz")
    add_time_range(parser)
    parser.add_argument("--title", help="title in datapackage.json")
    parser.add_argument("--text", action="store_true", help="put article texts in pages.jsonl (full-text search)")
    parser.set_defaults(run=_wacz)


def _wacz(args: argparse.Namespace, paths: ArchivePaths) -> int:
    start, end = time_range(args)
    if not closed_warcs(paths.warc_dir):
        raise CommandError(f"no closed WARC file in {paths.warc_dir}", exit_code=1)
    summary = write_wacz(args.output, paths.warc_dir, IndexStore(paths.index_dir), start, end, args.title, args.text)
    if not summary.warc_files:
        summary.path.unlink()
        raise CommandError("no WARC file was being written in that time range", exit_code=1)
    print(
        f"Wrote {summary.path}: {summary.warc_files} WARC files, {summary.index_lines} captures, "
        f"{summary.pages} article pages, {summary.size / 1e6:.2f} MB"
    )
    return 0
