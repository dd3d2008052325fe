"""Reprints: the same story published by several outlets (an agency's, lightly edited or cut), told apart
from an outlet's own reporting.

Each article's text (its first version: what it said when first published) is
cut into overlapping word shingles and summarised by a MinHash signature.
Locality-sensitive hashing splits the signature into bands; two articles
sharing any band's hash are candidates, found through the index on
``article_bands`` (an indexed lookup per band, never a scan of every
article), and a candidate joins the article's group when their estimated
Jaccard similarity reaches :data:`THRESHOLD`. Groups are merged as articles
arrive (single linkage), and a group is named by its earliest capture, the
probable original.

The tables are :data:`archive.search.schema.signatures` and
:data:`~archive.search.schema.bands`. Articles with too few words to tell a
reprint from a coincidence (:data:`MIN_WORDS`) stand alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Label, delete, insert, select, text, update

from archive.db.models import Article, ArticleVersion, Outlet, Url
from archive.search.schema import bands, signatures

if TYPE_CHECKING:  # numpy is imported where signatures are made or read: a recheck's archiver makes none
    import numpy as np

__all__ = [
    "MAX_CANDIDATES",
    "MIN_WORDS",
    "SHINGLE_WORDS",
    "THRESHOLD",
    "Similar",
    "add_articles",
    "clear_reprints",
    "collapse_reprints",
    "similar",
]

#: Estimated Jaccard similarity of the shingle sets from which two articles are the same story.
THRESHOLD = 0.5
NUM_PERM = 128
SHINGLE_WORDS = 4
MIN_WORDS = 40
#: Bands and rows per band that make LSH find pairs at :data:`THRESHOLD`: datasketch's MinHashLSH choice for
#: it (a test holds them to it). Written out because datasketch is imported only to sign articles: it loads
#: scipy and redis, a second or two that every crawler and command importing this module would pay.
BANDS, ROWS = 25, 5
_SEED = 1
#: The hash permutations of every signature, drawn once (drawing them took a third of signing an article), and
#: datasketch's hashing scheme, fixed: stored signatures compare only with signatures made the same way.
_SCHEME = "affine32"
_WORD = re.compile(r"[^\W_]+")
_CHUNK = 200
T = TypeVar("T")
#: Candidates compared per new article. Texts that are nearly all boilerplate share bands with thousands of
#: articles; comparing a few of them is enough to join their group (groups are single-linkage), and keeps
#: adding an article bounded however many look alike.
MAX_CANDIDATES = 50
# One statement of constant shape (built once: building 25 conditions per article cost more than running them).
_CANDIDATES = text(
    "SELECT DISTINCT article_id FROM article_bands WHERE ("
    + " OR ".join(f"(band = {b} AND hash = :h{b})" for b in range(BANDS))
    + f") AND article_id != :article_id LIMIT {MAX_CANDIDATES}"
)


@dataclass(frozen=True)
class Similar:
    """An article near-duplicate of another, with their estimated Jaccard similarity."""

    article_id: int
    url: str
    outlet: str | None
    title: str | None
    first_seen_at: datetime
    similarity: float
    #: The group's earliest capture: the probable original.
    original: bool


def signature(text: str) -> np.ndarray | None:
    """The MinHash signature of a text's word shingles (None: too short to compare)."""
    words = [w.casefold() for w in _WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return None
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, seed=_SEED, permutations=_permutations(), scheme=_SCHEME)
    minhash.update_batch(
        [" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)]
    )
    return minhash.hashvalues.astype("<u4")


def band_hashes(values: np.ndarray) -> list[int]:
    """One signed 64-bit hash per LSH band of a signature."""
    return [
        int.from_bytes(hashlib.blake2b(values[b * ROWS : (b + 1) * ROWS].tobytes(), digest_size=8).digest(), "big")
        - (1 << 63)
        for b in range(BANDS)
    ]


def add_articles(connection: Connection, article_ids: Iterable[int]) -> None:
    """Sign new articles and put each in its reprint group (articles already signed are left as they are)."""
    ids = [int(i) for i in article_ids]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        done = set(connection.scalars(select(signatures.c.article_id).where(signatures.c.article_id.in_(chunk))))
        # every version of the chunk's articles, by the article's index (a correlated "first version" subquery
        # was planned per version of the whole archive); the first of each is kept here
        versions = connection.execute(
            select(Article.id, Article.first_seen_at, ArticleVersion.text)
            .join(ArticleVersion, ArticleVersion.article_id == Article.id)
            .where(Article.id.in_([i for i in chunk if i not in done]))
            .order_by(Article.id, ArticleVersion.first_seen_at, ArticleVersion.id)
        ).all()
        rows = [row for n, row in enumerate(versions) if n == 0 or versions[n - 1][0] != row[0]]
        for article_id, first_seen_at, body in rows:
            values = signature(body)
            if values is not None:
                _add(connection, article_id, first_seen_at, values)


def collapse_reprints(
    connection: Connection, rows: Iterable[T], key: Callable[[T], tuple[int, datetime]]
) -> list[tuple[T, int]]:
    """Rows of articles (``key``: a row's article id and first sighting) with each reprint group's folded into
    its earliest row, the one kept, paired with how many rows it stands for; in the rows' order.

    Coverage views and story pages count a syndicated story once this way. Every row is held, to know each
    group's earliest: a story's articles, or a page of them, not a whole archive's.
    """
    rows = list(rows)
    ids = sorted({key(row)[0] for row in rows})
    group: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK * 5):
        chunk = ids[start : start + _CHUNK * 5]
        query = select(signatures.c.article_id, signatures.c.group_id).where(signatures.c.article_id.in_(chunk))
        group.update(connection.execute(query).all())
    earliest: dict[int, tuple[datetime, int]] = {}
    sizes: dict[int, int] = {}
    for row in rows:
        article_id, first_seen = key(row)
        named = group.get(article_id, article_id)
        earliest[named] = min(earliest.get(named, (first_seen, article_id)), (first_seen, article_id))
        sizes[named] = sizes.get(named, 0) + 1
    kept = {article_id for _, article_id in earliest.values()}
    return [(row, sizes[group.get(key(row)[0], key(row)[0])]) for row in rows if key(row)[0] in kept]


def clear_reprints(connection: Connection) -> None:
    """Forget every signature and group, before the articles are deleted for a rebuild."""
    connection.execute(delete(bands))
    connection.execute(delete(signatures))


def similar(connection: Connection, article_id: int) -> list[Similar]:
    """The article's near-duplicates (its LSH candidates and its group), most similar first."""
    own = connection.execute(
        select(signatures.c.minhash, signatures.c.group_id).where(signatures.c.article_id == article_id)
    ).first()
    if own is None:
        return []
    values = _values(own.minhash)
    candidates = set(_candidates(connection, article_id, band_hashes(values)))
    candidates |= set(connection.scalars(select(signatures.c.article_id).where(signatures.c.group_id == own.group_id)))
    candidates.discard(article_id)
    if not candidates:
        return []
    rows = connection.execute(
        select(
            signatures.c.article_id,
            signatures.c.minhash,
            signatures.c.group_id,
            Url.url,
            Outlet.name,
            Article.first_seen_at,
            _newest_title(),
        )
        .join(Article, Article.id == signatures.c.article_id)
        .join(Url, Url.id == Article.url_id)
        .outerjoin(Outlet, Outlet.id == Article.outlet_id)
        .where(signatures.c.article_id.in_(sorted(candidates)))
    ).all()
    found = [
        Similar(
            row.article_id,
            row.url,
            row.name,
            row.title,
            row.first_seen_at,
            _jaccard(values, _values(row.minhash)),
            row.article_id == row.group_id,
        )
        for row in rows
        if row.group_id == own.group_id or _jaccard(values, _values(row.minhash)) >= THRESHOLD
    ]
    return sorted(found, key=lambda s: (-s.similarity, s.first_seen_at, s.article_id))


def _add(connection: Connection, article_id: int, first_seen_at: datetime, values: np.ndarray) -> None:
    hashes = band_hashes(values)
    candidates = _candidates(connection, article_id, hashes)
    groups: set[int] = set()
    if candidates:
        for row in connection.execute(
            select(signatures.c.minhash, signatures.c.group_id).where(signatures.c.article_id.in_(candidates))
        ):
            if _jaccard(values, _values(row.minhash)) >= THRESHOLD:
                groups.add(row.group_id)
    original = article_id
    if groups:
        earliest = connection.execute(
            select(signatures.c.article_id, signatures.c.first_seen_at)
            .where(signatures.c.article_id.in_(groups))
            .order_by(signatures.c.first_seen_at, signatures.c.article_id)
            .limit(1)
        ).one()
        if (earliest.first_seen_at, earliest.article_id) < (first_seen_at, article_id):
            original = earliest.article_id
        if renamed := groups - {original}:  # groups merge, or a new earliest capture names one
            connection.execute(update(signatures).where(signatures.c.group_id.in_(renamed)).values(group_id=original))
    connection.execute(
        insert(signatures).values(
            article_id=article_id, group_id=original, first_seen_at=first_seen_at, minhash=values.tobytes()
        )
    )
    connection.execute(insert(bands), [{"band": b, "hash": h, "article_id": article_id} for b, h in enumerate(hashes)])


def _candidates(connection: Connection, article_id: int, hashes: list[int]) -> list[int]:
    params: dict[str, int] = {f"h{b}": h for b, h in enumerate(hashes)}
    return list(connection.scalars(_CANDIDATES, {**params, "article_id": article_id}))


def _newest_title() -> Label[str | None]:
    return (
        select(ArticleVersion.title)
        .where(ArticleVersion.article_id == Article.id)
        .order_by(ArticleVersion.first_seen_at.desc(), ArticleVersion.id.desc())
        .limit(1)
        .scalar_subquery()
        .label("title")
    )


def _values(minhash: bytes) -> np.ndarray:
    """A stored signature's values."""
    import numpy as np

    return np.frombuffer(minhash, dtype="<u4")


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float((a == b).sum()) / NUM_PERM


@cache
def _permutations() -> np.ndarray:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations
