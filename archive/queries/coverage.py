"""Coverage: which outlets published what on a story, when, and how often it changed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, null, select, type_coerce
from sqlalchemy.orm import Session

from archive.db.models import Article, ArticleVersion, Observation, Outlet, Story, StoryArticle, Url
from archive.queries.common import latest_version, stream, typed_rows

__all__ = [
    "NO_OUTLET",
    "ArticleLine",
    "CoverageRow",
    "StoryRow",
    "coverage",
    "coverage_query",
    "find_story",
    "list_stories",
    "timeline_data",
]


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
class StoryRow:
    """A synced story and its number of articles."""

    name: str
    title: str | None
    articles: int
    synced_at: datetime


@dataclass
class ArticleLine:
    """An article on a coverage timeline: its outlet, first and last sighting, and when each later version appeared."""

    outlet: str
    first_seen: datetime
    last_seen: datetime
    changes: list[datetime] = field(default_factory=list)  # first sighting of each later version


#: The outlet shown for an article of no known outlet.
NO_OUTLET = "(no outlet)"


def coverage_query(story: Story | None = None) -> Select[Any]:
    """A story's articles (every article without one): outlet, story URL, latest headline,
    first and last seen, dates, number of versions and captures, and why it is in the story."""
    latest = latest_version()
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
    return typed_rows(CoverageRow, stream(session, coverage_query(story)))


def find_story(session: Session, name: str) -> Story | None:
    return session.scalar(select(Story).where(Story.name == name))


def list_stories(session: Session) -> list[StoryRow]:
    """Every synced story, by name, with its number of articles."""
    query = (
        select(Story.name, Story.title, func.count(StoryArticle.article_id).label("articles"), Story.synced_at)
        .outerjoin(StoryArticle, StoryArticle.story_id == Story.id)
        .group_by(Story.id)
        .order_by(Story.name)
    )
    return list(typed_rows(StoryRow, session.execute(query).mappings()))


def timeline_data(session: Session, story: Story | None = None) -> list[ArticleLine]:
    """The articles of a story (or all of them), each with the times its versions appeared, by outlet."""
    query = (
        select(Article.id, Outlet.name, ArticleVersion.first_seen_at, ArticleVersion.last_seen_at)
        .join(ArticleVersion, ArticleVersion.article_id == Article.id)
        .outerjoin(Outlet, Outlet.id == Article.outlet_id)
        .order_by(Article.id, ArticleVersion.first_seen_at, ArticleVersion.id)
    )
    if story is not None:
        query = query.join(StoryArticle, StoryArticle.article_id == Article.id).where(StoryArticle.story_id == story.id)
    lines: dict[int, ArticleLine] = {}
    for article_id, outlet, first_seen, last_seen in session.execute(query):
        line = lines.get(article_id)
        if line is None:
            lines[article_id] = ArticleLine(outlet or NO_OUTLET, first_seen, last_seen)
        else:
            line.changes.append(first_seen)
            line.last_seen = max(line.last_seen, last_seen)
    return sorted(lines.values(), key=lambda a: (a.outlet, a.first_seen))
