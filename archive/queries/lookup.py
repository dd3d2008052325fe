"""Finding things by address or words: URLs, their aliases, the article an address leads to, text search.

A URL given by a researcher may be any address the article was reached at
(a feed's redirecting link, a shortlink, the story URL itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive.db.identity import canonical_form
from archive.db.models import Article, ArticleVersion, Url
from archive.urls import UnparseableUrl

__all__ = ["TextMatch", "alias_ids", "find_article", "find_url", "search_text", "urls_with_prefix"]


@dataclass(frozen=True)
class TextMatch:
    """An article whose headline or text contained the words searched for, as its first such version read."""

    article_id: int
    url: str
    title: str | None
    first_seen: datetime


def find_url(session: Session, url: str) -> Url | None:
    """The URL row for an address as written, or else in canonical form (None for an address
    that is not a URL the archive could hold)."""
    found = session.scalar(select(Url).where(Url.url == url))
    if found is None:
        try:
            normal = canonical_form(url)
        except UnparseableUrl:
            return None
        if normal != url:
            found = session.scalar(select(Url).where(Url.url == normal))
    return found


def find_article(session: Session, url: str) -> Article | None:
    """The article an address leads to: its story URL, or any alias of it."""
    row = find_url(session, url)
    if row is None:
        return None
    return session.scalar(
        select(Article).where(Article.url_id.in_([row.id] + ([row.canonical_id] if row.canonical_id else [])))
    )


def alias_ids(session: Session, url: Url) -> list[int]:
    """The URL, the address it leads to, and every other alias of that address."""
    root = url.canonical_id or url.id
    return list(session.scalars(select(Url.id).where(or_(Url.id == root, Url.canonical_id == root)).order_by(Url.id)))


def urls_with_prefix(session: Session, prefix: str, limit: int) -> list[str]:
    """The first ``limit`` known addresses starting with ``prefix``, in order."""
    # a range on the unique index, not LIKE (which SQLite would not answer from the index)
    return list(
        session.scalars(
            select(Url.url).where(Url.url >= prefix, Url.url < prefix + "\U0010ffff").order_by(Url.url).limit(limit)
        )
    )


def search_text(session: Session, text: str, limit: int) -> list[TextMatch]:
    """Articles any version of which contains ``text`` (case-insensitive) in its headline or text, oldest first.

    ``limit`` bounds the matching versions read, so an article matched by several counts several times.
    """
    pattern = f"%{text}%"
    rows = session.execute(
        select(Article.id, Url.url, ArticleVersion.title, Article.first_seen_at)
        .join(ArticleVersion, ArticleVersion.article_id == Article.id)
        .join(Url, Url.id == Article.url_id)
        .where(or_(ArticleVersion.text.ilike(pattern), ArticleVersion.title.ilike(pattern)))
        .order_by(Article.first_seen_at, ArticleVersion.first_seen_at)
        .limit(limit)
    )
    matches: dict[int, TextMatch] = {}
    for article_id, url, title, first_seen in rows:
        matches.setdefault(article_id, TextMatch(article_id, url, title, first_seen))
    return list(matches.values())
