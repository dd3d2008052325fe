"""``newsarchive``: the command line for what the crawler archived.

Crawls stay ``scrapy crawl news -a seeds=...``; this tool reads and manages
the archive they produce.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from archive.config import ArchivePaths
from archive.db.session import open_database, session_factory
from archive.queries import list_articles, summarize


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsarchive", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="data directory (default: $NEWSARCHIVE_DATA or ./data)")
    parser.add_argument("--database", help="database URL (default: $NEWSARCHIVE_DATABASE_URL or SQLite in the data directory)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    summary = commands.add_parser("summary", help="what is archived: outlets, captures, articles, WARC files")
    summary.add_argument("--limit", type=int, default=20, help="articles to list (default 20, 0 for none)")
    summary.set_defaults(run=_summary)
    args = parser.parse_args(argv)
    return args.run(args, ArchivePaths.resolve(data_dir=args.data, database_url=args.database))


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
                ["outlet", "title", "author", "published", "fetched (UTC)"],
                [[a.outlet, _cut(a.title, 60), a.author, a.published or a.listed_published, a.fetched_at] for a in articles],
            )
        )
    return 0


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def _cut(text: str | None, width: int) -> str | None:
    return text if text is None or len(text) <= width else text[: width - 1] + "…"


if __name__ == "__main__":
    sys.exit(main())
