"""``newsarchive coverage [STORY]``: which outlets covered a story, when, and how often each article changed."""

from __future__ import annotations

import argparse

from archive.cli.output import add_output_arguments, database, emit, story_named, when
from archive.cli.table import cut
from archive.config import ArchivePaths
from archive.export import columns_of
from archive.queries import coverage_query, stream
from archive.reprints import collapse_reprints


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "coverage", help="a story's articles: outlet, first seen, published, versions (all articles without STORY)"
    )
    parser.add_argument("story", nargs="?", help="story name, as synced with `newsarchive stories sync`")
    parser.add_argument(
        "--collapse-reprints", action="store_true", help="list a story reprinted by several outlets once (its original)"
    )
    add_output_arguments(parser)
    parser.set_defaults(run=_coverage)


def _coverage(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with database(paths) as session:
        story = story_named(session, args.story)
        query = coverage_query(story)
        rows = stream(session, query)
        if args.collapse_reprints:
            kept = collapse_reprints(session.connection(), rows, lambda r: (r["article_id"], r["first_seen"]))
            rows = (row for row, _ in kept)
        return emit(
            args,
            rows,
            columns_of(query),
            [
                ("outlet", lambda r: r["outlet"]),
                ("first seen (UTC)", lambda r: when(r["first_seen"])),
                ("published", lambda r: r["published"] or r["listed_published"]),
                ("versions", lambda r: r["versions"]),
                ("captures", lambda r: r["captures"]),
                ("headline", lambda r: cut(r["headline"], 60)),
                *([("why", lambda r: _why(r["matched_terms"], r["seed"]))] if story else []),
            ],
        )


def _why(terms: list[str] | None, seed: str | None) -> str:
    reasons = [f"terms: {', '.join(terms)}"] if terms else []
    if seed:
        reasons.append(f"seed: {seed}")
    return "; ".join(reasons)
