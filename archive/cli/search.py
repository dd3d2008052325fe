"""``newsarchive search QUERY`` and ``newsarchive similar URL``: articles matching a query, attention over time,
and an article's reprints.

The query language is :mod:`archive.search.query`'s (Lucene's, as in Media Cloud).
"""

from __future__ import annotations

import argparse

from archive.cli.output import CommandError, add_output_arguments, database, emit, when
from archive.cli.table import cut
from archive.config import ArchivePaths
from archive.queries import find_article
from archive.reprints import similar
from archive.search.query import parse_query
from archive.search.results import COUNT_BY, SEARCH_COLUMNS, count_by, count_matches, search


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "search", help='articles matching a query (words, "phrases", AND/OR/NOT, title:, outlet:, published:[...])'
    )
    parser.add_argument("query", help="e.g. '\"nuclear deal\" AND (hanoi OR vietnam) published:[2019-02-27 TO *]'")
    parser.add_argument("--all-versions", action="store_true", help="search every version, not only the newest")
    parser.add_argument("--count-by", choices=COUNT_BY, help="count the matches by outlet, day or week instead")
    parser.add_argument(
        "--collapse-reprints", action="store_true", help="count a story reprinted by several outlets once"
    )
    add_output_arguments(parser)
    parser.set_defaults(run=_search)

    parser = subparsers.add_parser("similar", help="an article's near-duplicates (reprints) in other outlets")
    parser.add_argument("url", help="the article's URL, or any address that led to it")
    add_output_arguments(parser)
    parser.set_defaults(run=_similar)


def _search(args: argparse.Namespace, paths: ArchivePaths) -> int:
    query = parse_query(args.query)
    options = {"all_versions": args.all_versions, "collapse_reprints": args.collapse_reprints}
    with database(paths) as session:
        if args.count_by:
            counts = count_by(session, query, args.count_by, **options)
            return emit(
                args,
                ({args.count_by: bucket, "articles": n} for bucket, n in counts),
                [(args.count_by, "str"), ("articles", "int")],
                [(args.count_by, lambda r: r[args.count_by] or "(no outlet)"), ("articles", lambda r: r["articles"])],
            )
        if not args.output:
            total = count_matches(session, query, **options)
            print(f"{total:,} {'versions' if args.all_versions else 'articles'} match")
        limit = None if args.output else args.limit + 1
        return emit(
            args,
            (match.row() for match in search(session, query, limit=limit, **options)),
            SEARCH_COLUMNS,
            [
                ("first seen (UTC)", lambda r: when(r["first_seen"])),
                ("day", lambda r: r["day"]),
                ("outlet", lambda r: cut(r["outlet"], 24)),
                ("headline", lambda r: cut(r["title"], 50)),
                ("snippet", lambda r: cut(" ".join(r["snippet"].split()), 90)),
            ],
        )


def _similar(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with database(paths) as session:
        article = find_article(session, args.url)
        if article is None:
            raise CommandError(f"no archived article at {args.url}")
        found = similar(session.connection(), article.id)
        return emit(
            args,
            (
                {
                    "similarity": round(s.similarity, 3),
                    "original": s.original,
                    "outlet": s.outlet,
                    "first_seen": s.first_seen_at,
                    "url": s.url,
                    "title": s.title,
                }
                for s in found
            ),
            [
                ("similarity", "float"),
                ("original", "bool"),
                ("outlet", "str"),
                ("first_seen", "datetime"),
                ("url", "str"),
                ("title", "str"),
            ],
            [
                ("similarity", lambda r: f"{r['similarity']:.2f}"),
                ("", lambda r: "original" if r["original"] else ""),
                ("outlet", lambda r: cut(r["outlet"], 24)),
                ("first seen (UTC)", lambda r: when(r["first_seen"])),
                ("url", lambda r: r["url"]),
            ],
        )
