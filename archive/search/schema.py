"""The tables search and reprint detection keep beside the archive's own: indexes over article versions.

They are derived data, like the database itself is over the WARCs: no
foreign keys tie them to the rows they index (a rebuild empties and refills
them, and no write to the archive's tables pays for checking them), and they
live in a metadata of their own, apart from :mod:`archive.db.models`.

The full-text index is ``article_search`` on both backends. In SQLite it is an
FTS5 table with external content (``content='article_versions'``): it holds
only the inverted index, reads headline, byline and text back from the
versions for ``snippet()``, and costs one index insert per new version (no
second copy of the text; versions never change once written, which external
content needs). Its tokenizer is ``porter unicode61 remove_diacritics 2``:
FTS5 has one tokenizer per table, so English suffixes are stripped from every
language's words alike, in the documents and the queries both, and accents
are folded. In PostgreSQL it is a table of ``tsvector`` s under a GIN index,
each built with the text search configuration of its article's language
(:data:`LANGUAGE_CONFIGS`, ``simple`` for others), headline weighted A, byline
B, text D (so ``title:`` and ``author:`` are weight restrictions).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, LargeBinary, MetaData, SmallInteger, String, Table
from sqlalchemy.dialects.postgresql import TSVECTOR

__all__ = [
    "FTS5_TOKENIZER",
    "LANGUAGE_CONFIGS",
    "SEARCH_TABLE",
    "bands",
    "is_search_structure",
    "metadata",
    "search_documents",
    "signatures",
]

SEARCH_TABLE = "article_search"
FTS5_TOKENIZER = "porter unicode61 remove_diacritics 2"
#: ISO 639-1 language codes and the PostgreSQL text search configuration that stems them (built into PostgreSQL 12+).
LANGUAGE_CONFIGS = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nl": "dutch",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "tr": "turkish",
}

metadata = MetaData()

#: PostgreSQL's full-text index (SQLite's is the FTS5 table of the same name, made by the migration).
search_documents = Table(
    SEARCH_TABLE,
    metadata,
    Column("version_id", BigInteger, primary_key=True, autoincrement=False),
    Column("config", String(32), nullable=False, index=True),
    Column("document", TSVECTOR, nullable=False),
    Index("ix_article_search_document", "document", postgresql_using="gin"),
)

#: One MinHash signature per article (of its first version's text), and its reprint group: the article id
#: of the group's earliest capture, the probable original (its own id when it stands alone).
signatures = Table(
    "article_signatures",
    metadata,
    Column("article_id", Integer, primary_key=True, autoincrement=False),
    Column("group_id", Integer, nullable=False, index=True),
    Column("first_seen_at", DateTime, nullable=False),
    Column("minhash", LargeBinary, nullable=False),
)

#: The LSH bands of each signature: articles sharing a band's hash are candidate near-duplicates,
#: found by the primary key's index, not by reading every signature.
bands = Table(
    "article_bands",
    metadata,
    Column("band", SmallInteger, primary_key=True, autoincrement=False),
    Column("hash", BigInteger, primary_key=True, autoincrement=False),
    Column("article_id", Integer, primary_key=True, autoincrement=False, index=True),
)

_FTS5_SHADOWS = ("data", "idx", "docsize", "config", "content")


def is_search_structure(name: str | None) -> bool:
    """Whether a table belongs to search and reprint detection (FTS5's shadow tables included), so a
    comparison of the database with :mod:`archive.db.models` can leave it out."""
    return name in metadata.tables or name in {f"{SEARCH_TABLE}_{suffix}" for suffix in _FTS5_SHADOWS}
