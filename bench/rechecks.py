"""Rechecks (issue 14): what a recheck pass costs beside the first crawl, and the due-article query at scale.

Crawls, each run one after the other on the synthetic web (``bench/synthweb.py``),
whose article pages carry a strong ETag and Last-Modified:

- **first crawl**: ``scrapy crawl news`` of the articles from the generated seed
  list (sitemaps, feed, front page): crawl, WARC, extraction and database.
- **recheck, 304**: ``scrapy crawl recheck -a due=all`` on a copy of the first
  crawl's archive: every article is asked for with If-None-Match /
  If-Modified-Since and answers ``304 Not Modified`` (a server-not-modified revisit).
- **recheck, unchanged 200**: the same against a second server started with
  ``--ignore-conditionals``: every article answers 200 with the body archived
  before (an identical-payload-digest revisit, not extracted).
- **bare Scrapy**: ``bench/barespider.py`` fetching the same article URLs (whole
  pages, 200) and storing nothing.
- **start-up**: a recheck crawl with nothing due, and bare Scrapy with no URLs:
  what starting and stopping each costs, so that pages/s once started can be
  told apart from it.

CPU is the crawl process tree's (user + system, archiver and extraction
processes included); pages/s is HTTP responses over wall time, start-up included.

The due-article query (:func:`archive.db.schedule.due_batch`) is timed on
databases made by the migrations and filled by bulk inserts with ``N``
scheduled articles (outlets, URLs, articles, captures, ``recheck_schedule``),
on SQLite and on PostgreSQL (a schema of its own, dropped afterwards): the
first batch of due articles, a batch half way through them (by keyset), and
the first batch of ``due=all``; and :func:`archive.queries.checks.recheck_status`
at the same sizes. Each size is built and timed in a process of its own.

    python -m bench --only rechecks [--size full]    # in the suite's table (full: 5,000 articles)
    python -m bench.rechecks                          # 5,000 articles, 3 runs; 1e4, 1e5, 1e6 scheduled
    python -m bench.rechecks --quick                  # 500 articles, 1 run; 1e3, 1e4 scheduled
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.crawls import (
    REPO,
    SCRAPY_SETTINGS,
    CrawlResult,
    WebServer,
    _scrapy_args,
    _scrapy_stats,
    crawl_bare,
    crawl_ours,
    serving,
)
from bench.measure import median, run_measured
from bench.synthweb import SynthWeb

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bench.run import Suite

#: The recheck CPU targets of issue 14 (recheck CPU / first crawl CPU) and the due query's flatness.
TARGET_304_CPU = 0.25
TARGET_200_CPU = 0.4
TARGET_FLAT = 2.0
#: The moment the due queries are asked at; scheduled rows are spread around it.
NOW = datetime(2019, 3, 1, 12, 0)
OUTLETS = 10
BATCH = 20_000  # rows per bulk insert
POSTGRES_URL = os.environ.get("NEWSARCHIVE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# -- the crawls ---------------------------------------------------------------------------------
def copy_archive(source: Path, target: Path) -> None:
    """A copy of a crawl's archive to recheck: the closed WARCs (never written again) linked, the rest copied."""

    def link_or_copy(src: str, dst: str) -> None:
        if src.endswith(".warc.gz"):
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link_or_copy)


def crawl_recheck(
    server: WebServer, archive: Path, workdir: Path, tool: str, due: str = "all"
) -> tuple[CrawlResult, dict[str, Any]]:
    """``scrapy crawl recheck -a due=DUE`` on a copy of ``archive`` (a crawl's data folder)."""
    workdir.mkdir(parents=True)
    copy_archive(archive, workdir / "data")
    stats_file = workdir / "stats.json"
    settings = {**SCRAPY_SETTINGS, "ARCHIVE_DATA_DIR": str(workdir / "data"), "STATS_FILE": str(stats_file)}
    command = [sys.executable, "-m", "scrapy", "crawl", "recheck", "-a", f"due={due}", *_scrapy_args(settings)]
    cpu_before = server.cpu_seconds()
    measured = run_measured(command, cwd=REPO, env=server.env(), log_dir=workdir).check()
    server_cpu = server.cpu_seconds() - cpu_before
    stats = _scrapy_stats(stats_file)
    result = CrawlResult(
        tool=tool,
        measured=measured,
        pages=int(stats.get("downloader/response_count", 0)),
        bytes=int(stats.get("downloader/response_bytes", 0)),
        server_cpu=server_cpu,
    )
    return result, stats


def crawl_bare_articles(server: WebServer, workdir: Path, fetch: bool = True) -> CrawlResult:
    """Stock Scrapy fetching every article URL (or, without ``fetch``, none: its start-up and shutdown)."""
    return crawl_bare(server, workdir, server.web.article_urls() if fetch else [])


@dataclass
class RecheckRun:
    """One run's four crawls, and what the two recheck passes were answered."""

    first: CrawlResult
    not_modified: CrawlResult
    unchanged: CrawlResult
    bare: CrawlResult
    #: A recheck crawl with nothing due, and bare Scrapy with no URLs: what starting and stopping cost.
    idle: CrawlResult
    bare_idle: CrawlResult
    answered_304: int  # responses with status 304 in the 304 pass
    unchanged_200: int  # 200s found byte-identical (not extracted) in the unchanged pass
    extracted_again: int  # articles extracted in either recheck pass (should be none)


def recheck_runs(suite: Suite, web: SynthWeb) -> list[RecheckRun]:
    runs = []
    with (
        serving(web, suite.workdir / "rechecks-server") as honours,
        serving(web, suite.workdir / "rechecks-server-ignoring", "--ignore-conditionals") as ignores,
    ):
        suite.log(f"rechecks: {web.outlets} outlets x {web.articles} articles at {honours.url} and {ignores.url}")
        for run in range(suite.runs):
            first_dir = suite.scratch(f"rechecks-{run}-first")
            first = crawl_ours(honours, first_dir, archive_only=False)
            not_modified, stats_304 = crawl_recheck(
                honours, first_dir / "data", suite.scratch(f"rechecks-{run}-304"), "recheck (304)"
            )
            unchanged, stats_200 = crawl_recheck(
                ignores, first_dir / "data", suite.scratch(f"rechecks-{run}-200"), "recheck (unchanged 200)"
            )
            bare = crawl_bare_articles(honours, suite.scratch(f"rechecks-{run}-bare"))
            # minutes after the first crawl nothing is due yet (the default policy's first step is 15 minutes)
            idle, _ = crawl_recheck(
                honours, first_dir / "data", suite.scratch(f"rechecks-{run}-idle"), "recheck (nothing due)", "due"
            )
            bare_idle = crawl_bare_articles(honours, suite.scratch(f"rechecks-{run}-bare-idle"), fetch=False)
            if idle.pages or bare_idle.pages:
                raise RuntimeError(f"the start-up sides fetched pages ({idle.pages}, {bare_idle.pages})")
            for name in ("first", "304", "200", "bare", "idle", "bare-idle"):
                suite.done_with(suite.workdir / f"rechecks-{run}-{name}")
            result = RecheckRun(
                first,
                not_modified,
                unchanged,
                bare,
                idle,
                bare_idle,
                answered_304=int(stats_304.get("downloader/response_status_count/304", 0)),
                unchanged_200=int(stats_200.get("recheck/unchanged", 0)),
                extracted_again=int(stats_304.get("extraction/articles", 0))
                + int(stats_200.get("extraction/articles", 0)),
            )
            suite.log(
                f"run {run + 1}/{suite.runs} rechecks: "
                + ", ".join(
                    f"{r.tool} {r.pages} pages in {r.measured.seconds:.1f} s, CPU {r.measured.cpu_seconds:.1f} s"
                    for r in (first, not_modified, unchanged, bare, idle, bare_idle)
                )
                + f"; {result.answered_304} answered 304, {result.unchanged_200} unchanged 200s"
            )
            runs.append(result)
    return runs


def recheck_rows(suite: Suite, runs: list[RecheckRun], articles: int) -> None:
    from bench.run import Row

    def rss(pick: Any, base: Any) -> str:
        return " / ".join(f"{median([side(r).measured.peak_rss for r in runs]) / 1e6:.0f}" for side in (pick, base))

    for label, pick, target in (
        ("all answer 304", lambda r: r.not_modified, TARGET_304_CPU),
        ("unchanged 200s, not extracted", lambda r: r.unchanged, TARGET_200_CPU),
    ):
        value = median([pick(r).measured.cpu_seconds / r.first.measured.cpu_seconds for r in runs])
        suite.add(
            Row(
                f"recheck of {articles} articles, {label}: CPU vs first crawl",
                f"{median([pick(r).measured.cpu_seconds for r in runs]):.1f} s CPU",
                f"{median([r.first.measured.cpu_seconds for r in runs]):.1f} s CPU",
                value,
                f"<= {target:g}",
                value <= target,
                rss(pick, lambda r: r.first),
            )
        )
    for label, pick, target in (
        ("all answer 304", lambda r: r.not_modified, 1.0),
        ("unchanged 200s", lambda r: r.unchanged, None),
    ):
        value = median([pick(r).pages_per_s / r.bare.pages_per_s for r in runs])
        suite.add(
            Row(
                f"recheck of {articles} articles, {label}: pages/s vs bare Scrapy (whole pages, nothing stored)",
                f"{median([pick(r).pages_per_s for r in runs]):.0f} p/s",
                f"{median([r.bare.pages_per_s for r in runs]):.0f} p/s",
                value,
                f">= {target:g}" if target else "",
                value >= target if target else None,
                rss(pick, lambda r: r.bare),
            )
        )
    suite.add(
        Row(
            "start-up and shutdown, nothing to fetch: recheck crawl vs bare Scrapy (wall s, CPU s)",
            f"{median([r.idle.measured.seconds for r in runs]):.1f} s, "
            f"{median([r.idle.measured.cpu_seconds for r in runs]):.1f} s CPU",
            f"{median([r.bare_idle.measured.seconds for r in runs]):.1f} s, "
            f"{median([r.bare_idle.measured.cpu_seconds for r in runs]):.1f} s CPU",
            rss=rss(lambda r: r.idle, lambda r: r.bare_idle),
        )
    )

    def steady(r: RecheckRun) -> tuple[float, float]:
        """Pages/s of the 304 pass and of bare Scrapy once started (their idle runs' seconds taken off)."""
        ours = r.not_modified.pages / max(r.not_modified.measured.seconds - r.idle.measured.seconds, 1e-3)
        return ours, r.bare.pages / max(r.bare.measured.seconds - r.bare_idle.measured.seconds, 1e-3)

    suite.add(
        Row(
            f"recheck of {articles} articles, all answer 304: pages/s once started vs bare Scrapy's",
            f"{median([steady(r)[0] for r in runs]):.0f} p/s",
            f"{median([steady(r)[1] for r in runs]):.0f} p/s",
            median([steady(r)[0] / steady(r)[1] for r in runs]),
        )
    )
    suite.add(
        Row(
            "recheck passes answered as asked (304s; unchanged 200s; none extracted again)",
            f"{min(r.answered_304 for r in runs)}; {min(r.unchanged_200 for r in runs)}; "
            f"{max(r.extracted_again for r in runs)}",
            f"{articles}; {articles}; 0",
            target="all",
            met=all(r.answered_304 == articles and r.unchanged_200 == articles and not r.extracted_again for r in runs),
        )
    )

    def cores(pick: Any) -> str:
        return f"{median([pick(r).measured.cpu_seconds / pick(r).measured.seconds for r in runs]):.2f}"

    suite.notes.append(
        "rechecks, cores used (CPU s / wall s): first crawl "
        f"{cores(lambda r: r.first)}, recheck 304 {cores(lambda r: r.not_modified)}, "
        f"recheck 200 {cores(lambda r: r.unchanged)}, bare Scrapy {cores(lambda r: r.bare)}; "
        "of the recheck 304 pass, the crawler process "
        f"{median([r.not_modified.measured.own_cpu_seconds for r in runs]):.1f} s of "
        f"{median([r.not_modified.measured.cpu_seconds for r in runs]):.1f} s CPU"
    )
    suite.results["rechecks"] = [
        {
            name: {
                "pages": c.pages,
                "seconds": c.measured.seconds,
                "cpu_seconds": c.measured.cpu_seconds,
                "own_cpu_seconds": c.measured.own_cpu_seconds,
                "peak_rss": c.measured.peak_rss,
                "server_cpu": c.server_cpu,
            }
            for name, c in (
                ("first", r.first),
                ("recheck_304", r.not_modified),
                ("recheck_200", r.unchanged),
                ("bare", r.bare),
                ("recheck_idle", r.idle),
                ("bare_idle", r.bare_idle),
            )
        }
        for r in runs
    ]


# -- the due-article query ------------------------------------------------------------------------
def _url(a: int) -> str:
    return f"http://www.outlet{a % OUTLETS}.example/news/2019/{a // 1000:04d}/story-{a}.html"


def fill_schedule(engine: Engine, scheduled: int, seed: int = 14) -> float:
    """A fresh database (made by the migrations) filled with ``scheduled`` articles, bulk-inserted;
    the seconds taken.

    Each article has a first capture (200, with validators) when it was first seen, in the month
    before :data:`NOW`; every other one a later recheck (a 304 revisit of it, counted in
    ``recheck_counts``). 80 % are watched,
    their next check spread over the day before to two days after NOW (so a quarter of all are due),
    15 % settled and 5 % gone (no next check).
    """
    from sqlalchemy import insert

    from archive.db.maintenance import refresh_statistics
    from archive.db.models import Article, Capture, Outlet, RecheckCount, RecheckSchedule, Url
    from archive.db.session import session_factory
    from archive.warc.records import SERVER_NOT_MODIFIED

    rng = random.Random(seed)
    month = 30 * 86400
    hourly: Counter[tuple[int, datetime]] = Counter()  # checks per outlet and hour, as the ingester counts them
    began = time.perf_counter()
    with session_factory(engine).begin() as session:
        session.execute(insert(Outlet), [{"id": o + 1, "name": f"outlet {o}", "domains": []} for o in range(OUTLETS)])
        for start in range(0, scheduled, BATCH):
            urls, articles, captures, schedule = [], [], [], []
            for a in range(start, min(scheduled, start + BATCH)):
                seen = NOW - timedelta(seconds=rng.randrange(month))
                checked = seen + timedelta(seconds=rng.randrange(max(1, int((NOW - seen).total_seconds()))))
                etag, modified = f'"v{a}"', seen.strftime("%a, %d %b %Y %H:%M:%S GMT")
                first_url = _url(a)
                urls.append({"id": a + 1, "url": first_url, "host": f"www.outlet{a % OUTLETS}.example"})
                urls[-1]["outlet_id"] = a % OUTLETS + 1
                articles.append({"id": a + 1, "url_id": a + 1, "outlet_id": a % OUTLETS + 1, "first_seen_at": seen})
                first = {
                    "id": 2 * a + 1,
                    "is_revisit": False,
                    "revisit_profile": None,
                    "refers_to_record_id": None,
                    "original_id": None,
                    "url_id": a + 1,
                    "fetched_at": seen,
                    "status": 200,
                    "content_type": "text/html; charset=utf-8",
                    "payload_digest": f"sha1:{a:032X}",
                    "record_id": f"<urn:uuid:{a:08d}-0000-4000-8000-000000000001>",
                    "warc_filename": f"newsarchive-{a // 40_000:05d}.warc.gz",
                    "warc_offset": a * 30_000,
                    "warc_length": 30_000,
                    "etag": etag,
                    "last_modified": modified,
                }
                captures.append(first)
                last_id = first["id"]
                if a % 2:
                    last_id = 2 * a + 2
                    hourly[a % OUTLETS + 1, checked.replace(minute=0, second=0)] += 1
                    captures.append(
                        {
                            **first,
                            "id": last_id,
                            "fetched_at": checked,
                            "status": 304,
                            "is_revisit": True,
                            "revisit_profile": SERVER_NOT_MODIFIED,
                            "refers_to_record_id": first["record_id"],
                            "original_id": first["id"],
                            "record_id": f"<urn:uuid:{a:08d}-0000-4000-8000-000000000002>",
                            "warc_offset": a * 30_000 + 1,
                            "warc_length": 800,
                        }
                    )
                draw = rng.random()
                state = "watching" if draw < 0.8 else ("settled" if draw < 0.95 else "gone")
                due = NOW - timedelta(days=1) + timedelta(seconds=rng.randrange(3 * 86400))
                schedule.append(
                    {
                        "article_id": a + 1,
                        "outlet_id": a % OUTLETS + 1,
                        "state": state,
                        "next_check_at": due if state == "watching" else None,
                        "last_checked_at": checked if a % 2 else seen,
                        "last_changed_at": seen,
                        "last_capture_id": last_id,
                        "body_capture_id": first["id"],
                        "etag": etag,
                        "last_modified": modified,
                        "url": first_url,
                        "body_record_id": first["record_id"],
                        "body_fetched_at": seen,
                        "body_digest": first["payload_digest"],
                    }
                )
            # the first captures before the revisits that point at them
            for model, rows in (
                (Url, urls),
                (Article, articles),
                (Capture, [c for c in captures if c["status"] == 200]),
                (Capture, [c for c in captures if c["status"] == 304]),
                (RecheckSchedule, schedule),
            ):
                _bulk_insert(session.connection(), model.__table__, rows)
        counts = [{"outlet_id": o, "hour": h, "checks": n} for (o, h), n in sorted(hourly.items())]
        _bulk_insert(session.connection(), RecheckCount.__table__, counts)
        refresh_statistics(session)  # as `newsarchive reindex` leaves a database
    return time.perf_counter() - began


def _bulk_insert(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Rows with the same keys into a table: COPY on PostgreSQL (psycopg), one executemany elsewhere."""
    from sqlalchemy import insert

    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def _timed(call: Any, repeats: int) -> float:
    """Median milliseconds of ``call()`` after two untimed warm-up calls."""
    call()
    call()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def time_due_queries(engine: Engine, repeats: int) -> dict[str, Any]:
    """Median ms of the due-article queries and of recheck_status on a filled database."""
    from sqlalchemy import func, select

    from archive.db.models import RecheckSchedule
    from archive.db.schedule import DUE_BATCH, WATCHING, DueCheck, due_batch
    from archive.db.session import session_factory
    from archive.queries.checks import recheck_status

    result: dict[str, Any] = {}
    with engine.connect() as connection:
        schedule = RecheckSchedule.__table__.c
        due_count = connection.execute(select(func.count()).where(schedule.next_check_at <= NOW)).scalar_one()
        middle = connection.execute(
            select(schedule.article_id, schedule.next_check_at)
            .where(schedule.next_check_at <= NOW)
            .order_by(schedule.next_check_at, schedule.article_id)
            .offset(due_count // 2)
            .limit(1)
        ).one()
        after = DueCheck(middle.article_id, "", None, WATCHING, middle.next_check_at, None, None, None)
        first = due_batch(connection, NOW)
        later = due_batch(connection, NOW, after=after)
        everything = due_batch(connection, NOW, everything=True)
        if not (len(first) == len(later) == len(everything) == DUE_BATCH):
            raise RuntimeError(f"the due queries did not return full batches of {DUE_BATCH} ({due_count} due)")
        result["due"] = due_count
        result["due_first_ms"] = _timed(lambda: due_batch(connection, NOW), repeats)
        result["due_later_ms"] = _timed(lambda: due_batch(connection, NOW, after=after), repeats)
        result["all_first_ms"] = _timed(lambda: due_batch(connection, NOW, everything=True), repeats)
    with session_factory(engine)() as session:
        status = recheck_status(session, NOW)
        result["status_checks_last_day"] = status.total.checks_last_day
        result["status_ms"] = _timed(lambda: recheck_status(session, NOW), max(3, repeats // 20))
    return result


@contextmanager
def database_url(backend: str, folder: Path) -> Iterator[str]:
    """A fresh empty database on ``backend``: an SQLite file, or a PostgreSQL schema dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'archive.db'}"
        return
    from sqlalchemy import create_engine, text

    schema = f"bench_rechecks_{os.getpid()}_{random.randrange(16**8):08x}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def postgres_unreachable() -> str | None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as e:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable ({str(e.orig).strip().splitlines()[0]})"
    finally:
        engine.dispose()
    return None


def due_stage(backend: str, scheduled: int, repeats: int) -> dict[str, Any]:
    """One backend and size, in this process: build, then time."""
    from archive.db.session import open_database

    with tempfile.TemporaryDirectory(prefix="bench-rechecks-") as folder, database_url(backend, Path(folder)) as url:
        engine = open_database(url)  # opened once: built and timed with the same schema
        try:
            build_seconds = fill_schedule(engine, scheduled)
            result = time_due_queries(engine, repeats)
        finally:
            engine.dispose()
        if backend == "sqlite":
            result["database_mb"] = (Path(folder) / "archive.db").stat().st_size / 1e6
    return {"backend": backend, "scheduled": scheduled, "build_seconds": build_seconds, **result}


def due_rows(suite: Suite, sizes: Sequence[int], backends: Sequence[str], repeats: int) -> None:
    from bench.run import Row

    for backend in backends:
        if backend == "postgresql" and (reason := postgres_unreachable()):
            suite.notes.append(f"due-article query on PostgreSQL skipped: {reason}")
            continue
        results = {}
        for size in sizes:
            directory = suite.scratch(f"rechecks-due-{backend}-{size}")
            command = [sys.executable, "-m", "bench.rechecks", "--stage", backend, str(size), str(repeats)]
            measured = run_measured(command, cwd=REPO, log_dir=directory).check()
            results[size] = json.loads(measured.stdout.strip().splitlines()[-1])
            suite.done_with(directory)
            r = results[size]
            suite.log(
                f"due query, {backend}, {size} scheduled ({r['due']} due): built in {r['build_seconds']:.1f} s; "
                f"first {r['due_first_ms']:.2f} ms, later {r['due_later_ms']:.2f} ms, "
                f"due=all {r['all_first_ms']:.2f} ms, recheck_status {r['status_ms']:.1f} ms"
            )
        suite.results[f"rechecks due {backend}"] = results
        small, large = min(sizes), max(sizes)
        name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]
        for key, label, target in (
            ("due_first_ms", "due-article query, first batch of 1000", True),
            ("due_later_ms", "due-article query, a later batch (keyset, half way)", True),
            ("all_first_ms", "due=all query, first batch of 1000", True),
            ("status_ms", "recheck_status (all outlets)", False),
        ):
            value = results[large][key] / results[small][key]
            suite.add(
                Row(
                    f"{label}, {name}: {_exp(large)} vs {_exp(small)} scheduled",
                    " / ".join(f"{results[s][key]:.1f} ms" for s in sorted(sizes, reverse=True)),
                    f"{results[small][key]:.1f} ms",
                    value,
                    f"<= {TARGET_FLAT:g}" if target else "",
                    value <= TARGET_FLAT if target else None,
                )
            )
        suite.notes.append(
            f"due query, {name}: "
            + ", ".join(
                f"{_exp(s)} scheduled ({results[s]['due']} due) built in {results[s]['build_seconds']:.0f} s"
                for s in sizes
            )
            + "; ours lists the largest size first"
        )


def _exp(n: int) -> str:
    return f"{n:.0e}".replace("e+0", "e")


# -- the suite's group and the command line ---------------------------------------------------------
def run(suite: Suite, articles: int, outlets: int, scheduled: Sequence[int], backends: Sequence[str]) -> None:
    """Every recheck benchmark, as rows of the suite's table."""
    web = SynthWeb(outlets, max(1, articles // outlets))
    recheck_rows(suite, recheck_runs(suite, web), web.outlets * web.articles)
    due_rows(suite, scheduled, backends, repeats=200)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rechecks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=5000, help="articles in the crawls (all outlets)")
    parser.add_argument("--outlets", type=int, default=OUTLETS)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scheduled", default="10000,100000,1000000", help="comma-separated scheduled articles")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--only", choices=("crawl", "due"), help="only the crawls or only the due queries")
    parser.add_argument("--quick", action="store_true", help="500 articles, 1 run, 1e3 and 1e4 scheduled")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--stage", nargs=3, help=argparse.SUPPRESS)  # internal: BACKEND SIZE REPEATS, here
    args = parser.parse_args(argv)
    if args.stage:
        backend, size, repeats = args.stage
        print(json.dumps(due_stage(backend, int(size), int(repeats)), default=str))
        return 0
    from bench.measure import machine
    from bench.run import SIZES, Suite, render  # not for a stage: it needs none of the suite

    if args.quick:
        args.articles, args.runs, args.scheduled = 500, 1, "1000,10000"
    sizes = [int(s) for s in args.scheduled.split(",")]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="newsarchive-bench-rechecks-"))
    workdir.mkdir(parents=True, exist_ok=True)
    suite = Suite(SIZES["small"], args.runs, workdir, args.keep)
    suite.group = "rechecks"
    info = machine()
    try:
        if args.only != "due":
            web = SynthWeb(args.outlets, max(1, args.articles // args.outlets))
            recheck_rows(suite, recheck_runs(suite, web), web.outlets * web.articles)
        if args.only != "crawl":
            due_rows(suite, sizes, args.backends.split(","), repeats=200)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    info["load"] = f"{info['load']} at start, {os.getloadavg()[0]:.2f} at end (1 min)"
    print(render(suite, info, f"{args.articles} articles", args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
