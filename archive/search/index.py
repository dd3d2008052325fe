"""Keeping the full-text index (:mod:`archive.search.schema`) current with the article versions.

The indexer calls :func:`index_versions` with the versions a batch created,
inside the batch's transaction, and :func:`unindex_versions` before it
deletes a version (SQLite's external-content index forgets a row by being
told its old values, so they must still be there). ``newsarchive reindex``
and the migration that made the index call :func:`reindex_all`; a rebuild of
the database from the WARCs empties it first with :func:`clear_search_index`.

A version is indexed once (asking again does nothing): its headline, byline
and text never change after it is written (a different text is a new version).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, bindparam, text

from archive.search.schema import LANGUAGE_CONFIGS, SEARCH_TABLE

__all__ = ["MAX_INDEXED_TEXT", "clear_search_index", "index_versions", "reindex_all", "unindex_versions"]

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
_PG_ROWS = (
    "SELECT v.id, c.config, "
    "setweight(to_tsvector(CAST(c.config AS regconfig), coalesce(v.title, '')), 'A') || "
    "setweight(to_tsvector(CAST(c.config AS regconfig), coalesce(v.author, '')), 'B') || "
    f"setweight(to_tsvector(CAST(c.config AS regconfig), left(v.text, {MAX_INDEXED_TEXT})), 'D') "
    f"FROM article_versions v CROSS JOIN LATERAL (SELECT {_CONFIG} AS config) c"
)


def index_versions(connection: Connection, version_ids: Iterable[int]) -> None:
    """Add versions to the index, in the transaction that inserted them; versions already indexed are skipped."""
    for chunk in _chunks(version_ids):
        if connection.dialect.name == "postgresql":
            connection.execute(
                text(
                    f"INSERT INTO {SEARCH_TABLE} (version_id, config, document) {_PG_ROWS} WHERE v.id = ANY(:ids) "
                    "ON CONFLICT (version_id) DO NOTHING"
                ),
                {"ids": chunk},
            )
        elif chunk := _not_indexed(connection, chunk):
            connection.execute(
                text(
                    f"INSERT INTO {SEARCH_TABLE} (rowid, title, author, text) "
                    "SELECT id, title, author, text FROM article_versions WHERE id IN :ids"
                ).bindparams(_IDS),
                {"ids": chunk},
            )


def unindex_versions(connection: Connection, version_ids: Iterable[int]) -> None:
    """Take versions out of the index; call it before deleting their rows."""
    for chunk in _chunks(version_ids):
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"DELETE FROM {SEARCH_TABLE} WHERE version_id = ANY(:ids)"), {"ids": chunk})
        else:
            indexed = sorted(set(chunk) - set(_not_indexed(connection, chunk)))
            if indexed:
                connection.execute(
                    text(
                        f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, title, author, text) "
                        "SELECT 'delete', id, title, author, text FROM article_versions WHERE id IN :ids"
                    ).bindparams(_IDS),
                    {"ids": indexed},
                )


def clear_search_index(connection: Connection) -> None:
    """Empty the index, before the versions it indexes are deleted for a rebuild."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"TRUNCATE {SEARCH_TABLE}"))
    else:
        connection.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('delete-all')"))


def reindex_all(connection: Connection) -> None:
    """Index every version afresh (the index is made again from the versions, whatever it held)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"TRUNCATE {SEARCH_TABLE}"))
        connection.execute(text(f"INSERT INTO {SEARCH_TABLE} (version_id, config, document) {_PG_ROWS}"))
        connection.execute(text(f"ANALYZE {SEARCH_TABLE}"))
    else:
        connection.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('rebuild')"))
        connection.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('optimize')"))


def _not_indexed(connection: Connection, chunk: list[int]) -> list[int]:
    """The ids FTS5 holds no row for: its ``_docsize`` shadow table has one per indexed row (FTS5's own format).
    Telling FTS5 to forget a row it never held, or to index one twice, would corrupt its counts."""
    indexed = set(
        connection.scalars(
            text(f"SELECT id FROM {SEARCH_TABLE}_docsize WHERE id IN :ids").bindparams(_IDS), {"ids": chunk}
        )
    )
    return [i for i in chunk if i not in indexed]


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    chunk: list[int] = []
    for version_id in ids:
        chunk.append(int(version_id))
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
