"""Distributed crawling: pages per second with 1, 2, ... workers on one Redis frontier and one database.

    python -m bench.distributed                          # 10 outlets x 100 articles, 1 and 2 workers, 3 runs
    python -m bench.distributed --workers 1,2,3 --articles 300 --runs 1

Each run crawls the synthetic web (:mod:`bench.synthweb`, in a process of its
own) from scratch: a Redis key prefix and a PostgreSQL schema of its own, the
seeds pushed as ``newsarchive seeds push`` does, then N ``scrapy crawl news``
workers started together with the benchmarks' crawl settings (no delays,
``CONCURRENT_REQUESTS`` 32, 8 per host, extraction in the default pool of one
process per core). The crawl's time runs from the workers' start to the moment
the frontier is drained (queue, seeds and every worker's unfinished requests
empty), read from Redis every 0.1 s; the idle wait before workers exit is not
counted. Pages are HTTP responses, summed over the workers' stats.

Needs Redis (``$NEWSARCHIVE_REDIS_URL``, default 127.0.0.1:6379/0) and PostgreSQL
(``$NEWSARCHIVE_BENCH_POSTGRES_URL``, default the ``test`` database on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import redis
from sqlalchemy import create_engine, text

from archive.cli.table import table
from archive.db.session import open_database
from archive.frontier import REDIS_URL_ENV, FrontierKeys, crawl_status, push_seeds, reset_crawl
from archive.seeds import load_seeds
from bench.crawls import REPO, SCRAPY_SETTINGS, WebServer, serving
from bench.measure import machine, median
from bench.synthweb import SynthWeb

REDIS_URL = os.environ.get(REDIS_URL_ENV, "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("NEWSARCHIVE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Run:
    workers: int
    pages: int
    seconds: float  # workers' start to the frontier drained
    cpu_seconds: float  # the workers' and their extraction processes'
    pages_per_worker: list[int]

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds


def crawl(server: WebServer, workers: int, workdir: Path, extra: dict[str, str] | None = None) -> Run:
    """One distributed crawl of the synthetic web by ``workers`` processes."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = FrontierKeys(f"bench-{uuid.uuid4().hex[:12]}")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    database = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        seeds = workdir / "seeds.toml"
        seeds.write_text(server.web.seed_toml())
        push_seeds(client, keys, load_seeds(seeds))
        open_database(database).dispose()
        settings = {
            **SCRAPY_SETTINGS,
            "REDIS_URL": REDIS_URL,
            "DISTRIBUTED_KEY_PREFIX": keys.prefix,
            "ARCHIVE_DATABASE_URL": database,
            "ARCHIVE_DATA_DIR": str(workdir / "data"),
            "MAX_IDLE_TIME_BEFORE_CLOSE": "1",
            **(extra or {}),
        }
        before = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers and their extraction processes
        cpu_before = before.ru_utime + before.ru_stime
        started = time.perf_counter()
        processes = []
        for n in range(workers):
            options = {**settings, "STATS_FILE": str(workdir / f"stats-{n}.json")}
            command = [sys.executable, "-m", "scrapy", "crawl", "news"]
            command += [arg for name, value in options.items() for arg in ("-s", f"{name}={value}")]
            log = (workdir / f"worker-{n}.log").open("wb")
            processes.append(subprocess.Popen(command, cwd=REPO, env=server.env(), stdout=log, stderr=log))
        try:
            drained = _wait_drained(client, keys, processes)
        except RuntimeError:
            logs = "".join((workdir / f"worker-{n}.log").read_text()[-2000:] for n in range(workers))
            raise RuntimeError(f"the workers exited before the crawl was drained ({workdir}):\n{logs}") from None
        seconds = drained - started
        for process in processes:
            if process.wait() != 0:
                raise RuntimeError(f"a worker exited with {process.returncode}; see {workdir}")
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - cpu_before
        stats = [json.loads((workdir / f"stats-{n}.json").read_text()) for n in range(workers)]
        if reasons := {s.get("finish_reason") for s in stats} - {"finished"}:
            raise RuntimeError(f"a worker stopped early: {', '.join(map(str, reasons))}; see {workdir}")
        pages = [int(s.get("downloader/response_count", 0)) for s in stats]
        run = Run(workers, sum(pages), seconds, cpu, pages)
        print(f"{workers} worker(s): {run.pages_per_s:.1f} pages/s ({workdir.name})", file=sys.stderr)
        return run
    finally:
        reset_crawl(client, keys, force=True)
        client.close()
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _wait_drained(client: redis.Redis, keys: FrontierKeys, processes: list[subprocess.Popen[bytes]]) -> float:
    """When the frontier was first seen empty, three polls in a row (a worker may be between two Redis calls)."""
    empty_since: float | None = None
    empty_polls = 0
    while empty_polls < 3:
        status = crawl_status(client, keys)
        if status.seen and not (status.queued or status.seeds_pending or status.in_flight):
            empty_since = empty_since or time.perf_counter()
            empty_polls += 1
        else:
            empty_since, empty_polls = None, 0
            if all(p.poll() is not None for p in processes):
                raise RuntimeError("the workers exited")
        time.sleep(POLL_SECONDS)
    assert empty_since is not None
    return empty_since


def _workdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.distributed", description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", type=int, default=10)
    parser.add_argument("--articles", type=int, default=100, help="per outlet")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the runs here")
    parser.add_argument("--keep", type=Path, help="keep the crawls' logs, WARCs and stats in this folder")
    parser.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="a Scrapy setting for every worker"
    )
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    extra = dict(option.split("=", 1) for option in args.set)
    web = SynthWeb(args.outlets, args.articles)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp:
        root = args.keep or Path(tmp)
        with serving(web, root / "web") as server:
            runs += [
                crawl(server, workers, _workdir(root / f"run{r}-w{workers}"), extra)
                for r in range(args.runs)
                for workers in counts  # interleaved, so drift in the machine's load hits every count alike
            ]
    base = median([r.pages_per_s for r in runs if r.workers == counts[0]])
    rows = []
    for workers in counts:
        mine = [r for r in runs if r.workers == workers]
        rate = median([r.pages_per_s for r in mine])
        rows.append(
            [
                workers,
                median([r.pages for r in mine]),
                f"{median([r.seconds for r in mine]):.1f}",
                f"{rate:.1f}",
                f"{rate / base:.2f}",
                f"{median([r.cpu_seconds for r in mine]):.0f}",
                " / ".join(str(p) for p in mine[len(mine) // 2].pages_per_worker),
            ]
        )
    about = machine()
    print(f"{web.outlets} outlets x {web.articles} articles, median of {args.runs} run(s); {about}")
    if extra:
        print("worker settings: " + ", ".join(f"{k}={v}" for k, v in extra.items()))
    print(table(["workers", "pages", "seconds", "pages/s", "scaling", "CPU s", "pages per worker"], rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": about, "runs": [asdict(r) for r in runs]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
