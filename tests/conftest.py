"""Shared test set-up: nothing may reach the internet, and whole crawls run once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
