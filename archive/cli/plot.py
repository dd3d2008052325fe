"""``newsarchive plot [STORY] -o FILE``: a coverage timeline (articles per outlet over time, versions marked);
``newsarchive plot --query QUERY -o FILE``: attention over time (articles per day per outlet matching a query)."""

from __future__ import annotations

import argparse

from archive.cli.output import CommandError, database, story_named
from archive.config import ArchivePaths
from archive.queries import timeline_data
from archive.search.query import parse_query
from archive.search.results import attention


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot",
        help="draw a story's coverage timeline (all articles without STORY), or with --query articles per day "
        "per outlet, to PNG or SVG",
    )
    parser.add_argument("story", nargs="?", help="story name, as synced with `newsarchive stories sync`")
    parser.add_argument(
        "--query", help="a search query (as `newsarchive search` takes): draw its matches per day per outlet"
    )
    parser.add_argument("--all-versions", action="store_true", help="with --query: count every matching version")
    parser.add_argument(
        "--collapse-reprints", action="store_true", help="with --query: count a story reprinted by several outlets once"
    )
    parser.add_argument("-o", "--output", required=True, help="image file: .png or .svg")
    parser.add_argument("--title", help="figure title (default: the story's title, or the query)")
    parser.set_defaults(run=_plot)


def _plot(args: argparse.Namespace, paths: ArchivePaths) -> int:
    from archive.plot import FORMATS, plot_attention, plot_coverage  # matplotlib is loaded only to plot

    if not args.output.lower().endswith(FORMATS):
        raise CommandError(f"name the image *.png or *.svg, not {args.output!r}")
    if args.query is not None:
        if args.story:
            raise CommandError("give a story or --query, not both")
        query = parse_query(args.query)
        with database(paths) as session:
            counts = attention(session, query, all_versions=args.all_versions, collapse_reprints=args.collapse_reprints)
        plot_attention(counts, args.output, args.title or args.query)
        days = len({day for day, _, _ in counts})
        print(f"{args.output}: {sum(n for _, _, n in counts)} articles on {days} days")
        return 0
    if args.all_versions or args.collapse_reprints:
        raise CommandError("--all-versions and --collapse-reprints go with --query")
    with database(paths) as session:
        story = story_named(session, args.story)
        lines = timeline_data(session, story)
        title = args.title or (story.title or story.name if story else "All archived articles")
    plot_coverage(lines, args.output, title)
    print(f"{args.output}: {len(lines)} articles, {sum(len(line.changes) for line in lines)} later versions")
    return 0
