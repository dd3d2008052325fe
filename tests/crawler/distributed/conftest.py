"""Redis and PostgreSQL for distributed-crawl tests: each test gets its own key prefix and schema.

Both servers run on this machine and in CI (127.0.0.1:6379 and 127.0.0.1:5432,
database ``test``). Where one is not running, the tests that need it skip, saying
why; in CI (``$CI`` set) they fail instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text

from archive.frontier import FrontierKeys, reset_crawl
from tests.conftest import POSTGRES_URL, REPO, TEST_CRAWL_SETTINGS, postgres_unreachable
from tests.fixtureweb.__main__ import proxy_env

REDIS_URL = os.environ.get("NEWSARCHIVE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@cache
def redis_unreachable() -> str | None:
    """Why the test Redis server cannot be used, or None when it can."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as e:
        return f"Redis at {REDIS_URL} is unreachable: {e}"
    return None


def _need(reason: str | None) -> None:
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    _need(redis_unreachable())
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def keys(redis_client: redis.Redis) -> Iterator[FrontierKeys]:
    """A key prefix of the test's own; its keys are deleted afterwards."""
    keys = FrontierKeys(f"test-{uuid.uuid4().hex[:12]}")
    yield keys
    reset_crawl(redis_client, keys, force=True)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL schema of the test's own (dropped afterwards), as a database URL."""
    _need(postgres_unreachable())
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


#: Settings of every worker in these tests, beyond the fixture crawls' own.
WORKER_SETTINGS = {
    **TEST_CRAWL_SETTINGS,
    "EXTRACTION_WORKERS": "0",
    "DOWNLOAD_TIMEOUT": "5",
    "MAX_IDLE_TIME_BEFORE_CLOSE": "1",
    "DISTRIBUTED_WORKER_TIMEOUT": "2",
    "LOG_LEVEL": "INFO",
}


@dataclass
class Worker:
    """One ``scrapy crawl news`` worker process."""

    process: subprocess.Popen[str]
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text()


def start_worker(
    proxy_url: str, keys: FrontierKeys, database_url: str, data_dir: Path, name: str, **settings: str
) -> Worker:
    """Start a worker of the crawl ``keys`` through the web at ``proxy_url``, logging to ``data_dir/name.log``."""
    command = [sys.executable, "-m", "scrapy", "crawl", "news"]
    options = {
        **WORKER_SETTINGS,
        "REDIS_URL": REDIS_URL,
        "DISTRIBUTED_KEY_PREFIX": keys.prefix,
        "ARCHIVE_DATABASE_URL": database_url,
        "ARCHIVE_DATA_DIR": str(data_dir),
        **settings,
    }
    for option, value in options.items():
        command += ["-s", f"{option}={value}"]
    log_path = data_dir / f"{name}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=proxy_env(proxy_url), stdout=log, stderr=subprocess.STDOUT, text=True
        )
    return Worker(process, log_path)
