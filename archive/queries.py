"""Read-only questions researchers ask of the database.

Each question exists twice: as a statement (``*_query``) whose rows the
exporters stream, and as a library call returning typed rows. Both use the
same statement, so an export and a library call never disagree. A URL given
by a researcher may be any address the article was reached at (a feed's
redirecting link, a shortlink, the story URL itself).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Select, func, null, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Subquery

from archive.db.identity import canonical_form
from archive.db.models import (
    Article,
    ArticleVersion,
    Capture,
    FetchError,
    Observation,
    Outlet,
    Story,
    StoryArticle,
    Url,
)
from archive.diff import word_diff, words
from archive.warc.writer import OPEN_SUFFIX


@dataclass(frozen=True)
class ArchiveSummary:
    outlets: int
    urls: int
    captures: int
    captures_by_status: dict[str, int]
    revisits: int
    articles: int
    versions: int
    fetch_errors: int
    warc_files: int
    warc_files_open: int
    warc_bytes: int


@dataclass(frozen=True)
class ArticleRow:
    outlet: str | None
    title: str | None
    author: str | None
    published: str | None
    listed_published: str | None
    first_seen: str
    url: str


@dataclass(frozen=True)
class CoverageRow:
    """One article of a story (or of the whole archive): who published it, when, and how often it changed."""

    story: str | None
    outlet: str | None
    article_id: int
    url: str
    headline: str | None
    first_seen: datetime
    last_seen: datetime
    published: str | None
    listed_published: str | None
    versions: int
    captures: int
    matched_terms: list[str] | None
    seed: str | None


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


# -- summary ------------------------------------------------------------------------


def summarize(session: Session, warc_dir: Path) -> ArchiveSummary:
    """Counts of what is archived, from the database and the WARC folder."""
    by_status = {
        str(status if status is not None else "-"): count
        for status, count in session.execute(
            select(Capture.status, func.count()).group_by(Capture.status).order_by(Capture.status)
        )
    }
    warcs = sorted(warc_dir.glob("*.warc.gz")) if warc_dir.is_dir() else []
    open_warcs = sorted(warc_dir.glob(f"*.warc.gz{OPEN_SUFFIX}")) if warc_dir.is_dir() else []
    return ArchiveSummary(
        outlets=_count(session, Outlet),
        urls=_count(session, Url),
        captures=sum(by_status.values()),
        captures_by_status=by_status,
        revisits=session.scalar(select(func.count()).where(Capture.is_revisit.is_(True))) or 0,
        articles=_count(session, Article),
        versions=_count(session, ArticleVersion),
        fetch_errors=_count(session, FetchError),
        warc_files=len(warcs),
        warc_files_open=len(open_warcs),
        warc_bytes=sum(p.stat().st_size for p in warcs + open_warcs),
    )


def list_articles(session: Session, limit: int | None = None) -> list[ArticleRow]:
    """Archived articles, most recently first seen first, with their latest headline and byline."""
    latest = _latest_version()
    query = (
        select(Article, Outlet.name, Url.url, latest.c.title, latest.c.author)
        .join(Url, Article.url_id == Url.id)
        .join(latest, latest.c.article_id == Article.id)
        .outerjoin(Outlet, Article.outlet_id == Outlet.id)
        .order_by(Article.first_seen_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [
        ArticleRow(
            outlet=outlet,
            title=title,
            author=author,
            published=article.published,
            listed_published=article.listed_published,
            first_seen=article.first_seen_at.strftime("%Y-%m-%d %H:%M:%S"),
            url=url,
        )
        for article, outlet, url, title, author in session.execute(query)
    ]


# -- finding things by URL -----------------------------------------------------------


def find_url(session: Session, url: str) -> Url | None:
    """The URL row for an address as written, or else in canonical form."""
    found = session.scalar(select(Url).where(Url.url == url))
    if found is None and (normal := canonical_form(url)) != url:
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


# -- coverage -----------------------------------------------------------------------


def coverage_query(story: Story | None = None) -> Select[Any]:
    """A story's articles (every article without one): outlet, story URL, latest headline,
    first and last seen, dates, number of versions and captures, and why it is in the story."""
    latest = _latest_version()
    spans = (
        select(
            ArticleVersion.article_id,
            func.count(func.distinct(ArticleVersion.id)).label("versions"),
            func.count(Observation.id).label("captures"),
            func.max(ArticleVersion.last_seen_at).label("last_seen"),
        )
        .join(Observation, Observation.version_id == ArticleVersion.id)
        .group_by(ArticleVersion.article_id)
        .subquery()
    )
    if story is None:
        # the same columns, empty, so that every coverage export has one layout
        query = select(
            type_coerce(null(), Story.name.type).label("story"),
            type_coerce(null(), StoryArticle.matched_terms.type).label("matched_terms"),
            type_coerce(null(), StoryArticle.seed.type).label("seed"),
        ).select_from(Article)
    else:
        query = (
            select(Story.name.label("story"), StoryArticle.matched_terms, StoryArticle.seed)
            .select_from(StoryArticle)
            .join(Story, Story.id == StoryArticle.story_id)
            .join(Article, Article.id == StoryArticle.article_id)
            .where(StoryArticle.story_id == story.id)
        )
    return (
        query.add_columns(
            Outlet.name.label("outlet"),
            Article.id.label("article_id"),
            Url.url.label("url"),
            latest.c.title.label("headline"),
            Article.first_seen_at.label("first_seen"),
            spans.c.last_seen,
            Article.published,
            Article.listed_published,
            spans.c.versions,
            spans.c.captures,
        )
        .join(Url, Url.id == Article.url_id)
        .join(latest, latest.c.article_id == Article.id)
        .join(spans, spans.c.article_id == Article.id)
        .outerjoin(Outlet, Outlet.id == Article.outlet_id)
        .order_by(Article.first_seen_at, Article.id)
    )


def coverage(session: Session, story: Story | None = None) -> Iterator[CoverageRow]:
    """The coverage of a story (or of everything), streamed."""
    return _typed(CoverageRow, stream(session, coverage_query(story)))


def find_story(session: Session, name: str) -> Story | None:
    return session.scalar(select(Story).where(Story.name == name))


# -- versions -----------------------------------------------------------------------


def versions_query(article: Article | None = None) -> Select[Any]:
    """An article's versions (every article's without one), oldest first, with their texts."""
    number = func.row_number(type_=Integer).over(
        partition_by=ArticleVersion.article_id, order_by=(ArticleVersion.first_seen_at, ArticleVersion.id)
    )
    seen = select(Observation.version_id, func.count().label("captures")).group_by(Observation.version_id).subquery()
    first = aliased(Capture)
    query = (
        select(
            ArticleVersion.article_id,
            Url.url,
            number.label("version"),
            ArticleVersion.id.label("version_id"),
            ArticleVersion.first_seen_at.label("first_seen"),
            ArticleVersion.last_seen_at.label("last_seen"),
            seen.c.captures,
            ArticleVersion.title.label("headline"),
            ArticleVersion.author,
            ArticleVersion.published,
            ArticleVersion.content_hash,
            ArticleVersion.extractor,
            ArticleVersion.extractor_version,
            first.record_id.label("first_record_id"),
            first.warc_filename,
            first.warc_offset,
            ArticleVersion.text,
        )
        .join(Article, Article.id == ArticleVersion.article_id)
        .join(Url, Url.id == Article.url_id)
        .join(seen, seen.c.version_id == ArticleVersion.id)
        .join(first, first.id == ArticleVersion.first_capture_id)
        .order_by(ArticleVersion.article_id, ArticleVersion.first_seen_at, ArticleVersion.id)
    )
    return query if article is None else query.where(ArticleVersion.article_id == article.id)


#: What :func:`with_changes` adds to each row of :func:`versions_query`.
CHANGE_COLUMNS = {"words": "int", "words_added": "int", "words_removed": "int", "headline_changed": "bool"}


def with_changes(rows: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Version rows (ordered by article, then time) with word counts of what changed since the previous one."""
    previous: Mapping[str, Any] | None = None
    for row in rows:
        same_article = previous is not None and previous["article_id"] == row["article_id"]
        change = word_diff(previous["text"], row["text"]) if same_article and previous else None
        yield {
            **row,
            "words": len(words(row["text"])),
            "words_added": change.added if change else 0,
            "words_removed": change.removed if change else 0,
            "headline_changed": bool(same_article and previous and previous["headline"] != row["headline"]),
        }
        previous = row


def article_timeline(session: Session, article: Article) -> list[VersionRow]:
    """An article's versions, oldest first, each with what changed since the one before."""
    return list(_typed(VersionRow, with_changes(stream(session, versions_query(article)))))


# -- captures -----------------------------------------------------------------------


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
    return list(_typed(CaptureRow, stream(session, captures_query(ids))))


# -- helpers ------------------------------------------------------------------------


def _latest_version() -> Subquery:
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


def _typed(cls: type, rows: Iterable[Mapping[str, Any]]) -> Iterator[Any]:
    names = [f.name for f in fields(cls)]
    for row in rows:
        yield cls(**{name: row[name] for name in names})


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


__all__ = [
    "CHANGE_COLUMNS",
    "ArchiveSummary",
    "ArticleRow",
    "CaptureRow",
    "CoverageRow",
    "VersionRow",
    "alias_ids",
    "article_timeline",
    "captures_of",
    "captures_query",
    "coverage",
    "coverage_query",
    "find_article",
    "find_story",
    "find_url",
    "list_articles",
    "stream",
    "summarize",
    "versions_query",
    "with_changes",
]
