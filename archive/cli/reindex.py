"""``newsarchive reindex``: rebuild the database from the WARC files alone.

The rebuild itself is :func:`archive.rebuild.rebuild`. Into a database
that already indexes something it only goes when told: ``--drop`` empties
the index first (stories are then re-synced from their stored definitions;
the scheduler's history is kept), ``--merge`` adds to it (records already
indexed are skipped). The summary counts what each kind of record restored, re-extractions
(``newsarchive reextract``'s ``reextraction/1`` records) included.

Files given from outside the WARC folder are copied into it first (rows
point at a file by its name there) and get their CDXJ index; a name the
folder already uses for a different file is refused before anything
changes. A record that cannot be indexed is reported (file, offset, why)
and skipped; the rest of its file and the files after it are indexed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from archive.cli.output import CommandError
from archive.cli.progress import Progress
from archive.config import ArchivePaths
from archive.db.ingester import DEFAULT_BATCH, Ingester
from archive.db.maintenance import clear_index, indexed_rows, refresh_statistics
from archive.db.session import open_database, session_factory
from archive.index import IndexStore, cdxj_line
from archive.rebuild import RebuildProgress, bring_into, rebuild
from archive.reprints import clear_reprints
from archive.search.index import clear_search_index
from archive.stories import resync_stories
from archive.warc.files import warc_files
from archive.warc.reader import DamagedWarc, checked_records


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("reindex", help="rebuild the database from the WARC files")
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="WARC files or folders (default: the WARC folder)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--drop", action="store_true", help="empty the database's index first, then rebuild it")
    mode.add_argument("--merge", action="store_true", help="index into a database that already holds records")
    parser.add_argument(
        "--batch", type=int, default=DEFAULT_BATCH, help=f"records per transaction (default {DEFAULT_BATCH})"
    )
    parser.set_defaults(run=_reindex)


def _reindex(args: argparse.Namespace, paths: ArchivePaths) -> int:
    files = warc_files(args.paths or [paths.warc_dir])
    if not files:
        raise CommandError(f"no WARC files in {', '.join(map(str, args.paths or [paths.warc_dir]))}")
    engine = open_database(paths.database_url)
    try:
        sessions = session_factory(engine)
        with sessions() as session:
            held = indexed_rows(session)
        if held and not (args.drop or args.merge):
            raise CommandError(
                f"{paths.database_url} already indexes {held:,} outlets, URLs and captures; "
                "use --drop to rebuild it from scratch, or --merge to add these files to it"
            )
        files, copied = bring_into(paths.warc_dir, files)
        for path in copied:
            _index_for_replay(IndexStore(paths.index_dir), path)
            print(f"copied {path.name} into {paths.warc_dir} and indexed it for replay")
        if args.drop:
            with sessions.begin() as session:
                clear_search_index(session.connection())  # before the versions it reads its old values from
                clear_reprints(session.connection())
                clear_index(session)
        ingester = Ingester(sessions)
        progress = Progress()

        def report(state: RebuildProgress) -> None:
            progress.show(
                f"files {state.files_done}/{state.files_total}  records {state.records:,}  "
                f"{progress.rate(state.records):,.0f} records/s" + (f"  {state.current.name}" if state.current else "")
            )

        result = rebuild(ingester, files, args.batch, report)
        progress.close()
        with sessions.begin() as session:
            synced = resync_stories(session)
            refresh_statistics(session)
    finally:
        engine.dispose()
    counts = ingester.counts
    print(
        f"indexed {result.records:,} records from {result.files} files in {progress.elapsed:.1f} s "
        f"({progress.rate(result.records):,.0f} records/s): "
        f"{counts.captures:,} captures ({counts.revisits:,} revisits), {counts.articles:,} articles, "
        f"{counts.versions:,} versions, {counts.reextractions:,} re-extractions, {counts.listings:,} listings, "
        f"{counts.fetch_errors:,} fetch errors; {counts.skipped:,} already indexed"
        + (f"; {counts.unparseable:,} unparseable URLs left out (see the warnings)" if counts.unparseable else "")
    )
    for result_story in synced:
        print(f"story {result_story.story}: {result_story.members} articles")
    for skipped in result.skipped:
        print(f"newsarchive: {skipped}", file=sys.stderr)
    for damage in result.damaged:
        print(f"newsarchive: {damage}; the rest of this file was skipped", file=sys.stderr)
    if result.skipped:
        print(f"newsarchive: {len(result.skipped):,} records could not be indexed", file=sys.stderr)
    if result.damaged:
        print(
            f"newsarchive: {len(result.damaged)} of {result.files} files could not be read to the end", file=sys.stderr
        )
    if result.damaged or result.skipped:
        return 1
    return 0


def _index_for_replay(store: IndexStore, path: Path) -> None:
    """The CDXJ index of a file copied into the WARC folder, as far as it can be read (the
    rebuild reports any damage)."""
    lines = []
    try:
        for record in checked_records(path):
            if line := cdxj_line(record):
                lines.append(line)
    except DamagedWarc:
        pass
    store.write(path.name, lines)
