"""Answering a parsed query (:mod:`archive.search.query`) from the full-text index: matches, snippets, counts.

By default each article is searched in its newest version, as it reads now;
``all_versions`` searches every version (one row per matching version).
``collapse_reprints`` keeps one article per reprint group (:mod:`archive.reprints`):
the group's earliest matching capture, so a wire story printed by fifty
outlets counts once.

An article's day is the date it gives itself, else the date a feed or sitemap
gave, else the day it was first captured: ``published:`` ranges and counts
by day and week read it.

Counts are answered by the index alone (:mod:`archive.search.schema`): in
SQLite one FTS5 ``MATCH`` that holds the filters as words of the ``facts``
column, in PostgreSQL one match of the GIN index that holds them as lexemes of
the documents (a phrase by its pairs of words, so no document is read to check
the words' order); the archive's own tables are read only for the page of
matches shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY
from sqlalchemy.orm import Session

from archive.db.models import Article, ArticleVersion, Outlet, Url
from archive.search.query import Filter, Query, QueryError
from archive.search.schema import (
    SEARCH_TABLE,
    UNPAIRED,
    day_tokens,
    facts,
    language_token,
    newest_documents,
    search_documents,
    signatures,
)

__all__ = [
    "COUNT_BY",
    "SEARCH_COLUMNS",
    "Match",
    "attention",
    "count_by",
    "count_matches",
    "matching_articles",
    "search",
]

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
#: PostgreSQL's settings for a statement over the index: memory for a count's bitmap (above it the bitmap turns
#: lossy and every matching row is read again); no JIT compilation (tens of milliseconds for a plan run once); no
#: sequential scan of the index table: its rows are short, so the planner prices reading them all as cheap, but
#: testing a row's document means fetching it out of line and decompressing it (110 ms for 10,000 versions, where
#: the GIN index answers in 2).
_PG_SETTINGS = {"work_mem": "64MB", "jit": "off", "enable_seqscan": "off"}
_PG_SETTINGS_SWAP = text(
    "WITH before AS MATERIALIZED (SELECT "
    + ", ".join(f"current_setting('{name}') AS {name}" for name in _PG_SETTINGS)
    + ") SELECT before.*, "
    + ", ".join(f"set_config('{name}', '{value}', true)" for name, value in _PG_SETTINGS.items())
    + " FROM before"
)
_FTS = table(SEARCH_TABLE, column("rowid"))
#: A facts word no version has (outlet ids start at 1): the filter of an outlet name no outlet has.
_NOTHING = "o0"
_ISO_DAY = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


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
    page = (
        select(
            matched.c.article_id,
            matched.c.version_id,
            matched.c.day,
            Url.url,
            Outlet.name.label("outlet"),
            ArticleVersion.first_seen_at.label("first_seen"),
            ArticleVersion.title,
            ArticleVersion.author,
            ArticleVersion.language,
            signatures.c.group_id,
        )
        .select_from(matched)
        .join(ArticleVersion, ArticleVersion.id == matched.c.version_id)
        .join(Article, Article.id == matched.c.article_id)
        .join(Url, Url.id == Article.url_id)
        .outerjoin(Outlet, Outlet.id == matched.c.outlet_id)
        .outerjoin(signatures, signatures.c.article_id == matched.c.article_id)
        .order_by(ArticleVersion.first_seen_at.desc(), matched.c.version_id.desc())
        .offset(offset)
    )
    if limit is not None:
        page = page.limit(limit)
    batch: list[Any] = []
    with _index_plan(session):
        rows = session.execute(page).yield_per(500)
    for row in rows:
        batch.append(row)
        if len(batch) == 500:
            yield from _with_snippets(session, query, batch, marks)
            batch = []
    yield from _with_snippets(session, query, batch, marks)


def count_matches(session: Session, query: Query, all_versions: bool = False, collapse_reprints: bool = False) -> int:
    """How many articles (or versions, with ``all_versions``) match."""
    if collapse_reprints:
        matched = _matched(session, query, all_versions, collapse_reprints).subquery()
        statement = select(func.count()).select_from(matched)
    elif _postgres(session):
        documents = _pg_documents(all_versions)
        statement = select(func.count()).select_from(documents).where(*_pg_conditions(session, query, documents))
    else:
        statement = select(func.count()).select_from(_FTS).where(_matches(_fts5_match(session, query, all_versions)))
    with _index_plan(session):
        return session.scalar(statement) or 0


def count_by(
    session: Session, query: Query, by: str, all_versions: bool = False, collapse_reprints: bool = False
) -> list[tuple[str, int]]:
    """Matches counted by outlet (most first), by day or by ISO week (its Monday; in order)."""
    if by not in COUNT_BY:
        raise ValueError(f"cannot count by {by!r} (known: {', '.join(COUNT_BY)})")
    if by == "outlet":
        counts = Counter[str]()
        for _, outlet, n in _grouped(session, query, all_versions, collapse_reprints, by_day=False):
            counts[outlet or ""] += n
        return sorted(counts.items(), key=lambda c: (-c[1], c[0]))
    days = Counter[str]()
    for day, _, n in _grouped(session, query, all_versions, collapse_reprints, by_outlet=False):
        days[day] += n
    if by == "day":
        return sorted(days.items())
    weeks: Counter[str] = Counter()
    for day, n in days.items():
        try:
            moment = date.fromisoformat(day)
        except ValueError:  # a page's own date that is not a day: counted apart
            weeks[day] += n
            continue
        weeks[(moment - timedelta(days=moment.weekday())).isoformat()] += n
    return sorted(weeks.items())


def attention(
    session: Session, query: Query, all_versions: bool = False, collapse_reprints: bool = False
) -> list[tuple[str, str | None, int]]:
    """Matches per day per outlet: ``(day, outlet name or None, articles)``, by day then outlet."""
    rows = _grouped(session, query, all_versions, collapse_reprints)
    return sorted(rows, key=lambda r: (r[0], r[1] or ""))


def matching_articles(session: Session, query: Query, all_versions: bool = True) -> set[int]:
    """The ids of the articles matching, in any version by default (a story keeps an article that ever matched)."""
    matched = _matched(session, query, all_versions, collapse_reprints=False).subquery()
    with _index_plan(session):
        return set(session.scalars(select(matched.c.article_id).distinct()))


def _grouped(
    session: Session,
    query: Query,
    all_versions: bool,
    collapse_reprints: bool,
    by_day: bool = True,
    by_outlet: bool = True,
) -> list[tuple[str, str | None, int]]:
    """Matches counted by day and outlet (either may be left out: ``""`` / None), outlets named."""
    matched = _matched(session, query, all_versions, collapse_reprints).subquery()
    keys = ([matched.c.day] if by_day else []) + ([matched.c.outlet_id] if by_outlet else [])
    with _index_plan(session):
        grouped = session.execute(select(*keys, func.count()).group_by(*keys)).all()
    counts = [(row[0] if by_day else "", row[-2] if by_outlet else None, row[-1]) for row in grouped]
    ids = {outlet_id for _, outlet_id, _ in counts if outlet_id is not None}
    names = dict(session.execute(select(Outlet.id, Outlet.name).where(Outlet.id.in_(ids))).all()) if ids else {}
    return [(day, names.get(outlet_id) if outlet_id is not None else None, n) for day, outlet_id, n in counts]


def _matched(session: Session, query: Query, all_versions: bool, collapse_reprints: bool) -> Select[Any]:
    """The matching versions with their facts (``version_id``, ``article_id``, ``outlet_id``, ``day``), read from
    the index; with ``collapse_reprints``, only each reprint group's earliest."""
    if _postgres(session):
        documents = _pg_documents(all_versions)
        found = documents.c
        statement = select(found.version_id, found.article_id, found.outlet_id, found.day).where(
            *_pg_conditions(session, query, documents)
        )
    else:
        found = facts.c
        statement = (
            select(found.version_id, found.article_id, found.outlet_id, found.day)
            .select_from(_FTS)
            .join(facts, found.version_id == _FTS.c.rowid)
            .where(_matches(_fts5_match(session, query, all_versions)))
        )
    if not collapse_reprints:
        return statement
    matched = statement.subquery()
    group = func.coalesce(signatures.c.group_id, matched.c.article_id)
    order = (Article.first_seen_at, Article.id, matched.c.version_id)
    ranked = (
        select(matched, func.row_number().over(partition_by=group, order_by=order).label("rank_in_group"))
        .join(Article, Article.id == matched.c.article_id)
        .outerjoin(signatures, signatures.c.article_id == matched.c.article_id)
        .subquery()
    )
    return select(ranked.c.version_id, ranked.c.article_id, ranked.c.outlet_id, ranked.c.day).where(
        ranked.c.rank_in_group == 1
    )


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@contextmanager
def _index_plan(session: Session) -> Iterator[None]:
    """On PostgreSQL, :data:`_PG_SETTINGS` for the statement run inside, and the caller's own values back after
    it (a failed statement's transaction discards them anyway)."""
    if not _postgres(session):
        yield
        return
    # one statement reads the caller's values and sets these, one puts them back: a count takes a few
    # milliseconds; the settings read are materialized, so they are read before any is set
    before = session.execute(_PG_SETTINGS_SWAP).one()[: len(_PG_SETTINGS)]
    yield
    session.execute(select(*(func.set_config(n, v, True) for n, v in zip(_PG_SETTINGS, before, strict=True))))


def _matches(expression: str) -> ColumnElement[bool]:
    return literal_column(SEARCH_TABLE).op("MATCH")(bindparam("fts_match", expression))


def _fts5_match(session: Session, query: Query, all_versions: bool) -> str:
    """One FTS5 expression: the words in the text columns, the filters as words of the facts column."""
    positive = [] if query.text is None else [query.fts5() or ""]
    if not all_versions:
        positive.append('{facts} : ("newest")')
    wanted, unwanted = _fact_groups(session, query)
    positive += [_any_fact(tokens) for tokens in wanted]
    if not positive:  # only excluding filters, over every version (the parser refuses the rest)
        positive.append(_any_fact([_NOTHING]))
    expression = "(" + " AND ".join(positive) + ")"
    for tokens in unwanted:
        expression = f"({expression} NOT {_any_fact(tokens)})"
    return expression


def _fact_groups(session: Session, query: Query) -> tuple[list[list[str]], list[list[str]]]:
    """The filters as facts words: a version passes when it has a word of each wanted group and no word of any
    unwanted one."""
    wanted, unwanted = [], []
    for condition in query.filters:
        tokens = _fact_words(session, condition)
        if condition.negated:
            if tokens:
                unwanted.append(tokens)
        else:
            wanted.append(tokens or [_NOTHING])
    return wanted, unwanted


def _any_fact(tokens: list[str]) -> str:
    return "{facts} : (" + " OR ".join(f'"{t}"' for t in tokens) + ")"


def _fact_words(session: Session, condition: Filter) -> list[str]:
    """The facts words any of which a version has when it passes the filter (not yet negated)."""
    if condition.name == "outlet":
        return [f"o{i}" for i in _outlet_ids(session, condition.values)]
    if condition.name == "language":
        return sorted({f"l{language_token(v)}" for v in condition.values if language_token(v)})
    low, high = condition.low, condition.high
    if low is None or high is None:  # an open range: it ends where the index's days end
        if _postgres(session):
            day = search_documents.c.day
            days = select(func.min(day), func.max(day)).where(day.op("~")(f"^{_ISO_DAY}$"))
        else:
            days = select(func.min(facts.c.day), func.max(facts.c.day)).where(facts.c.day.op("GLOB")(_ISO_DAY))
        first, last = session.execute(days).one()
        if first is None:
            return []
        low, high = low or first, high or last
    try:
        return _range_words(date.fromisoformat(low), date.fromisoformat(high))
    except ValueError:  # the index's first or last day is no day of the calendar (a page's own date: 2019-02-30)
        return _range_words(date(int(low[:4]), 1, 1), date(int(high[:4]), 12, 31))


def _range_words(low: date, high: date) -> list[str]:
    """Fewest year, month and day words that cover ``[low, high]`` exactly."""
    words: list[str] = []
    day = low
    while day <= high:
        year_end = date(day.year, 12, 31)
        next_month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if day.month == 1 and day.day == 1 and year_end <= high:
            words.append(day_tokens(day.isoformat())[0])
            day = year_end + timedelta(days=1)
        elif day.day == 1 and next_month - timedelta(days=1) <= high:
            words.append(day_tokens(day.isoformat())[1])
            day = next_month
        else:
            words.append(day_tokens(day.isoformat())[2])
            day += timedelta(days=1)
        if day.year == 9999:  # date's end
            break
    return words


def _outlet_ids(session: Session, names: tuple[str, ...]) -> list[int]:
    return list(session.scalars(select(Outlet.id).where(func.lower(Outlet.name).in_(names)).order_by(Outlet.id)))


def _pg_documents(all_versions: bool) -> Table:
    """PostgreSQL's index table, or its partition of the newest versions (:mod:`archive.search.schema`)."""
    return search_documents if all_versions else newest_documents


def _pg_conditions(session: Session, query: Query, documents: Table) -> list[ColumnElement[bool]]:
    """The WHERE conditions on PostgreSQL's index table or partition ``documents``: the words and the filters'
    facts in one match of its GIN index (:mod:`archive.search.schema`)."""
    facts_query = _pg_facts(session, query)
    conditions: list[ColumnElement[bool]] = []
    if query.text is not None:
        readings = _readings(session, query)
        by_config = _pg_matches(query, readings, facts_query, documents.c.document)
        if readings and not by_config:
            raise QueryError(f"the query holds only words too common to search for (stop words): {query.source}")
        if len(readings) == len(by_config) == 1:  # one language in the whole index: no condition on it to weigh
            conditions.extend(by_config.values())
        else:
            conditions.append(or_(false(), *(and_(documents.c.config == c, m) for c, m in by_config.items())))
    elif facts_query is not None:
        conditions.append(documents.c.document.op("@@")(cast(literal(facts_query), TSQUERY)))
    return conditions


def _pg_facts(session: Session, query: Query) -> str | None:
    """The filters as a ``tsquery`` of the documents' fact lexemes (None for a query without filters)."""
    wanted, unwanted = _fact_groups(session, query)
    parts = ["(" + " | ".join(f"' {t}'" for t in tokens) + ")" for tokens in wanted]
    parts += ["!(" + " | ".join(f"' {t}'" for t in tokens) + ")" for tokens in unwanted]
    return " & ".join(parts) or None


def _pg_matches(
    query: Query, readings: dict[str, _Reading], facts_query: str | None, documents: ColumnElement[Any]
) -> dict[str, ColumnElement[bool]]:
    """The condition on the documents of each configuration in which the words leave something to look for,
    the filters' ``facts_query`` ANDed to it.

    A query with a phrase whose words are each one lexeme there is answered by its pairs of words
    (:meth:`~archive.search.query.Query.paired_tsqueries`) in the documents that hold them, and by positions in
    the few too long to (those with :data:`~archive.search.schema.UNPAIRED`): two conditions the GIN index
    answers apart, so the first never reads a document. Any other is ``to_tsquery`` 's (which drops stop words,
    inside phrases too)."""
    matches: dict[str, ColumnElement[bool]] = {}
    for config, reading in readings.items():
        paired = None
        if len(reading.lexemes) == len(query.tokens()):
            paired = query.paired_tsqueries(reading.lexemes, UNPAIRED)
        if paired is not None:
            tsqueries = [f"({q}) & {facts_query}" if facts_query else q for q in paired]
            matches[config] = or_(*(documents.op("@@")(cast(literal(q), TSQUERY)) for q in tsqueries))
        elif reading.nodes:
            normalized = func.to_tsquery(cast(config, REGCONFIG), query.tsquery())
            if facts_query:
                normalized = normalized.op("&&")(cast(literal(facts_query), TSQUERY))
            matches[config] = documents.op("@@")(normalized)
    return matches


@dataclass(frozen=True)
class _Reading:
    """How one text search configuration reads a query's words."""

    #: The tokens that are one lexeme there, with it (a stop word is none).
    lexemes: dict[str, str]
    #: The nodes of ``to_tsquery`` 's reading of the whole query: none when only stop words are left.
    nodes: int


def _readings(session: Session, query: Query) -> dict[str, _Reading]:
    """How each text search configuration the index uses reads the query's words, in one statement (a count
    takes a few milliseconds, a round trip a fraction of one): the configurations by a skip scan of the index
    on them (a few lookups), each token's lexemes, and ``to_tsquery`` 's reading of the whole query."""
    found: dict[tuple[str, str], list[tuple[str, list[int]]]] = {}
    nodes: dict[str, int] = {}
    rows = session.execute(
        text(
            f"WITH RECURSIVE c(config) AS (SELECT min(config) FROM {SEARCH_TABLE} UNION ALL "
            f"SELECT (SELECT min(config) FROM {SEARCH_TABLE} WHERE config > c.config) FROM c "
            "WHERE c.config IS NOT NULL) "
            "SELECT c.config, numnode(to_tsquery(CAST(c.config AS regconfig), :tsquery)), t.token, u.lexeme, "
            "u.positions FROM c LEFT JOIN LATERAL unnest(CAST(:tokens AS text[])) t(token) ON true "
            "LEFT JOIN LATERAL unnest(to_tsvector(CAST(c.config AS regconfig), t.token)) u ON true "
            "WHERE c.config IS NOT NULL"
        ),
        {"tsquery": query.tsquery(), "tokens": sorted(query.tokens())},
    )
    for config, count, token, lexeme, positions in rows:
        nodes[config] = count
        if lexeme is not None:
            found.setdefault((config, token), []).append((lexeme, list(positions)))
    return {
        config: _Reading(
            {
                token: entries[0][0]
                for token in query.tokens()
                if len(entries := found.get((config, token), [])) == 1 and entries[0][1] == [1]
            },
            count,
        )
        for config, count in sorted(nodes.items())
    }


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
