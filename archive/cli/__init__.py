"""``newsarchive``: the command line for what the crawler archived.

Crawls stay ``scrapy crawl news -a seeds=...``; this tool reads and manages
the archive they produce. Each subcommand lives in its own module with a
``register(subparsers)`` function that adds its parser and sets ``run``.

A command that cannot do what was asked raises
:class:`~archive.cli.output.CommandError`, or lets the library's own
:class:`~archive.errors.NewsArchiveError` through; :func:`main` prints either
as ``newsarchive: error: ...`` and exits with the error's ``exit_code``, so
no command prints its own errors.

A reader that stops early (``newsarchive summary | head``) closes the pipe:
the command then ends quietly with status 141, as a program killed by
SIGPIPE does in the shell, not with a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from archive.cli import (
    captures,
    coverage,
    diff,
    index,
    jobs,
    plot,
    recheck,
    recover,
    reextract,
    reindex,
    replay,
    schedule,
    search,
    seeds,
    serve,
    stories,
    summary,
    versions,
    wacz,
)
from archive.config import ArchivePaths
from archive.errors import NewsArchiveError

#: Exit status when the reader of the output went away (128 + SIGPIPE, what the shell shows for ``yes | head``).
BROKEN_PIPE = 141

COMMANDS = [
    summary,
    reindex,
    reextract,
    stories,
    coverage,
    versions,
    search,
    diff,
    captures,
    plot,
    recheck,
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
    """Run one command; the exit status.

    An error meant for the user (:class:`~archive.errors.NewsArchiveError`) ends the command with its
    message on stderr, in argparse's form, and its ``exit_code``; a closed output pipe ends it quietly with
    :data:`BROKEN_PIPE`; anything else is a bug and keeps its traceback.
    """
    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="newsarchive: %(message)s")
    try:
        status = int(args.run(args, ArchivePaths.resolve(data_dir=args.data, database_url=args.database)) or 0)
        sys.stdout.flush()  # here, where a closed pipe can still be caught, not at the interpreter's exit
        return status
    except NewsArchiveError as e:
        print(f"newsarchive: error: {e}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:
        # The reader is gone: point stdout at /dev/null so that Python's own flush at exit cannot fail again.
        # (The recipe of the `signal` module's documentation.)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
