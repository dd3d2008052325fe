"""``newsarchive recover``: close the WARC files a killed crawl left open, and index them."""

from __future__ import annotations

import argparse

from archive.cli.table import table
from archive.config import ArchivePaths
from archive.db.ingester import Ingester
from archive.db.session import open_database, session_factory
from archive.index import IndexStore
from archive.opening import recover_archive
from archive.warc.recovery import GZIP_RECORDS, Recovered


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recover",
        help="close .open WARC files left by a killed crawl (whole records kept), index them in the database and CDXJ",
        description=(
            "Files a live crawler is writing are left alone (it holds a lock on them). Only a torn last record "
            "is cut; a damaged file keeps every whole record before and after the damage, its original is kept "
            "beside it as NAME.damaged, and the skipped stretches are listed with their offsets. A crawl also "
            "does this when it starts."
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
    print(table(["file", "whole records", "bytes kept", "torn bytes cut", "damaged bytes skipped"], _rows(results)))
    for result in results:
        for stretch in result.skipped:
            print(
                f"{result.path.name}: skipped {stretch.length} damaged bytes at offset {stretch.offset} of the original"
            )
        if result.original is not None:
            print(f"{result.path.name}: the damaged original is kept as {result.original.name}")
        for problem in result.problems:
            print(f"{result.path.name}: {problem}")
    return 0


def _rows(results: list[Recovered]) -> list[list[object]]:
    rows: list[list[object]] = []
    for r in results:
        if r.closed:
            name = r.path.name if r.layout == GZIP_RECORDS else f"{r.path.name} ({r.layout}, closed as it was)"
        elif r.original is not None:
            name = f"{r.path.name} (nothing whole: kept as it was)"
        elif r.problems:
            name = f"{r.path.name} (left alone)"
        else:
            name = f"{r.path.name} (removed: nothing whole)"
        rows.append([name, r.records, r.size, r.cut, sum(s.length for s in r.skipped)])
    return rows
