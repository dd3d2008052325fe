"""``scrapy crawl``: mistakes found before the crawl starts are usage errors, not tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from archive.frontier import KEY_PREFIX_ENV, REDIS_URL_ENV
from tests.conftest import FIXTURE_SEEDS, REPO
from tests.crawler.distributed.conftest import REDIS_URL, redis_unreachable


def scrapy_crawl(data: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-s", f"ARCHIVE_DATA_DIR={data}", *options]
    env = {k: v for k, v in os.environ.items() if k not in (REDIS_URL_ENV, KEY_PREFIX_ENV)}
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def assert_usage_error(done: subprocess.CompletedProcess[str], message: str, data: Path) -> None:
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"error: {message}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not data.exists()


def test_a_bad_seed_file_stops_the_crawl_before_it_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[outlet]]\nname = "X"\nallowed_domains = ["x.org"]\nstart_urls = ["http://y.org/"]\n')
    data = tmp_path / "data"
    done = scrapy_crawl(data, "-a", f"seeds={bad}")
    assert_usage_error(done, f"{bad}: outlet[0].start_urls[0]: host 'y.org' is outside allowed_domains", data)


def test_a_worker_whose_redis_cannot_be_reached_stops_before_it_starts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = scrapy_crawl(data, "-s", "REDIS_URL=redis://:secret@127.0.0.1:1/0")
    assert_usage_error(done, "the crawl's Redis at redis://:***@127.0.0.1:1/0 cannot be used", data)
    assert "secret" not in done.stderr


def test_a_worker_takes_no_seed_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = scrapy_crawl(data, "-s", "REDIS_URL=redis://127.0.0.1:1/0", "-a", f"seeds={FIXTURE_SEEDS}")
    assert_usage_error(done, "a distributed crawl takes its seeds from Redis: push them once with", data)
    assert f"newsarchive seeds push {FIXTURE_SEEDS}" in done.stderr


def test_a_worker_of_a_crawl_without_seeds_stops_before_it_starts(tmp_path: Path) -> None:
    if reason := redis_unreachable():  # as the distributed tests do: skip here, fail in CI
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    data = tmp_path / "data"
    prefix = f"test-{uuid.uuid4().hex[:12]}"  # a crawl nobody pushed seeds to
    done = scrapy_crawl(data, "-s", f"REDIS_URL={REDIS_URL}", "-s", f"DISTRIBUTED_KEY_PREFIX={prefix}")
    assert_usage_error(done, f"crawl {prefix!r} has no seeds", data)


def test_a_crawl_with_nothing_due_loads_nothing_it_does_not_use(tmp_path: Path) -> None:
    # Start-up is most of a short recheck crawl's time: the crawler process loads no extraction, reprint,
    # migration or distributed-crawl library (the archiver process loads what it needs itself).
    unused = ("numpy", "datasketch", "redis", "scrapy_redis", "alembic", "trafilatura")
    script = (
        "import atexit, sys\n"
        f"atexit.register(lambda: print('loaded:', *[m for m in {unused!r} if m in sys.modules]))\n"
        "from scrapy.cmdline import execute\n"
        f"execute(['scrapy', 'crawl', 'recheck', '-s', 'ARCHIVE_DATA_DIR={tmp_path / 'data'}'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in (REDIS_URL_ENV, KEY_PREFIX_ENV)}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == "loaded:"
    assert (tmp_path / "data" / "archive.db").is_file()  # the archiver process made the archive


def test_a_crawl_that_fails_before_its_spider_opens_ends_its_archiver_process(tmp_path: Path) -> None:
    # The archiver process is started before the spider is even looked up. Left waiting for its settings
    # it would keep this process from exiting; left starting, it would fail as this one exits.
    command = [sys.executable, "-m", "scrapy", "crawl", "no-such-spider", "-s", f"ARCHIVE_DATA_DIR={tmp_path}"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Spider not found: no-such-spider" in done.stderr
    assert done.stderr.count("Traceback") == 1, done.stderr[-3000:]
