"""Keeping the full-text index (:mod:`archive.search.schema`) current with the article versions and their facts.

The indexer calls :func:`index_versions` with the versions a batch created,
inside the batch's transaction; :func:`refresh_articles` with the articles
whose facts may have changed otherwise (a feed gave a date, a capture moved
a version's first sighting, a version was deleted); and
:func:`unindex_versions` before it deletes a version (SQLite's external-content
index forgets a row by being told its old values, so they must still be
there). ``newsarchive reindex`` and the migration that made the index call
:func:`reindex_all`; a rebuild of the database from the WARCs empties it first
with :func:`clear_search_index`.

A version is indexed once (asking again does nothing): its headline, byline
and text never change after it is written (a different text is a new
version). Its facts do: when an article gains a version, the one that was
newest is no longer, so every call recomputes the facts of the articles it
touches, and rewrites the rows whose facts changed (in SQLite, the row is taken
out of FTS5 with the facts it was indexed with and put back with the new ones).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, text

from archive.search.schema import (
    CONTENT_VIEW,
    FACTS_TABLE,
    LANGUAGE_CONFIGS,
    PADDING_BYTES,
    SEARCH_TABLE,
    UNPAIRED,
    fact_tokens,
    search_documents,
)

__all__ = [
    "MAX_INDEXED_TEXT",
    "clear_search_index",
    "index_versions",
    "refresh_articles",
    "reindex_all",
    "unindex_versions",
]

#: Characters of a version's text that PostgreSQL indexes: a ``tsvector`` holds at most 1 MB.
MAX_INDEXED_TEXT = 300_000
#: Ids per statement (SQLite binds at most 32,766 parameters).
_CHUNK = 500
_IDS = bindparam("ids", expanding=True)

_CONFIG = (
    "CASE split_part(lower(v.language), '-', 1) "
    + " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in sorted(LANGUAGE_CONFIGS.items()))
    + " ELSE 'simple' END"
)
_PG_WORDS = (
    "setweight(to_tsvector(CAST(c.config AS regconfig), coalesce(v.title, '')), 'A') || "
    "setweight(to_tsvector(CAST(c.config AS regconfig), coalesce(v.author, '')), 'B') || "
    f"setweight(to_tsvector(CAST(c.config AS regconfig), left(v.text, {MAX_INDEXED_TEXT})), 'D')"
)
#: Bytes of text above which a version gets the :data:`~archive.search.schema.UNPAIRED` lexeme instead of its
#: word pairs: its words and pairs then stay under the 1 MB a ``tsvector`` holds (a pair is two words and two spaces).
_PAIRED_BYTES = 250_000
#: The lexemes of words next to each other (positions p and p + 1, as ``<->`` reads them), without positions:
#: the document's lexemes in the order of their positions, paired where two positions follow each other.
_PG_PAIRS = (
    "CASE WHEN octet_length(coalesce(v.title, '')) + octet_length(coalesce(v.author, '')) "
    f"+ octet_length(left(v.text, {MAX_INDEXED_TEXT})) > {_PAIRED_BYTES} "
    f"THEN array_to_tsvector(ARRAY['{UNPAIRED}']) ELSE coalesce((SELECT array_to_tsvector(array_agg("
    "' ' || s.lexemes[i] || ' ' || s.lexemes[i + 1])) FROM (SELECT array_agg(lexeme ORDER BY at) AS lexemes, "
    "array_agg(at ORDER BY at) AS positions FROM (SELECT lexeme, unnest(positions) AS at FROM unnest(w.words)) u) s, "
    "generate_subscripts(s.positions, 1) i WHERE s.positions[i + 1] = s.positions[i] + 1), '') END"
)
_ISO_DAY = "'^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"


def _pg_fact_lexemes(row: str) -> str:
    """SQL for the ``text[]`` of the fact lexemes of the facts in ``row`` 's columns: :func:`fact_tokens`'
    words but ``newest``, each after a space (:mod:`archive.search.schema`)."""
    day = f"{row}.day"
    language = "regexp_replace({}, '[^a-z0-9]+', '', 'g')"
    base, whole = language.format(f"split_part({row}.language, '-', 1)"), language.format(f"{row}.language")
    return (
        f"array_remove(ARRAY[' o' || {row}.outlet_id, "
        + ", ".join(
            f"CASE WHEN {day} ~ {_ISO_DAY} THEN {value} END"
            for value in (
                f"' y' || substr({day}, 1, 4)",
                f"' m' || substr({day}, 1, 4) || substr({day}, 6, 2)",
                f"' d' || replace({day}, '-', '')",
            )
        )
        + f", CASE WHEN {base} <> '' THEN ' l' || {base} END, CASE WHEN {whole} <> '' THEN ' l' || {whole} END], NULL)"
    )


#: Each version's document, made from its row ``v``, its facts' row ``f`` and text search configuration ``c.config``.
_PG_DOCUMENT = f"w.words || {_PG_PAIRS} || array_to_tsvector({_pg_fact_lexemes('f')})"
#: What the statements building documents join to the versions and their facts: their configuration, their words,
#: their document (``d.document``) and its padding (``d.padding``, :mod:`archive.search.schema`).
_PG_LATERAL = (
    f"CROSS JOIN LATERAL (SELECT {_CONFIG} AS config) c CROSS JOIN LATERAL (SELECT {_PG_WORDS} AS words) w "
    f"CROSS JOIN LATERAL (SELECT {_PG_DOCUMENT} AS document) e CROSS JOIN LATERAL (SELECT e.document, "
    f"CASE WHEN pg_column_size(e.document) < {PADDING_BYTES} THEN repeat(' ', {PADDING_BYTES}) END AS padding) d"
)
_FACT_COLUMNS = "article_id, outlet_id, day, language, newest"
_PG_DOCUMENTS_INDEX = "ix_article_search_document"
#: Memory for building the GIN index in one go (PostgreSQL's default, 64 MB, makes it spill and merge).
_PG_BUILD_MEMORY = "256MB"


def _facts_query(dialect: str, where: str) -> str:
    """Each version's facts (:data:`archive.search.schema.FACTS`) for the versions of the articles ``where``
    selects (newest: the latest first sighting, as everywhere an article is shown as it reads now)."""
    captured = (
        "to_char(a.first_seen_at, 'YYYY-MM-DD')"
        if dialect == "postgresql"
        else "substr(CAST(a.first_seen_at AS TEXT), 1, 10)"
    )
    return (
        "SELECT v.id AS version_id, v.article_id, a.outlet_id, "
        f"coalesce(a.published, a.listed_published, {captured}) AS day, lower(v.language) AS language, "
        "row_number() OVER (PARTITION BY v.article_id ORDER BY v.first_seen_at DESC, v.id DESC) = 1 AS newest "
        f"FROM article_versions v JOIN articles a ON a.id = v.article_id WHERE {where}"
    )


#: The documents of the versions ``ids`` not indexed yet, with their facts (``articles``: theirs, whose every version
#: the facts read), in day order (see :func:`reindex_all`). The table's key holds ``newest`` (its partition key), so
#: a version already indexed is looked for by its id, in both partitions.
_PG_INSERT = text(
    f"INSERT INTO {SEARCH_TABLE} (version_id, config, document, padding, {_FACT_COLUMNS}) "
    f"SELECT f.version_id, c.config, d.document, d.padding, f.{_FACT_COLUMNS.replace(', ', ', f.')} "
    f"FROM ({_facts_query('postgresql', 'v.article_id = ANY(:articles)')}) f "
    f"JOIN article_versions v ON v.id = f.version_id {_PG_LATERAL} WHERE v.id = ANY(:ids) "
    f"AND NOT EXISTS (SELECT FROM {SEARCH_TABLE} s WHERE s.version_id = v.id) ORDER BY f.day, f.version_id"
)


def index_versions(connection: Connection, version_ids: Iterable[int]) -> None:
    """Add versions to the index, in the transaction that inserted them; versions already indexed are skipped.
    The facts of their articles' other versions are brought up to date too (the newest one changed)."""
    for chunk in _chunks(version_ids):
        articles = _articles_of(connection, chunk)
        if connection.dialect.name == "postgresql":
            connection.execute(_PG_INSERT, {"ids": chunk, "articles": articles})
        else:
            rows = _sqlite_facts(connection, articles)
            indexed = _sqlite_indexed(connection, [row["version_id"] for row in rows])
            wanted = set(chunk)
            new = [row for row in rows if row["version_id"] in wanted and row["version_id"] not in indexed]
            if new:
                connection.execute(
                    text(
                        f"INSERT INTO {FACTS_TABLE} (version_id, {_FACT_COLUMNS}, tokens) "
                        f"VALUES (:version_id, :{_FACT_COLUMNS.replace(', ', ', :')}, :tokens)"
                    ),
                    new,
                )
                _sqlite_fts(connection, [row["version_id"] for row in new], delete=False)
            _sqlite_rewrite(connection, [row for row in rows if row["version_id"] in indexed], indexed)
        if connection.dialect.name == "postgresql":
            _pg_refresh(connection, articles)


def refresh_articles(connection: Connection, article_ids: Iterable[int]) -> None:
    """Bring the facts of these articles' indexed versions up to date (their day, outlet, which is newest)."""
    for chunk in _chunks(article_ids):
        if connection.dialect.name == "postgresql":
            _pg_refresh(connection, chunk)
        else:
            rows = _sqlite_facts(connection, chunk)
            _sqlite_rewrite(connection, rows, _sqlite_indexed(connection, [row["version_id"] for row in rows]))


def unindex_versions(connection: Connection, version_ids: Iterable[int]) -> None:
    """Take versions out of the index; call it before deleting their rows, and :func:`refresh_articles`
    after (another version of the article may have become its newest)."""
    for chunk in _chunks(version_ids):
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"DELETE FROM {SEARCH_TABLE} WHERE version_id = ANY(:ids)"), {"ids": chunk})
        else:
            indexed = sorted(_sqlite_indexed(connection, chunk))
            if indexed:
                _sqlite_fts(connection, indexed, delete=True)
                connection.execute(
                    text(f"DELETE FROM {FACTS_TABLE} WHERE version_id IN :ids").bindparams(_IDS), {"ids": indexed}
                )


def clear_search_index(connection: Connection) -> None:
    """Empty the index, before the versions it indexes are deleted for a rebuild."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"TRUNCATE {SEARCH_TABLE}"))
    else:
        connection.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('delete-all')"))
        connection.execute(text(f"DELETE FROM {FACTS_TABLE}"))


def reindex_all(connection: Connection) -> None:
    """Index every version afresh (the index is made again from the versions, whatever it held).

    In PostgreSQL the rows go in in the order of their day, as an archive indexed while it is crawled
    roughly has them: a count visits the row of every match (GIN has no index-only scans), and a date
    range's matches then share pages, its posting lists are contiguous, and fewer of both are read (a
    month's count at a million versions visited 1,203 pages instead of 13,704). The GIN index is built
    once they are in, several times faster than growing it row by row."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"TRUNCATE {SEARCH_TABLE}"))
        documents = next(i for i in search_documents.indexes if i.name == _PG_DOCUMENTS_INDEX)
        documents.drop(connection)
        in_order = connection.scalars(
            text(f"SELECT f.version_id FROM ({_facts_query('postgresql', 'true')}) f ORDER BY f.day, f.version_id")
        ).all()
        for chunk in _chunks(in_order):
            connection.execute(_PG_INSERT, {"ids": chunk, "articles": _articles_of(connection, chunk)})
        connection.execute(text(f"SET LOCAL maintenance_work_mem = '{_PG_BUILD_MEMORY}'"))
        documents.create(connection)
        connection.execute(text("RESET maintenance_work_mem"))
        connection.execute(text(f"ANALYZE {SEARCH_TABLE}"))
        return
    connection.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('delete-all')"))
    connection.execute(text(f"DELETE FROM {FACTS_TABLE}"))
    result = connection.execute(text(_facts_query("sqlite", "1")).execution_options(yield_per=10_000))
    for batch in result.mappings().partitions():
        connection.execute(
            text(
                f"INSERT INTO {FACTS_TABLE} (version_id, {_FACT_COLUMNS}, tokens) "
                f"VALUES (:version_id, :{_FACT_COLUMNS.replace(', ', ', :')}, :tokens)"
            ),
            [_with_tokens(row) for row in batch],
        )
    connection.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('rebuild')"))
    connection.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('optimize')"))


def _articles_of(connection: Connection, version_ids: list[int]) -> list[int]:
    statement = text("SELECT DISTINCT article_id FROM article_versions WHERE id IN :ids").bindparams(_IDS)
    return list(connection.scalars(statement, {"ids": version_ids}))


def _pg_refresh(connection: Connection, article_ids: Sequence[int]) -> None:
    """One statement: the rows whose facts differ from what their articles say now are updated."""
    if not article_ids:
        return
    connection.execute(
        text(
            f"UPDATE {SEARCH_TABLE} s SET article_id = f.article_id, outlet_id = f.outlet_id, day = f.day, "
            "language = f.language, newest = f.newest, document = CASE WHEN (s.outlet_id, s.day, s.language) "
            f"IS DISTINCT FROM (f.outlet_id, f.day, f.language) THEN ts_delete(s.document, {_pg_fact_lexemes('s')}) "
            f"|| array_to_tsvector({_pg_fact_lexemes('f')}) ELSE s.document END "
            f"FROM ({_facts_query('postgresql', 'v.article_id = ANY(:ids)')}) f "
            # (the articles' own condition lets the planner reach their rows by index, statistics or not)
            "WHERE s.article_id = ANY(:ids) AND s.version_id = f.version_id "
            "AND (s.article_id, s.outlet_id, s.day, s.language, s.newest) "
            "IS DISTINCT FROM (f.article_id, f.outlet_id, f.day, f.language, f.newest)"
        ),
        {"ids": list(article_ids)},
    )


def _sqlite_facts(connection: Connection, article_ids: Sequence[int]) -> list[dict[str, Any]]:
    if not article_ids:
        return []
    statement = text(_facts_query("sqlite", "v.article_id IN :ids")).bindparams(_IDS)
    return [_with_tokens(row) for row in connection.execute(statement, {"ids": list(article_ids)}).mappings()]


def _with_tokens(row: Any) -> dict[str, Any]:
    values = dict(row)
    values["newest"] = bool(values["newest"])
    values["tokens"] = fact_tokens(values["outlet_id"], values["day"], values["language"], values["newest"])
    return values


def _sqlite_indexed(connection: Connection, version_ids: Sequence[int]) -> dict[int, str]:
    """The versions among these that are indexed, with the fact tokens they were indexed with."""
    if not version_ids:
        return {}
    statement = text(f"SELECT version_id, tokens FROM {FACTS_TABLE} WHERE version_id IN :ids").bindparams(_IDS)
    return dict(connection.execute(statement, {"ids": list(version_ids)}).all())


def _sqlite_rewrite(connection: Connection, rows: list[dict[str, Any]], indexed: dict[int, str]) -> None:
    """Indexed versions whose facts changed: out of FTS5 with their old tokens, back in with the new."""
    changed = [row for row in rows if row["version_id"] in indexed and indexed[row["version_id"]] != row["tokens"]]
    if not changed:
        return
    ids = [row["version_id"] for row in changed]
    _sqlite_fts(connection, ids, delete=True)
    connection.execute(
        text(
            f"UPDATE {FACTS_TABLE} SET article_id = :article_id, outlet_id = :outlet_id, day = :day, "
            "language = :language, newest = :newest, tokens = :tokens WHERE version_id = :version_id"
        ),
        changed,
    )
    _sqlite_fts(connection, ids, delete=False)


def _sqlite_fts(connection: Connection, version_ids: list[int], delete: bool) -> None:
    """Put versions into FTS5, or take them out, with the values its content view gives now."""
    command = f"{SEARCH_TABLE}, " if delete else ""
    value = "'delete', " if delete else ""
    connection.execute(
        text(
            f"INSERT INTO {SEARCH_TABLE} ({command}rowid, title, author, text, facts) "
            f"SELECT {value}id, title, author, text, facts FROM {CONTENT_VIEW} WHERE id IN :ids"
        ).bindparams(_IDS),
        {"ids": version_ids},
    )


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    chunk: list[int] = []
    for version_id in ids:
        chunk.append(int(version_id))
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
