"""Shared test set-up: nothing may reach the internet, and whole crawls run once per session."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.fixtureweb.__main__ import proxy_env
from tests.fixtureweb.server import FixtureWeb, ServedRequest

REPO = Path(__file__).resolve().parents[1]
FIXTURE_SEEDS = REPO / "seeds" / "fixture-web.toml"

# Scrapy's cookie middleware would fetch the Public Suffix List at import time.
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

#: Fast but otherwise default settings for crawls of the fixture web.
TEST_CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "DOWNLOAD_TIMEOUT": "2",
    "RETRY_TIMES": "1",
    "EXTRACTION_WORKERS": "1",
    "ARCHIVE_CONTACT_URL": "http://localhost/tests",
    "TELNETCONSOLE_ENABLED": "False",
}


@dataclass
class CrawlRun:
    data_dir: Path
    returncode: int
    log: str
    served: list[ServedRequest]  # what the fixture web answered during this crawl

    @property
    def warc_dir(self) -> Path:
        return self.data_dir / "warcs"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'archive.db'}"


def run_crawl(
    web: FixtureWeb, data_dir: Path, seeds: Path = FIXTURE_SEEDS, proxy: bool = True, **settings: str
) -> CrawlRun:
    """One ``scrapy crawl news`` in its own process (a reactor cannot restart), through the fixture web."""
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}"]
    for name, value in {**TEST_CRAWL_SETTINGS, "ARCHIVE_DATA_DIR": str(data_dir), **settings}.items():
        command += ["-s", f"{name}={value}"]
    web.clear_requests()
    done = subprocess.run(
        command,
        cwd=REPO,
        env=proxy_env(web.proxy_url) if proxy else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    return CrawlRun(data_dir, done.returncode, done.stdout + done.stderr, web.requests)


@pytest.fixture(scope="session")
def fixture_web() -> Iterator[FixtureWeb]:
    with FixtureWeb(slow_seconds=5) as web:
        yield web


@pytest.fixture(scope="session")
def fixture_crawl(fixture_web: FixtureWeb, tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    """A whole crawl of the fixture web, shared by the tests that inspect its output."""
    run = run_crawl(fixture_web, tmp_path_factory.mktemp("crawl"))
    assert run.returncode == 0, run.log[-5000:]
    return run


#: The PostgreSQL server tests use (CI and this machine: trust auth, database ``test``).
POSTGRES_URL = os.environ.get("NEWSARCHIVE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


@cache
def postgres_unreachable() -> str | None:
    """Why the test PostgreSQL server cannot be used, or None when it can."""
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as e:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {str(e.orig).strip().splitlines()[0]}"
    finally:
        engine.dispose()
    return None


@contextmanager
def database_urls(backend: str, folder: Path) -> Iterator[Callable[[], str]]:
    """Makes URLs of fresh, empty databases on one backend: an SQLite file in ``folder``, or a
    PostgreSQL schema of its own (dropped afterwards). PostgreSQL is skipped only where it is
    not running, never in CI."""
    if backend == "sqlite":
        folders = (folder / f"db{n}" for n in range(1000))

        def make_file() -> str:
            path = next(folders)
            path.mkdir()
            return f"sqlite:///{path / 'archive.db'}"

        yield make_file
        return
    if reason := postgres_unreachable():
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    schemas: list[str] = []

    def make_schema() -> str:
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        schemas.append(schema)
        return f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"

    try:
        yield make_schema
    finally:
        with admin.connect() as connection:
            for schema in schemas:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def new_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes fresh, empty databases on each backend in turn (SQLite, PostgreSQL)."""
    with database_urls(request.param, tmp_path) as make:
        yield make


@pytest.fixture
def database_url(new_database_url: Callable[[], str]) -> str:
    """A fresh, empty database on each backend in turn (SQLite, PostgreSQL)."""
    return new_database_url()
