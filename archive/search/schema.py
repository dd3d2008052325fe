"""The tables search and reprint detection keep beside the archive's own: indexes over article versions.

They are derived data, like the database itself is over the WARCs: no
foreign keys tie them to the rows they index (a rebuild empties and refills
them, and no write to the archive's tables pays for checking them), and they
live in a metadata of their own, apart from :mod:`archive.db.models`.

The full-text index is ``article_search`` on both backends, and it holds what
counting and filtering need besides the words, so that a count never joins the
archive's tables: each version's article, outlet, day (the article's own date,
else its listed date, else the day it was first captured), language, and
whether it is its article's newest version (:data:`FACTS`). Those facts change
as an article gains versions or dates; :mod:`archive.search.index` keeps them.

In SQLite it is an FTS5 table with external content: it holds only the
inverted index, and reads headline, byline and text back from the versions
(through the view ``article_search_content``) for ``snippet()``, costing one
index insert per new version and no second copy of the text. Its fourth
column, ``facts``, indexes the facts as words (:func:`fact_tokens`:
``newest``, ``o12``, ``y2019 m201903 d20190315``, ``len``), so that filters
are merged with the words inside FTS5 (a month of a year-long archive is one
token's list, skipped through, instead of a lookup per matching version); the
words of a query are only ever looked for in the other three columns. The
facts as indexed are kept in ``article_search_facts``, since FTS5 forgets a
row only when told the values it indexed. The tokenizer is ``porter unicode61 remove_diacritics 2``:
FTS5 has one tokenizer per table, so English suffixes are stripped from every
language's words alike, in the documents and the queries both, and accents
are folded. In PostgreSQL it is a table of ``tsvector`` s under a GIN index,
each built with the text search configuration of its article's language
(:data:`LANGUAGE_CONFIGS`, ``simple`` for others), headline weighted A, byline
B, text D (so ``title:`` and ``author:`` are weight restrictions). GIN keeps no
positions and has no index-only scans, so a document also holds what lets the
index alone decide a match, each as a lexeme after a space (no word and no
``prefix*`` matches it), without positions:

- the facts that filters test (:func:`fact_tokens`' words but ``newest``:
  `` o12``, `` y2019 m201903 d20190315``, `` len``), so that a month of a
  year-long archive is one more entry of the same index scan, not a second
  index ANDed after it;
- each pair of words next to each other (`` miss opportun``): a phrase found
  by its words alone must have every candidate's document read again to check
  their order, a phrase found by its pairs is answered by the index
  (:mod:`archive.search.results`). A document whose text is too long for its
  words and pairs to fit a ``tsvector`` holds :data:`UNPAIRED` instead, and is
  searched by positions;

Documents are read back only for what the index cannot decide alone (a
``title:`` word, a phrase in a document too long for pairs), so they live out
of line: a count must visit the row of every match to check it is visible
(GIN has no index-only scans), and short rows put hundreds of matches on a
page. PostgreSQL moves values out of a row only when the row is over about
2 kB, and short articles' documents are shorter: the ``padding`` column holds
:data:`PADDING_BYTES` spaces for them, which makes the row long enough for
PostgreSQL to compress its values and, the table's ``toast_tuple_target``
being low, to move the document out; the spaces compress to a few dozen bytes.
Without it those documents stayed in their rows, ten times longer, and a
count at a million versions read a page per match. The GIN index's pending
list (new entries not yet merged, which every query reads through) is kept
short (``gin_pending_list_limit`` 256 kB, not 4 MB): a few milliseconds per
query at most, where a full one cost 30 to 50, for a third more indexing time
than the default; without a pending list indexing took twice as long.

The facts are columns too, for counting by outlet and day and for ``newest``,
which changes whenever an article gains a version. The table is partitioned on
``newest``: ``article_search_newest`` holds each article's newest version,
``article_search_older`` the others. Researchers search the newest versions
by default, and those are read from their partition alone (its own GIN index,
rows with no filter left to test); ``all_versions`` reads the whole table.
Testing ``newest`` in each row of a count at a million versions took a
seventh of its time, and a lexeme for it in the documents cost the GIN index
more than it saved. A version that stops being its article's newest moves to
the other partition (PostgreSQL moves the row on update).
"""

from __future__ import annotations

import re

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

__all__ = [
    "CONTENT_VIEW",
    "FACTS",
    "FACTS_TABLE",
    "FTS5_TOKENIZER",
    "LANGUAGE_CONFIGS",
    "PADDING_BYTES",
    "NEWEST_PARTITION",
    "OLDER_PARTITION",
    "SEARCH_TABLE",
    "UNPAIRED",
    "bands",
    "day_tokens",
    "fact_tokens",
    "facts",
    "language_token",
    "is_search_structure",
    "metadata",
    "newest_documents",
    "search_documents",
    "signatures",
]

SEARCH_TABLE = "article_search"
#: PostgreSQL's partitions of the index table: the newest version of each article, and the others.
NEWEST_PARTITION = "article_search_newest"
OLDER_PARTITION = "article_search_older"
FACTS_TABLE = "article_search_facts"
CONTENT_VIEW = "article_search_content"
#: What each indexed version carries besides its words, on both backends.
FACTS = ("article_id", "outlet_id", "day", "language", "newest")
FTS5_TOKENIZER = "porter unicode61 remove_diacritics 2"
#: The lexeme of a PostgreSQL document too long to hold its word pairs (no pair of words starts with a space).
UNPAIRED = " unpaired"
#: Spaces in the ``padding`` column of a PostgreSQL row whose document is shorter: more than the 2 kB over which
#: PostgreSQL compresses a row's values and moves them out of line (see above).
PADDING_BYTES = 2100
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

#: PostgreSQL's full-text index, partitioned on ``newest`` (SQLite's is the FTS5 table of the same name); the
#: migration makes it and its partitions, each with ``toast_tuple_target`` 128 (see above).
search_documents = Table(
    SEARCH_TABLE,
    metadata,
    Column("version_id", BigInteger, primary_key=True, autoincrement=False),
    Column("config", String(32), nullable=False, index=True),
    Column("document", TSVECTOR, nullable=False),
    Column("article_id", Integer, nullable=False, index=True),
    Column("outlet_id", Integer),
    Column("day", String(10), nullable=False),
    Column("language", String(16)),
    Column("newest", Boolean, primary_key=True),  # a partitioned table's key holds its partition key
    Column("padding", Text),
    Index(
        "ix_article_search_document",
        "document",
        postgresql_using="gin",
        postgresql_with={"gin_pending_list_limit": 256},
    ),
    Index("ix_article_search_day", "day"),
    postgresql_partition_by="LIST (newest)",
)
#: The partition of the newest versions, read alone when only they are searched (queries only: the migration
#: makes it).
newest_documents = search_documents.to_metadata(MetaData(), name=NEWEST_PARTITION)

#: SQLite's facts of each indexed version, and the ``tokens`` its ``facts`` column was indexed with.
facts = Table(
    FACTS_TABLE,
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=False),
    Column("article_id", Integer, nullable=False, index=True),
    Column("outlet_id", Integer),
    Column("day", String(10), nullable=False, index=True),
    Column("language", String(16)),
    Column("newest", Boolean, nullable=False),
    Column("tokens", Text, nullable=False),
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
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def is_search_structure(name: str | None) -> bool:
    """Whether a table belongs to search and reprint detection (FTS5's shadow tables included), so a
    comparison of the database with :mod:`archive.db.models` can leave it out."""
    return name in metadata.tables or name in {NEWEST_PARTITION, OLDER_PARTITION} | {
        f"{SEARCH_TABLE}_{suffix}" for suffix in _FTS5_SHADOWS
    }


def fact_tokens(outlet_id: int | None, day: str, language: str | None, newest: bool) -> str:
    """The words SQLite's ``facts`` column indexes for a version (letters and digits only: FTS5 keeps them whole)."""
    tokens = ["newest"] if newest else []
    if outlet_id is not None:
        tokens.append(f"o{outlet_id}")
    tokens += day_tokens(day)
    if language:
        tokens += sorted({f"l{language_token(language.split('-')[0])}", f"l{language_token(language)}"})
    return " ".join(t for t in tokens if t != "l")


def day_tokens(day: str) -> list[str]:
    """A day's year, month and day tokens (none for a day not written YYYY-MM-DD)."""
    found = _DAY.fullmatch(day)
    if not found:
        return []
    year, month, number = found.groups()
    return [f"y{year}", f"m{year}{month}", f"d{year}{month}{number}"]


def language_token(language: str) -> str:
    return _NOT_ALNUM.sub("", language.casefold())
