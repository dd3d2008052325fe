"""``newsarchive seeds``: find outlets' seeds, see what their pages proved to be, and feed and watch a
distributed crawl's shared frontier in Redis.

- ``discover HOMEPAGE...``: a crawl of discovery fetches only (home pages,
  robots.txt, sitemaps, feeds, sections; archived like any crawl's), which
  writes what it found as a seed list to review (``-o FILE``): sitemaps,
  feeds, sections, and the article URL shapes with counts and examples;
- ``why URL``: whether each capture of a URL was counted as an article, by
  which rule, on what evidence (its ``decision/1`` records);
- ``shapes``: the URL shapes each outlet's candidate pages proved to be
  articles' or not, which the next crawl takes first;
- ``push FILE``: validate a seed list, store its outlets and queue its seed
  URLs for the workers (``scrapy crawl news`` with a Redis URL set);
- ``status``: the queue, the URLs seen, and each worker's requests in flight
  and pages per second (``--watch SECONDS`` to follow it);
- ``recheck``: queue the archive's articles that are due for a recheck
  (``--all``: every known article; ``--outlet NAME``), which the workers
  fetch as ``scrapy crawl recheck`` would (``scrapy crawl recheck`` with a
  Redis URL set does the same);
- ``reset``: delete the crawl's keys (queue, dupefilter, outlets), to crawl
  the same seeds again from scratch.

The Redis URL is ``--redis`` or ``$NEWSARCHIVE_REDIS_URL``; the crawl is
named by its key prefix, ``--prefix`` or ``$NEWSARCHIVE_KEY_PREFIX`` (default
``newsarchive``), the workers' ``DISTRIBUTED_KEY_PREFIX``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import redis
from sqlalchemy import select

from archive.cli.output import CommandError
from archive.cli.table import table
from archive.config import DATA_ENV, DATABASE_URL_ENV, ArchivePaths
from archive.db.models import Capture, CaptureDecision, Url
from archive.db.session import open_database, session_factory
from archive.db.shapes import learned_shapes
from archive.frontier import (
    DEFAULT_KEY_PREFIX,
    KEY_PREFIX_ENV,
    REDIS_URL_ENV,
    CrawlStatus,
    FrontierError,
    FrontierKeys,
    crawl_status,
    push_due_rechecks,
    push_seeds,
    reset_crawl,
)
from archive.seeds import SeedError, load_seeds

#: The crawler's settings module, for the discovery crawl.
CRAWLER_SETTINGS = "crawler.settings"


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--redis", help=f"Redis URL of the crawl (default: ${REDIS_URL_ENV})")
    common.add_argument(
        "--prefix", help=f"key prefix naming the crawl (default: ${KEY_PREFIX_ENV} or {DEFAULT_KEY_PREFIX})"
    )
    parser = subparsers.add_parser("seeds", help="push seeds to a distributed crawl and watch its progress")
    commands = parser.add_subparsers(dest="seeds_command", required=True, metavar="ACTION")

    push = commands.add_parser("push", parents=[common], help="queue a seed list's outlets for the workers")
    push.add_argument("file", help="seed list (TOML)")
    push.add_argument("--reset", action="store_true", help="delete the crawl's queue and dupefilter first")
    push.add_argument("--force", action="store_true", help="even while workers run")
    push.set_defaults(run=_push)

    status = commands.add_parser("status", parents=[common], help="queue length, workers and pages per second")
    status.add_argument("--watch", type=float, metavar="SECONDS", help="print again every SECONDS until Ctrl-C")
    status.set_defaults(run=_status)

    recheck = commands.add_parser("recheck", parents=[common], help="queue the articles due for a recheck")
    recheck.add_argument("--all", action="store_true", help="every known article once, due or not")
    recheck.add_argument("--outlet", metavar="NAME", help="one outlet's articles")
    recheck.set_defaults(run=_recheck)

    discover = commands.add_parser("discover", help="discover outlets from their home pages; write a seed list")
    discover.add_argument("homepages", nargs="+", metavar="HOMEPAGE", help="an outlet's home page URL")
    discover.add_argument("-o", "--output", required=True, help="the seed list to write (TOML)")
    discover.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="a Scrapy setting for the crawl"
    )
    discover.set_defaults(run=_discover)

    why = commands.add_parser("why", help="why each capture of a URL was or was not counted as an article")
    why.add_argument("url")
    why.set_defaults(run=_why)

    shapes = commands.add_parser("shapes", help="URL shapes each outlet's pages proved to be articles' or not")
    shapes.add_argument("--outlet", metavar="NAME", help="one outlet's")
    shapes.set_defaults(run=_shapes)

    reset = commands.add_parser("reset", parents=[common], help="delete every key of the crawl")
    reset.add_argument("--force", action="store_true", help="even while workers run (their work is lost)")
    reset.set_defaults(run=_reset)


def _connect(args: argparse.Namespace) -> tuple[redis.Redis, FrontierKeys]:
    url = args.redis or os.environ.get(REDIS_URL_ENV)
    if not url:
        raise FrontierError(f"no Redis URL: pass --redis or set ${REDIS_URL_ENV}")
    keys = FrontierKeys.resolve(args.prefix)
    client = redis.Redis.from_url(url)
    client.ping()
    return client, keys


@contextmanager
def _command_errors() -> Iterator[None]:
    """A bad key prefix and Redis failures as command errors (a FrontierError goes to ``main`` as it is)."""
    try:
        yield
    except ValueError as e:  # a bad key prefix (a SeedError is a ValueError too)
        raise CommandError(str(e)) from e
    except redis.RedisError as e:
        raise CommandError(f"Redis: {e}") from e


def _push(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with _command_errors():
        seed_list = load_seeds(args.file)
        client, keys = _connect(args)
        if args.reset:
            reset_crawl(client, keys, force=args.force)
        queued = push_seeds(client, keys, seed_list, force=args.force)
    print(f"crawl {keys.prefix!r}: {len(seed_list.outlets)} outlets, {queued} seed URLs queued from {args.file}")
    return 0


def _recheck(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with _command_errors():
        client, keys = _connect(args)
        queued, due = push_due_rechecks(client, keys, paths.database_url, args.outlet, args.all)
    print(f"crawl {keys.prefix!r}: {queued} of {due} articles due queued for a recheck")
    return 0


def _reset(args: argparse.Namespace, paths: ArchivePaths) -> int:
    with _command_errors():
        client, keys = _connect(args)
        deleted = reset_crawl(client, keys, force=args.force)
    print(f"crawl {keys.prefix!r}: {deleted} keys deleted")
    return 0


def _discover(args: argparse.Namespace, paths: ArchivePaths) -> int:
    """Run ``scrapy crawl news`` in discovery mode on a seed list of the home pages, in its own process."""
    output = os.path.abspath(args.output)
    with tempfile.TemporaryDirectory(prefix="newsarchive-discover-") as folder:
        seeds = os.path.join(folder, "homepages.txt")
        with open(seeds, "w", encoding="utf-8") as f:
            f.write("\n".join(args.homepages) + "\n")
        try:
            load_seeds(seeds)
        except SeedError as e:
            raise CommandError(str(e).replace(seeds, "the home pages")) from None
        command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}", "-a", f"discover={output}"]
        for setting in args.set:
            command += ["-s", setting]
        env = {**os.environ, DATA_ENV: str(paths.data_dir), DATABASE_URL_ENV: paths.database_url}
        env.setdefault("SCRAPY_SETTINGS_MODULE", CRAWLER_SETTINGS)
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL)
    if done.returncode != 0 or not os.path.exists(output):
        raise CommandError(f"the discovery crawl failed (exit status {done.returncode}); see its log above")
    found = load_seeds(output)
    print(f"{len(found.outlets)} outlets discovered, written to {args.output}")
    return 0


def _why(args: argparse.Namespace, paths: ArchivePaths) -> int:
    engine = open_database(paths.database_url)
    try:
        with session_factory(engine)() as session:
            rows = session.execute(
                select(Capture.fetched_at, Capture.status, CaptureDecision)
                .join(CaptureDecision, CaptureDecision.capture_id == Capture.id)
                .join(Url, Url.id == Capture.url_id)
                .where(Url.url == args.url)
                .order_by(Capture.fetched_at, Capture.id)
            ).all()
    finally:
        engine.dispose()
    if not rows:
        raise CommandError(
            f"no decision on {args.url}: never fetched as an article candidate of an outlet without patterns"
        )
    for fetched_at, status, decision in rows:
        verdict = "counted as an article" if decision.is_article else "not counted as an article"
        print(f"{fetched_at:%Y-%m-%d %H:%M:%S} {status}: {verdict}: {decision.rule}")
        url = decision.evidence.get("url") or {}
        print(f"  URL: {url.get('kind', '?')} (score {url.get('score', '?')}): {'; '.join(url.get('reasons', []))}")
        print(f"  page: {'; '.join(decision.reasons)}")
    return 0


def _shapes(args: argparse.Namespace, paths: ArchivePaths) -> int:
    engine = open_database(paths.database_url)
    try:
        with engine.connect() as connection:
            found = learned_shapes(connection, [args.outlet] if args.outlet else None)
    finally:
        engine.dispose()
    if not found:
        raise CommandError("no decisions yet" + (f" on outlet {args.outlet!r}" if args.outlet else ""))
    rows = [
        [name, shape.shape, shape.articles, shape.not_articles, "yes" if shape.proven else "no", shape.examples[0]]
        for name, shapes in sorted(found.items())
        for shape in shapes
    ]
    print(table(["outlet", "shape", "articles", "not articles", "taken first", "example"], rows))
    return 0


def _status(args: argparse.Namespace, paths: ArchivePaths) -> int:
    try:
        with _command_errors():
            client, keys = _connect(args)
            while True:
                print(describe(crawl_status(client, keys)), flush=True)
                if not args.watch:
                    return 0
                time.sleep(args.watch)
                print()
    except KeyboardInterrupt:
        return 0


def describe(status: CrawlStatus) -> str:
    """The status as ``newsarchive seeds status`` prints it."""
    seen = f"~{status.seen} (Bloom filter estimate)" if status.seen_estimated else str(status.seen)
    lines = [
        f"crawl {status.prefix!r} at {datetime.now().strftime('%H:%M:%S')}"
        + (f" (seeds: {status.seeds_file})" if status.seeds_file else " (no seeds pushed)"),
        table(
            ["what", "count"],
            [
                ["queued requests", status.queued],
                ["seeds not yet read", status.seeds_pending],
                ["URLs seen", seen],
                ["in flight", status.in_flight],
                ["requeued from dead workers", status.requeued],
                ["pages per second", f"{status.pages_per_second:.1f}"],
            ],
        ),
    ]
    if status.workers:
        lines += [
            "",
            table(
                ["worker", "started", "alive", "in flight", "pages", "pages/s"],
                [
                    [
                        w.worker,
                        w.started,
                        "yes" if w.alive else "no (to be recovered)",
                        w.in_flight,
                        w.pages,
                        f"{w.pages_per_second:.1f}",
                    ]
                    for w in status.workers
                ],
            ),
        ]
    return "\n".join(lines)
