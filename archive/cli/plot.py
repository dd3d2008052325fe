"""``newsarchive plot [STORY] -o FILE``: a coverage timeline (articles per outlet over time, versions marked)."""

from __future__ import annotations

import argparse

from archive.cli.output import CommandError, database, story_named
from archive.config import ArchivePaths
from archive.queries import timeline_data


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot", help="draw a story's coverage timeline to PNG or SVG (all articles without STORY)"
    )
    parser.add_argument("story", nargs="?", help="story name, as synced with `newsarchive stories sync`")
    parser.add_argument("-o", "--output", required=True, help="image file: .png or .svg")
    parser.add_argument("--title", help="figure title (default: the story's title)")
    parser.set_defaults(run=_plot)


def _plot(args: argparse.Namespace, paths: ArchivePaths) -> int:
    from archive.plot import FORMATS, plot_coverage  # matplotlib is loaded only to plot

    if not args.output.lower().endswith(FORMATS):
        raise CommandError(f"name the image *.png or *.svg, not {args.output!r}")
    with database(paths) as session:
        story = story_named(session, args.story)
        lines = timeline_data(session, story)
        title = args.title or (story.title or story.name if story else "All archived articles")
    plot_coverage(lines, args.output, title)
    print(f"{args.output}: {len(lines)} articles, {sum(len(line.changes) for line in lines)} later versions")
    return 0
