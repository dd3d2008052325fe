"""The search fixture archive (``tests/archive/searchfixture.py``) on each backend, indexed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import ArticleVersion, open_database, session_factory
from archive.reprints import add_articles
from archive.search.index import index_versions
from tests.archive import searchfixture


@dataclass
class IndexedArchive:
    sessions: sessionmaker[Session]
    ids: dict[str, int]  # article id by the fixture's key
    url: str

    def keys(self, article_ids: object) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[i] for i in article_ids}  # type: ignore[attr-defined]


def index_everything(sessions: sessionmaker[Session]) -> None:
    """What the indexer does per batch, for every version and article (indexing twice does nothing)."""
    with sessions.begin() as session:
        connection = session.connection()
        index_versions(connection, session.scalars(select(ArticleVersion.id)).all())
        add_articles(connection, session.scalars(select(ArticleVersion.article_id).distinct()).all())


@pytest.fixture
def archive(database_url: str, tmp_path: Path) -> Iterator[IndexedArchive]:
    engine = open_database(database_url)
    sessions = session_factory(engine)
    ids = searchfixture.build(tmp_path / "warcs", sessions)
    index_everything(sessions)
    yield IndexedArchive(sessions, ids, database_url)
    engine.dispose()
