"""``newsarchive diff URL [FROM [TO]]``: what changed between two versions of an article, word by word."""

from __future__ import annotations

import argparse
import json
import sys

from archive.cli.output import CommandError, database, when
from archive.config import ArchivePaths
from archive.diff import diff_versions, render
from archive.queries import find_article


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff", help="word-level changes between two versions of an article (default: the last change)"
    )
    parser.add_argument("url", help="the article's URL, or any address that led to it")
    parser.add_argument("old", nargs="?", type=int, help="version to compare from (default: the one before NEW)")
    parser.add_argument("new", nargs="?", type=int, help="version number to compare to (default: the latest)")
    parser.add_argument("--json", action="store_true", help="print the diff as JSON")
    parser.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    parser.add_argument("--context", type=int, default=12, help="unchanged words shown around each change")
    parser.set_defaults(run=_diff)


def _diff(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with database(paths) as session:
        article = find_article(session, args.url)
        if article is None:
            raise CommandError(f"no archived article at {args.url}")
        versions = article.versions
        new = args.new or len(versions)
        old = args.old or new - 1
        if len(versions) < 2:
            print(f"{article.url.url} has one version only: nothing to compare")
            return 0
        for number in (old, new):
            if not 1 <= number <= len(versions):
                raise CommandError(f"{article.url.url} has versions 1 to {len(versions)}, not {number}")
        diff = diff_versions(versions[old - 1], versions[new - 1], old, new)
        url = article.url.url
    if args.json:
        print(json.dumps({"url": url, **diff.to_dict()}, ensure_ascii=False, indent=2))
        return 0
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty())
    print(url)
    print(
        f"version {old} (first seen {when(diff.old_seen)}) -> version {new} (first seen {when(diff.new_seen)}): "
        f"{diff.text.added} words added, {diff.text.removed} removed"
    )
    if not diff.headline.unchanged:
        print(f"headline: {render(diff.headline, color, context=100)}")
    for name, (before, after) in diff.metadata.items():
        print(f"{name}: {before!r} -> {after!r}")
    print()
    print(render(diff.text, color, args.context) if not diff.text.unchanged else "(text unchanged)")
    return 0
