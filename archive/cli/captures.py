"""``newsarchive captures [URL]``: every fetch of a URL and of the addresses that lead to the same place."""

from __future__ import annotations

import argparse

from archive.cli.output import CommandError, add_output_arguments, database, emit, when
from archive.config import ArchivePaths
from archive.export import columns_of
from archive.queries import alias_ids, captures_query, find_url, stream


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "captures", help="captures of a URL and its aliases: time, status, revisit, version shown (all without URL)"
    )
    parser.add_argument("url", nargs="?", help="a URL as captured, listed, or as an article's story URL")
    parser.add_argument(
        "--exact", action="store_true", help="only this URL, not the addresses leading to the same place"
    )
    add_output_arguments(parser)
    parser.set_defaults(run=_captures)


def _captures(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with database(paths) as session:
        ids = None
        if args.url:
            url = find_url(session, args.url)
            if url is None:
                raise CommandError(f"{args.url} is not in the archive")
            ids = [url.id] if args.exact else alias_ids(session, url)
        query = captures_query(ids)
        return emit(
            args,
            stream(session, query),
            columns_of(query),
            [
                ("fetched (UTC)", lambda r: when(r["fetched_at"])),
                ("status", lambda r: r["status"]),
                ("revisit", lambda r: "revisit" if r["is_revisit"] else ""),
                ("version", lambda r: r["version"]),
                ("url", lambda r: r["url"] + (f" -> {r['redirect_url']}" if r["redirect_url"] else "")),
                ("WARC", lambda r: f"{r['warc_filename']}@{r['warc_offset']}"),
            ],
        )
