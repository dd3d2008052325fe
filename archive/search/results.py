"""Answering a parsed query (:mod:`archive.search.query`) from the full-text index: matches, snippets, counts.

By default each article is searched in its newest version, as it reads now;
``all_versions`` searches every version (one row per matching version).
``collapse_reprints`` keeps one article per reprint group (:mod:`archive.reprints`):
the group's earliest matching capture, so a wire story printed by fifty
outlets counts once.

An article's day is the date it gives itself, else the date a feed or sitemap
gave, else the day it was first captured: ``published:`` ranges and counts
by day and week read it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    cast,
    column,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session, aliased

from archive.db.models import Article, ArticleVersion, Outlet, Url
from archive.search.query import Filter, Query, QueryError
from archive.search.schema import SEARCH_TABLE, search_documents, signatures

__all__ = ["COUNT_BY", "SEARCH_COLUMNS", "Match", "count_by", "count_matches", "search"]

COUNT_BY = ("outlet", "day", "week")
#: Export columns of :func:`search`'s rows.
SEARCH_COLUMNS = [
    ("article_id", "int"),
    ("version_id", "int"),
    ("url", "str"),
    ("outlet", "str"),
    ("day", "str"),
    ("first_seen", "datetime"),
    ("title", "str"),
    ("author", "str"),
    ("language", "str"),
    ("reprint_of", "int"),
    ("snippet", "str"),
]
#: Words around the matches a snippet shows.
SNIPPET_WORDS = 24
_FTS = table(SEARCH_TABLE, column("rowid"))


@dataclass(frozen=True)
class Match:
    """A matching article version, with a snippet of its text where the words matched."""

    article_id: int
    version_id: int
    url: str
    outlet: str | None
    day: str
    first_seen: datetime
    title: str | None
    author: str | None
    language: str | None
    #: The probable original of the article's reprint group, when it is another article.
    reprint_of: int | None
    snippet: str

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name, _ in SEARCH_COLUMNS}


def search(
    session: Session,
    query: Query,
    all_versions: bool = False,
    collapse_reprints: bool = False,
    limit: int | None = 50,
    offset: int = 0,
    marks: tuple[str, str] = ("[", "]"),
) -> Iterator[Match]:
    """Matching articles, newest first, each with a snippet (``marks`` around the matched words)."""
    matched = _matched(session, query, all_versions, collapse_reprints).subquery()
    page = select(matched).order_by(matched.c.first_seen.desc(), matched.c.version_id.desc()).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    batch: list[Any] = []
    for row in session.execute(page).yield_per(500):
        batch.append(row)
        if len(batch) == 500:
            yield from _with_snippets(session, query, batch, marks)
            batch = []
    yield from _with_snippets(session, query, batch, marks)


def count_matches(session: Session, query: Query, all_versions: bool = False, collapse_reprints: bool = False) -> int:
    """How many articles (or versions, with ``all_versions``) match."""
    matched = _matched(session, query, all_versions, collapse_reprints, shown=False).subquery()
    return session.scalar(select(func.count()).select_from(matched)) or 0


def count_by(
    session: Session, query: Query, by: str, all_versions: bool = False, collapse_reprints: bool = False
) -> list[tuple[str, int]]:
    """Matches counted by outlet (most first), by day or by ISO week (its Monday; in order)."""
    if by not in COUNT_BY:
        raise ValueError(f"cannot count by {by!r} (known: {', '.join(COUNT_BY)})")
    statement = _matched(session, query, all_versions, collapse_reprints, shown=False, by_outlet=by == "outlet")
    matched = statement.subquery()
    bucket = func.coalesce(matched.c.outlet, "") if by == "outlet" else matched.c.day
    counts = session.execute(select(bucket, func.count()).group_by(bucket)).all()
    if by == "outlet":
        return sorted(((name, n) for name, n in counts), key=lambda c: (-c[1], c[0]))
    if by == "day":
        return sorted((day, n) for day, n in counts)
    weeks: Counter[str] = Counter()
    for day, n in counts:
        moment = date.fromisoformat(day)
        weeks[(moment - timedelta(days=moment.weekday())).isoformat()] += n
    return sorted(weeks.items())


def _matched(
    session: Session,
    query: Query,
    all_versions: bool,
    collapse_reprints: bool,
    shown: bool = True,
    by_outlet: bool = False,
) -> Select[Any]:
    """The matching versions with what is shown of them (no text: snippets come per page); without ``shown``,
    only what counting them needs (every join left out is a lookup per match saved)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    day = _day(postgres)
    group = func.coalesce(signatures.c.group_id, Article.id)
    outlets = shown or by_outlet or any(f.name == "outlet" for f in query.filters)
    columns: list[Any] = [Article.id.label("article_id"), ArticleVersion.id.label("version_id"), day.label("day")]
    if shown:
        columns += [
            Url.url.label("url"),
            ArticleVersion.first_seen_at.label("first_seen"),
            ArticleVersion.title.label("title"),
            ArticleVersion.author.label("author"),
            ArticleVersion.language.label("language"),
        ]
    if outlets:
        columns.append(Outlet.name.label("outlet"))
    if shown or collapse_reprints:
        columns.append(signatures.c.group_id.label("group_id"))
    if collapse_reprints:
        order = (Article.first_seen_at, Article.id, ArticleVersion.id)
        first = func.row_number().over(partition_by=group, order_by=order)
        columns.append(first.label("rank_in_group"))
    statement = select(*columns).select_from(ArticleVersion).join(Article, Article.id == ArticleVersion.article_id)
    if shown:
        statement = statement.join(Url, Url.id == Article.url_id)
    if outlets:
        statement = statement.outerjoin(Outlet, Outlet.id == Article.outlet_id)
    if shown or collapse_reprints:
        statement = statement.outerjoin(signatures, signatures.c.article_id == Article.id)
    if query.text is not None:
        statement = statement.where(ArticleVersion.id.in_(_text_matches(session, query, postgres)))
    for condition in query.filters:
        statement = statement.where(_filter(condition, day))
    if not all_versions:
        newer = aliased(ArticleVersion)
        newest = (
            select(newer.id)
            .where(newer.article_id == ArticleVersion.article_id)
            .order_by(newer.first_seen_at.desc(), newer.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        statement = statement.where(ArticleVersion.id == newest)
    if collapse_reprints:
        ranked = statement.subquery()
        return select(*(c for c in ranked.c if c.name != "rank_in_group")).where(ranked.c.rank_in_group == 1)
    return statement


def _text_matches(session: Session, query: Query, postgres: bool) -> Select[Any]:
    """The ids of the versions whose words match, from the index."""
    if not postgres:
        match = literal_column(SEARCH_TABLE).op("MATCH")(bindparam("fts_match", query.fts5()))
        return select(_FTS.c.rowid).where(match)
    tsquery = query.tsquery()
    configs = _configs(session)
    live = [c for c in configs if session.scalar(select(func.numnode(func.to_tsquery(cast(c, REGCONFIG), tsquery))))]
    if configs and not live:
        raise QueryError(f"the query holds only words too common to search for (stop words): {query.source}")
    documents = search_documents.c
    return select(documents.version_id).where(
        or_(
            false(),
            *(
                and_(documents.config == c, documents.document.op("@@")(func.to_tsquery(cast(c, REGCONFIG), tsquery)))
                for c in live
            ),
        )
    )


def _configs(session: Session) -> list[str]:
    """The text search configurations the index uses (a skip scan of its index on them: a few lookups)."""
    return list(
        session.scalars(
            text(
                f"WITH RECURSIVE c(config) AS (SELECT min(config) FROM {SEARCH_TABLE} UNION ALL "
                f"SELECT (SELECT min(config) FROM {SEARCH_TABLE} WHERE config > c.config) FROM c "
                "WHERE c.config IS NOT NULL) SELECT config FROM c WHERE config IS NOT NULL"
            )
        )
    )


def _day(postgres: bool) -> ColumnElement[str]:
    captured = (
        func.to_char(Article.first_seen_at, "YYYY-MM-DD")
        if postgres
        else func.substr(cast(Article.first_seen_at, String), 1, 10)
    )
    return func.coalesce(Article.published, Article.listed_published, captured)


def _filter(condition: Filter, day: ColumnElement[str]) -> ColumnElement[bool]:
    if condition.name == "outlet":
        test = func.lower(Outlet.name).in_(condition.values)
    elif condition.name == "language":
        language = func.lower(ArticleVersion.language)
        test = or_(language.in_(condition.values), *(language.like(f"{v}-%") for v in condition.values))
    else:
        bounds = []
        if condition.low:
            bounds.append(day >= condition.low)
        if condition.high:
            bounds.append(day <= condition.high)
        test = and_(*bounds) if bounds else day.is_not(None)
    return func.coalesce(not_(test), True) if condition.negated else test


def _with_snippets(session: Session, query: Query, rows: list[Any], marks: tuple[str, str]) -> Iterator[Match]:
    if not rows:
        return
    ids = [row.version_id for row in rows]
    snippets = _snippets(session, query, ids, marks)
    for row in rows:
        yield Match(
            row.article_id,
            row.version_id,
            row.url,
            row.outlet,
            row.day,
            row.first_seen,
            row.title,
            row.author,
            row.language,
            row.group_id if row.group_id not in (None, row.article_id) else None,
            snippets.get(row.version_id, ""),
        )


def _snippets(session: Session, query: Query, ids: list[int], marks: tuple[str, str]) -> dict[int, str]:
    """Snippets of these versions' texts around the query's words (their openings, for a query without words)."""
    if query.text is None:
        lead = func.substr(ArticleVersion.text, 1, 200)
        return dict(session.execute(select(ArticleVersion.id, lead).where(ArticleVersion.id.in_(ids))).all())
    if session.get_bind().dialect.name != "postgresql":
        snippet = func.snippet(literal_column(SEARCH_TABLE), -1, marks[0], marks[1], "…", SNIPPET_WORDS)
        match = literal_column(SEARCH_TABLE).op("MATCH")(bindparam("fts_match", query.fts5()))
        return dict(session.execute(select(_FTS.c.rowid, snippet).where(match, _FTS.c.rowid.in_(ids))).all())
    documents = search_documents.c
    config = cast(documents.config, REGCONFIG)
    options = f"StartSel={marks[0]}, StopSel={marks[1]}, MaxWords={SNIPPET_WORDS}, MinWords=8, MaxFragments=2"
    headline = func.ts_headline(config, ArticleVersion.text, func.to_tsquery(config, query.tsquery()), options)
    return dict(
        session.execute(
            select(ArticleVersion.id, headline)
            .join(search_documents, documents.version_id == ArticleVersion.id)
            .where(ArticleVersion.id.in_(ids))
        ).all()
    )
