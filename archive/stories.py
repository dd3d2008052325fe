"""Stories: a named set of query terms, a search query and seed URLs, and the articles that belong to it.

A story is defined in a TOML file (``stories/hanoi-summit-2019.toml``)::

    name = "hanoi-summit-2019"          # lower-case letters, digits and dashes
    title = "The Hanoi summit"
    start = 2019-02-20                  # optional date range, inclusive, for term matches
    end = 2019-03-31
    terms = ["Hanoi summit", "Kim Jong Un"]   # any of them, in any version's headline or text
    query = '"nuclear deal" AND (hanoi OR vietnam)'   # the search query language (archive.search.query)
    seeds = ["https://example.com/news/x"]    # articles (any address of them), or feeds and
                                              # sitemaps whose every listed article belongs

Syncing (``newsarchive stories sync FILE``) recomputes the story's members
and records why each belongs: the terms it matched, the seed that named it.
A term matches whole words, case-insensitively, across any whitespace; an
article that ever carried it stays in the story even if a later edit
removed it. The query is answered by the full-text index, over every version
alike (so the same holds), and may narrow itself (``outlet:``,
``published:``). The date range bounds term and query matches (by the page's
date, else the listed date, else the first sighting): seeds are explicit
choices.

The definition is stored with the story so that a rebuilt database can
re-sync it; the file stays the original.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from archive.configfile import ConfigFileError, read_toml
from archive.db.models import Article, ArticleVersion, Capture, Listing, Story, StoryArticle, Url
from archive.queries import find_url
from archive.search.query import QueryError, parse_query
from archive.search.results import matching_articles
from archive.urls import MAX_URL_LENGTH

__all__ = ["StoryDefinition", "StoryError", "SyncResult", "load_story", "resync_stories", "sync_story"]

_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_KNOWN = {"name", "title", "description", "start", "end", "terms", "query", "seeds"}
#: Longest story name: the database column's length.
MAX_NAME_LENGTH: int = Story.__table__.c.name.type.length
#: Most terms a story may have: each is a condition of the candidate query (see ``_TERMS_PER_QUERY``).
MAX_TERMS = 1000
#: Longest term, in characters: a phrase, not a document (SQLite refuses LIKE patterns over 50,000 bytes).
MAX_TERM_LENGTH = 200
#: Most seeds a story may have (each is looked up in the database).
MAX_SEEDS = 10_000
#: Terms looked for per candidate query: two LIKE conditions each, well below SQLite's
#: expression depth limit of 1,000 (an OR of 499 terms broke it).
_TERMS_PER_QUERY = 100
#: Article ids per ``IN`` list: far below SQLite's 32,766 bound parameters.
_IDS_PER_QUERY = 1000


class StoryError(ConfigFileError):
    """A story file that cannot be used, with the file and field at fault."""

    kind = "story file"


@dataclass(frozen=True)
class StoryDefinition:
    name: str
    title: str | None = None
    description: str | None = None
    terms: tuple[str, ...] = ()
    seeds: tuple[str, ...] = ()
    query: str | None = None
    start: date | None = None
    end: date | None = None
    source: str | None = None  # the file it was read from

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "terms": list(self.terms),
            "query": self.query,
            "seeds": list(self.seeds),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoryDefinition:
        return cls(
            name=data["name"],
            title=data.get("title"),
            description=data.get("description"),
            terms=tuple(data.get("terms") or ()),
            seeds=tuple(data.get("seeds") or ()),
            query=data.get("query"),
            start=date.fromisoformat(data["start"]) if data.get("start") else None,
            end=date.fromisoformat(data["end"]) if data.get("end") else None,
            source=data.get("source"),
        )


def load_story(path: str | os.PathLike[str]) -> StoryDefinition:
    """Read and validate a story file; raise :class:`StoryError` naming file and field."""
    path = Path(path)
    data = read_toml(path, StoryError)
    if unknown := sorted(set(data) - _KNOWN):
        raise StoryError(path, unknown[0], f"unknown field (known: {', '.join(sorted(_KNOWN))})")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise StoryError(path, "name", "required: lower-case letters, digits and dashes, e.g. 'hanoi-summit-2019'")
    if len(name) > MAX_NAME_LENGTH:
        raise StoryError(path, "name", f"longer than {MAX_NAME_LENGTH} characters")
    for key in ("title", "description"):
        if key in data and not isinstance(data[key], str):
            raise StoryError(path, key, "must be a string")
    lists = {}
    for key in ("terms", "seeds"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise StoryError(path, key, "must be a list of non-empty strings")
        lists[key] = tuple(v.strip() for v in value)
    query = data.get("query")
    if query is not None:
        if not isinstance(query, str):
            raise StoryError(path, "query", "must be a string: a search query, e.g. '\"nuclear deal\" AND hanoi'")
        try:
            parse_query(query)
        except QueryError as e:
            raise StoryError(path, "query", str(e)) from None
    if not lists["terms"] and not lists["seeds"] and query is None:
        raise StoryError(path, "terms", "a story needs terms, a query or seeds")
    for key, most, longest in (("terms", MAX_TERMS, MAX_TERM_LENGTH), ("seeds", MAX_SEEDS, MAX_URL_LENGTH)):
        if len(lists[key]) > most:
            raise StoryError(path, key, f"more than {most}")
        for i, value in enumerate(lists[key]):
            if len(value) > longest:
                raise StoryError(path, f"{key}[{i}]", f"longer than {longest} characters")
    for i, seed in enumerate(lists["seeds"]):
        if not re.match(r"https?://[^/\s]+", seed):
            raise StoryError(path, f"seeds[{i}]", f"not an absolute http(s) URL: {seed!r}")
    bounds = {}
    for key in ("start", "end"):
        value = data.get(key)
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise StoryError(path, key, "must be a date (start = 2019-02-20, no quotes)")
        bounds[key] = value
    if bounds["start"] and bounds["end"] and bounds["start"] > bounds["end"]:
        raise StoryError(path, "end", "is before start")
    return StoryDefinition(
        name=name,
        title=data.get("title"),
        description=data.get("description"),
        source=str(path),
        query=query,
        **lists,
        **bounds,
    )


@dataclass
class SyncResult:
    story: str
    members: int = 0
    by_terms: int = 0
    by_query: int = 0
    by_seeds: int = 0
    added: int = 0
    removed: int = 0
    #: Seeds that lead to no archived article and list none.
    unresolved_seeds: list[str] = field(default_factory=list)


def sync_story(session: Session, definition: StoryDefinition) -> SyncResult:
    """Store the definition and recompute the story's members, with why each belongs."""
    story = session.scalar(select(Story).where(Story.name == definition.name))
    if story is None:
        story = Story(name=definition.name, definition={}, synced_at=_now())
        session.add(story)
        session.flush()
    story.title = definition.title
    story.definition = definition.to_json()
    story.synced_at = _now()
    before = set(session.scalars(select(StoryArticle.article_id).where(StoryArticle.story_id == story.id)))

    result = SyncResult(definition.name)
    terms = _within_dates(session, definition, _matches(session, definition))
    queried = _within_dates(session, definition, _queried(session, definition))
    seeds = _seeded(session, definition.seeds, result)
    session.execute(delete(StoryArticle).where(StoryArticle.story_id == story.id))
    for article_id in sorted(terms.keys() | queried.keys() | seeds.keys()):
        matched = [t for t in definition.terms if t in terms.get(article_id, ())]
        matched += [q for q in (definition.query,) if q is not None and article_id in queried]
        session.add(
            StoryArticle(story_id=story.id, article_id=article_id, matched_terms=matched, seed=seeds.get(article_id))
        )
    session.flush()
    members = terms.keys() | queried.keys() | seeds.keys()
    result.members, result.by_terms, result.by_seeds = len(members), len(terms), len(seeds)
    result.by_query = len(queried)
    result.added, result.removed = len(members - before), len(before - members)
    return result


def resync_stories(session: Session) -> list[SyncResult]:
    """Recompute every stored story from its stored definition (after a rebuild)."""
    stories = session.scalars(select(Story).order_by(Story.name)).all()
    return [sync_story(session, StoryDefinition.from_json(story.definition)) for story in stories]


def _queried(session: Session, definition: StoryDefinition) -> dict[int, set[str]]:
    """Articles any version of which matches the story's query, through the full-text index."""
    if definition.query is None:
        return {}
    found = matching_articles(session, parse_query(definition.query))
    return {article_id: {definition.query} for article_id in found}


def _matches(session: Session, definition: StoryDefinition) -> dict[int, set[str]]:
    """Articles whose headline or text, in any version, holds a term."""
    found: dict[int, set[str]] = {}
    for start in range(0, len(definition.terms), _TERMS_PER_QUERY):
        patterns = {term: _pattern(term) for term in definition.terms[start : start + _TERMS_PER_QUERY]}
        # a cheap filter in the database (the term's longest word), the exact match here
        hints = {max(term.split(), key=len) for term in patterns}
        candidates = select(ArticleVersion.article_id, ArticleVersion.title, ArticleVersion.text).where(
            or_(
                *(
                    column.icontains(hint, autoescape=True)
                    for hint in sorted(hints)
                    for column in (ArticleVersion.title, ArticleVersion.text)
                )
            )
        )
        for article_id, title, text in session.execute(candidates.execution_options(yield_per=200)):
            for term, pattern in patterns.items():
                if pattern.search(title or "") or pattern.search(text):
                    found.setdefault(article_id, set()).add(term)
    return found


def _within_dates(session: Session, definition: StoryDefinition, found: dict[int, set[str]]) -> dict[int, set[str]]:
    """The matches whose article's day is within the story's date range (all of them without one)."""
    if not (definition.start or definition.end):
        return found
    ids = sorted(found)
    for start in range(0, len(ids), _IDS_PER_QUERY):
        dates = session.execute(
            select(Article.id, Article.published, Article.listed_published, Article.first_seen_at).where(
                Article.id.in_(ids[start : start + _IDS_PER_QUERY])
            )
        )
        for article_id, published, listed, first_seen in dates:
            day = _day(published) or _day(listed) or first_seen.date()
            if (definition.start and day < definition.start) or (definition.end and day > definition.end):
                del found[article_id]
    return found


def _seeded(session: Session, seeds: Iterable[str], result: SyncResult) -> dict[int, str]:
    """Articles named by a seed: the article it leads to, or those a feed or sitemap at it listed."""
    found: dict[int, str] = {}
    for seed in seeds:
        url = find_url(session, seed)
        articles: list[int] = []
        if url is not None:
            root = url.canonical_id or url.id
            articles = list(session.scalars(select(Article.id).where(Article.url_id == root)))
            if not articles:
                listed = (
                    select(Article.id)
                    .join(Url, Article.url_id == func.coalesce(Url.canonical_id, Url.id))
                    .join(Listing, Listing.url_id == Url.id)
                    .join(Capture, Capture.id == Listing.listed_in_id)
                    .where(Capture.url_id == url.id)
                    .distinct()
                )
                articles = list(session.scalars(listed))
        if not articles:
            result.unresolved_seeds.append(seed)
        for article_id in articles:
            found.setdefault(article_id, seed)
    return found


def _pattern(term: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(word) for word in term.split()) + r"(?!\w)", re.IGNORECASE)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
