"""Every fetch of an address (and of its aliases), and the article version each showed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, func, select
from sqlalchemy.orm import Session, aliased

from archive.db.models import Article, ArticleVersion, Capture, Observation, Url
from archive.queries.common import stream, typed_rows
from archive.queries.lookup import alias_ids, find_url

__all__ = ["CaptureRow", "captures_of", "captures_query"]


@dataclass(frozen=True)
class CaptureRow:
    """One fetch of a URL (or of an alias of it), and the article version it showed, if any."""

    url: str
    fetched_at: datetime
    status: int | None
    content_type: str | None
    payload_digest: str | None
    redirect_url: str | None
    is_revisit: bool
    original_record_id: str | None
    truncated: str | None
    article_url: str | None
    version: int | None
    record_id: str
    warc_filename: str
    warc_offset: int
    warc_length: int


def captures_query(url_ids: Sequence[int] | None = None) -> Select[Any]:
    """Captures of the given URLs (every capture without them), oldest first, with the
    article version each showed and, for a revisit, the record holding its body."""
    number = select(
        ArticleVersion.id,
        ArticleVersion.article_id,
        func.row_number(type_=Integer)
        .over(partition_by=ArticleVersion.article_id, order_by=(ArticleVersion.first_seen_at, ArticleVersion.id))
        .label("number"),
    ).subquery()
    original = aliased(Capture)
    story_url = aliased(Url)
    query = (
        select(
            Url.url,
            Capture.fetched_at,
            Capture.status,
            Capture.content_type,
            Capture.payload_digest,
            Capture.redirect_url,
            Capture.is_revisit,
            original.record_id.label("original_record_id"),
            Capture.truncated,
            story_url.url.label("article_url"),
            number.c.number.label("version"),
            Capture.record_id,
            Capture.warc_filename,
            Capture.warc_offset,
            Capture.warc_length,
        )
        .join(Url, Url.id == Capture.url_id)
        .outerjoin(original, original.id == Capture.original_id)
        .outerjoin(Observation, Observation.capture_id == Capture.id)
        .outerjoin(number, number.c.id == Observation.version_id)
        .outerjoin(Article, Article.id == number.c.article_id)
        .outerjoin(story_url, story_url.id == Article.url_id)
        .order_by(Capture.fetched_at, Capture.id)
    )
    return query if url_ids is None else query.where(Capture.url_id.in_(url_ids))


def captures_of(session: Session, url: str, aliases: bool = True) -> list[CaptureRow]:
    """Every capture of a URL (and, with ``aliases``, of every address leading to the same place)."""
    row = find_url(session, url)
    if row is None:
        return []
    ids = alias_ids(session, row) if aliases else [row.id]
    return list(typed_rows(CaptureRow, stream(session, captures_query(ids))))
