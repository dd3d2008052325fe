"""``newsarchive``: the command line for what the crawler archived.

Crawls stay ``scrapy crawl news -a seeds=...``; this tool reads and manages
the archive they produce. Each subcommand lives in its own module with a
``register(subparsers)`` function that adds its parser and sets ``run``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from archive.cli import (
    captures,
    coverage,
    diff,
    index,
    jobs,
    plot,
    recover,
    reindex,
    replay,
    schedule,
    seeds,
    serve,
    stories,
    summary,
    versions,
    wacz,
)
from archive.cli.output import CommandError
from archive.config import ArchivePaths
from archive.db.session import SchemaError

COMMANDS = [
    summary,
    reindex,
    stories,
    coverage,
    versions,
    diff,
    captures,
    plot,
    jobs,
    schedule,
    seeds,
    recover,
    index,
    wacz,
    replay,
    serve,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="data directory (default: $NEWSARCHIVE_DATA or ./data)")
    parser.add_argument(
        "--database", help="database URL (default: $NEWSARCHIVE_DATABASE_URL or SQLite in the data directory)"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="newsarchive: %(message)s")
    try:
        return int(args.run(args, ArchivePaths.resolve(data_dir=args.data, database_url=args.database)) or 0)
    except (SchemaError, CommandError) as e:
        print(f"newsarchive: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
