"""``newsarchive summary``: counts of what is archived, and the latest articles."""

from __future__ import annotations

import argparse

from archive.cli.table import cut, table
from archive.config import ArchivePaths
from archive.db.session import open_database, session_factory
from archive.queries import list_articles, summarize


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("summary", help="what is archived: outlets, captures, articles, WARC files")
    parser.add_argument("--limit", type=int, default=20, help="articles to list (default 20, 0 for none)")
    parser.set_defaults(run=_summary)


def _summary(args: argparse.Namespace, paths: ArchivePaths) -> int:
    engine = open_database(paths.database_url)
    with session_factory(engine)() as session:
        totals = summarize(session, paths.warc_dir)
        articles = list_articles(session, args.limit) if args.limit else []
    engine.dispose()
    statuses = ", ".join(f"{status}: {count}" for status, count in totals.captures_by_status.items())
    print(f"Archive in {paths.data_dir}")
    print(f"  WARC folder  {paths.warc_dir}")
    print(f"  database     {engine.url.render_as_string()}")
    print()
    print(
        table(
            ["what", "count"],
            [
                ["outlets", totals.outlets],
                ["URLs", totals.urls],
                ["captures", f"{totals.captures}" + (f" ({statuses})" if statuses else "")],
                ["articles", totals.articles],
                ["versions", totals.versions],
                ["fetch errors", totals.fetch_errors],
                [
                    "WARC files",
                    f"{totals.warc_files} closed, {totals.warc_files_open} open, {totals.warc_bytes / 1e6:.2f} MB",
                ],
            ],
        )
    )
    if articles:
        print()
        print(
            table(
                ["outlet", "title", "author", "published", "first seen (UTC)"],
                [
                    [a.outlet, cut(a.title, 60), a.author, a.published or a.listed_published, a.first_seen]
                    for a in articles
                ],
            )
        )
    return 0
