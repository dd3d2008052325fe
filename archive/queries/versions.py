"""An article's versions over time, with what changed from one to the next.

The crawl-time versions are what researchers see by default; the versions a
re-extraction by a newer extractor found (:mod:`archive.reextract`) form a
chain of their own, asked for by extractor version. Two versions are only
compared when the same extractor version read both: a text a new extractor
reads differently is not an edit by the outlet.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, func, select
from sqlalchemy.orm import Session, aliased

from archive.db.models import Article, ArticleVersion, Capture, Observation, ReextractedVersion, Reextraction, Url
from archive.diff import word_diff, words
from archive.queries.common import stream, typed_rows

__all__ = [
    "CHANGE_COLUMNS",
    "VersionRow",
    "article_timeline",
    "latest_reextraction",
    "reextracted_versions_query",
    "reextraction_counts",
    "versions_query",
    "with_changes",
]


@dataclass(frozen=True)
class VersionRow:
    """One version in an article's timeline, with what changed since the one before."""

    article_id: int
    url: str
    version: int
    version_id: int
    first_seen: datetime
    last_seen: datetime
    captures: int
    headline: str | None
    author: str | None
    published: str | None
    content_hash: str
    extractor: str
    extractor_version: str
    first_record_id: str
    warc_filename: str
    warc_offset: int
    text: str
    words: int
    words_added: int
    words_removed: int
    headline_changed: bool
    extractor_changed: bool


def versions_query(article: Article | None = None) -> Select[Any]:
    """An article's versions (every article's without one), oldest first, with their texts."""
    return _versions_of(ArticleVersion, Observation, article)


def reextracted_versions_query(extractor_version: str, article: Article | None = None) -> Select[Any]:
    """The versions one extractor version's re-extractions found, in :func:`versions_query`'s columns."""
    query = _versions_of(ReextractedVersion, Reextraction, article)
    return query.where(ReextractedVersion.extractor_version == extractor_version)


def _versions_of(
    version: type[ArticleVersion] | type[ReextractedVersion],
    seen_by: type[Observation] | type[Reextraction],
    article: Article | None,
) -> Select[Any]:
    """Versions of one chain (crawl-time, or re-extracted) with the captures that showed each (``seen_by``)."""
    number = func.row_number(type_=Integer).over(
        partition_by=version.article_id, order_by=(version.first_seen_at, version.id)
    )
    seen = select(seen_by.version_id, func.count().label("captures")).group_by(seen_by.version_id).subquery()
    first = aliased(Capture)
    query = (
        select(
            version.article_id,
            Url.url,
            number.label("version"),
            version.id.label("version_id"),
            version.first_seen_at.label("first_seen"),
            version.last_seen_at.label("last_seen"),
            seen.c.captures,
            version.title.label("headline"),
            version.author,
            version.published,
            version.content_hash,
            version.extractor,
            version.extractor_version,
            first.record_id.label("first_record_id"),
            first.warc_filename,
            first.warc_offset,
            version.text,
        )
        .join(Article, Article.id == version.article_id)
        .join(Url, Url.id == Article.url_id)
        .join(seen, seen.c.version_id == version.id)
        .join(first, first.id == version.first_capture_id)
        .order_by(version.article_id, version.first_seen_at, version.id)
    )
    return query if article is None else query.where(version.article_id == article.id)


def latest_reextraction(session: Session, article: Article | None = None) -> str | None:
    """The extractor version of the latest re-extraction that found a text (of the article's captures, if given)."""
    query = (
        select(ReextractedVersion.extractor_version)
        .join(Reextraction, Reextraction.version_id == ReextractedVersion.id)
        .order_by(Reextraction.reextracted_at.desc(), Reextraction.id.desc())
        .limit(1)
    )
    if article is not None:
        query = query.where(ReextractedVersion.article_id == article.id)
    return session.scalar(query)


def reextraction_counts(session: Session, article: Article) -> dict[str, int]:
    """How many versions each extractor version's re-extractions found for the article."""
    rows = session.execute(
        select(ReextractedVersion.extractor_version, func.count())
        .where(ReextractedVersion.article_id == article.id)
        .group_by(ReextractedVersion.extractor_version)
        .order_by(ReextractedVersion.extractor_version)
    )
    return {name: count for name, count in rows}


#: What :func:`with_changes` adds to each row of :func:`versions_query`.
CHANGE_COLUMNS = {
    "words": "int",
    "words_added": "int",
    "words_removed": "int",
    "headline_changed": "bool",
    "extractor_changed": "bool",
}


def with_changes(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Version rows (ordered by article, then time) with word counts of what changed since the previous one.

    A version read by another extractor version than the one before it is not compared with it
    (``extractor_changed``): the difference may be the extractor's, not the outlet's.
    """
    previous: Mapping[str, Any] | None = None
    for row in rows:
        same_article = previous is not None and previous["article_id"] == row["article_id"]
        extractor_changed = bool(
            same_article and previous and previous["extractor_version"] != row["extractor_version"]
        )
        compared = same_article and not extractor_changed
        change = word_diff(previous["text"], row["text"]) if compared and previous else None
        yield {
            **row,
            "words": len(words(row["text"])),
            "words_added": change.added if change else 0,
            "words_removed": change.removed if change else 0,
            "headline_changed": bool(compared and previous and previous["headline"] != row["headline"]),
            "extractor_changed": extractor_changed,
        }
        previous = row


def article_timeline(session: Session, article: Article) -> list[VersionRow]:
    """An article's versions, oldest first, each with what changed since the one before."""
    return list(typed_rows(VersionRow, with_changes(stream(session, versions_query(article)))))
