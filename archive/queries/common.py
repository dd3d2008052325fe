"""What the query modules share: streaming rows, typing them, each article's latest version."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields
from typing import Any

from sqlalchemy import Integer, Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from archive.db.models import ArticleVersion

__all__ = ["count_rows", "latest_version", "stream", "typed_rows"]


def latest_version() -> Subquery:
    """Per article, its most recently first-seen version (headline and byline as they now stand)."""
    ranked = select(
        ArticleVersion.article_id,
        ArticleVersion.title,
        ArticleVersion.author,
        func.row_number(type_=Integer)
        .over(
            partition_by=ArticleVersion.article_id,
            order_by=(ArticleVersion.first_seen_at.desc(), ArticleVersion.id.desc()),
        )
        .label("rank"),
    ).subquery()
    return select(ranked.c.article_id, ranked.c.title, ranked.c.author).where(ranked.c.rank == 1).subquery()


def stream(session: Session, query: Select[Any], batch: int = 1000) -> Iterator[Mapping[str, Any]]:
    """Rows as mappings, fetched ``batch`` at a time (a server-side cursor on PostgreSQL)."""
    yield from session.execute(query.execution_options(yield_per=batch)).mappings()


def typed_rows(cls: type, rows: Iterable[Mapping[str, Any]]) -> Iterator[Any]:
    names = [f.name for f in fields(cls)]
    for row in rows:
        yield cls(**{name: row[name] for name in names})


def count_rows(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0
