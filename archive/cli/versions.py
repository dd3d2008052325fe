"""``newsarchive versions URL``: the timeline of an article's versions, and what changed in each."""

from __future__ import annotations

import argparse

from archive.cli.output import CommandError, add_output_arguments, database, emit, when
from archive.cli.table import cut
from archive.config import ArchivePaths
from archive.export import columns_of
from archive.queries import CHANGE_COLUMNS, find_article, stream, versions_query, with_changes


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "versions", help="an article's versions over time, with words added and removed (every article without URL)"
    )
    parser.add_argument("url", nargs="?", help="the article's URL, or any address that led to it")
    add_output_arguments(parser)
    parser.set_defaults(run=_versions)


def _versions(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with database(paths) as session:
        article = None
        if args.url:
            article = find_article(session, args.url)
            if article is None:
                raise CommandError(f"no archived article at {args.url}")
        query = versions_query(article)
        return emit(
            args,
            with_changes(stream(session, query)),
            columns_of(query, CHANGE_COLUMNS),
            [
                *([] if article else [("article", lambda r: r["url"])]),
                ("version", lambda r: r["version"]),
                ("first seen (UTC)", lambda r: when(r["first_seen"])),
                ("last seen (UTC)", lambda r: when(r["last_seen"])),
                ("captures", lambda r: r["captures"]),
                ("words", lambda r: r["words"]),
                ("+", lambda r: r["words_added"] if r["version"] > 1 else ""),
                ("-", lambda r: r["words_removed"] if r["version"] > 1 else ""),
                ("headline", lambda r: ("* " if r["headline_changed"] else "") + (cut(r["headline"], 60) or "")),
            ],
        )
