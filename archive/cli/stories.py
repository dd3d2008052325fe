"""``newsarchive stories``: define stories from TOML files and see which articles belong to them."""

from __future__ import annotations

import argparse

from archive.cli.output import database
from archive.cli.table import table
from archive.config import ArchivePaths
from archive.queries import list_stories
from archive.stories import load_story, sync_story


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("stories", help="sync story definitions (stories/*.toml) and list stories")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sync = actions.add_parser("sync", help="store story files and recompute which articles belong to each")
    sync.add_argument("files", nargs="+", metavar="FILE", help="story TOML files")
    sync.set_defaults(run=_sync)
    listing = actions.add_parser("list", help="the stories in the database, with their number of articles")
    listing.set_defaults(run=_list)


def _sync(args: argparse.Namespace, paths: ArchivePaths) -> int:
    definitions = [load_story(path) for path in args.files]
    with database(paths) as session, session.begin():
        results = [sync_story(session, definition) for definition in definitions]
    for result in results:
        print(
            f"{result.story}: {result.members} articles ({result.by_terms} by terms, {result.by_query} by query, "
            f"{result.by_seeds} by seeds; "
            f"{result.added} added, {result.removed} removed)"
        )
        for seed in result.unresolved_seeds:
            print(f"  seed not found as an article or a listing feed: {seed}")
    return 0


def _list(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with database(paths) as session:
        rows = list_stories(session)
    if not rows:
        print("no stories: define one in a TOML file and run `newsarchive stories sync FILE`")
        return 0
    print(
        table(
            ["story", "title", "articles", "synced (UTC)"],
            [[s.name, s.title, s.articles, s.synced_at.strftime("%Y-%m-%d %H:%M")] for s in rows],
        )
    )
    return 0
