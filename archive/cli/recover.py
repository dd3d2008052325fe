"""``newsarchive recover``: close the WARC files a killed crawl left open, and index them."""

from __future__ import annotations

import argparse

from archive.cli.table import table
from archive.config import ArchivePaths
from archive.db.ingester import Ingester
from archive.db.session import open_database, session_factory
from archive.index import IndexStore
from archive.opening import recover_archive


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recover",
        help="close .open WARC files left by a killed crawl (whole records kept), index them in the database and CDXJ",
        description=(
            "Files a live crawler is writing are left alone (it holds a lock on them). A crawl also does this "
            "when it starts."
        ),
    )
    parser.set_defaults(run=_recover)


def _recover(args: argparse.Namespace, paths: ArchivePaths) -> int:
    engine = open_database(paths.database_url)
    try:
        results = recover_archive(paths, Ingester(session_factory(engine)), IndexStore(paths.index_dir))
    finally:
        engine.dispose()
    if not results:
        print(f"No abandoned WARC file in {paths.warc_dir}")
        return 0
    print(
        table(
            ["file", "whole records", "bytes kept", "torn bytes cut"],
            [
                [r.path.name if r.records else f"{r.path.name} (removed: nothing whole)", r.records, r.size, r.cut]
                for r in results
            ],
        )
    )
    return 0
