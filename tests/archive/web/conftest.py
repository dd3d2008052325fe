"""An archive with two crawls of the fixture web, the second after one article was edited, and its story synced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.config import ArchivePaths
from archive.db.session import open_database, session_factory
from archive.stories import load_story, sync_story
from tests.conftest import REPO, CrawlRun, run_crawl
from tests.fixtureweb.server import FixtureWeb

#: The seed article that fixtureweb's edition 2 changes.
EDITED_URL = "http://www.theamericanconservative.com/larison/the-hanoi-summit-collapses/"
EDITED_TITLE = "The Hanoi Summit Collapses Without a Deal"
STORY = "hanoi-summit-2019"


@pytest.fixture(scope="session")
def two_crawls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchivePaths]:
    data = tmp_path_factory.mktemp("two-crawls")
    with FixtureWeb(slow_seconds=5) as web:  # its own instance: the edition switch must not leak
        runs: list[CrawlRun] = [run_crawl(web, data)]
        web.edition = 2
        runs.append(run_crawl(web, data, RECHECK_KNOWN_ARTICLES="always"))  # the edited article, not when due
    for run in runs:
        assert run.returncode == 0, run.log[-5000:]
    paths = ArchivePaths.resolve(data_dir=data)
    engine = open_database(paths.database_url)
    with session_factory(engine)() as session:
        sync_story(session, load_story(REPO / "stories" / f"{STORY}.toml"))
        session.commit()
    engine.dispose()
    yield paths


def output_dir(name: str) -> Path:
    """Where tests leave files for people to look at (gitignored)."""
    path = REPO / "test-output" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
