"""Search latency against archive size, beside the ``ILIKE`` scan: ``python -m bench.search [--large]``.

For each backend (SQLite; PostgreSQL when ``NEWSARCHIVE_BENCH_POSTGRES_URL`` or the test server answers) and
size (10^4 and 10^5 article versions, 10^6 with ``--large``), a database made by the migrations is filled
with synthetic articles: 4-10 sentences drawn from the seed articles' text (so phrases occur as in news),
a few rare words, 20 outlets, publication days over 2019. Then, for a two-word query, a phrase and a boolean
query with a date range, it times (median and p95 of ``--repeats``):

- **count**: :func:`archive.search.results.count_matches` through the full-text index;
- **page**: the first 20 matches with their snippets (:func:`archive.search.results.search`);
- **scan**: the same count by ``ILIKE '%word%'`` on headline and text, as ``archive/queries/lookup.py``
  searches today (fewer repeats: it reads every version).

It also reports what indexing costs: the whole index rebuilt (``reindex_all``), versions indexed in
batches of 500 as the indexer does, and reprint detection per article (``add_articles``, 1,000 articles
checked against the 10,000 signed before them). The synthetic articles share sentences far more than real
ones do, so reprint candidates are more frequent here than in an archive.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, and_, create_engine, func, insert, or_, select, text
from sqlalchemy.orm import Session

from archive.db import open_database, session_factory
from archive.db.models import Article, ArticleVersion, Capture, Outlet, Url
from archive.reprints import add_articles, clear_reprints
from archive.search.index import index_versions, reindex_all, unindex_versions
from archive.search.query import parse_query
from archive.search.results import count_matches, search
from bench.synthweb import SEED_TEXTS_DIR

POSTGRES_URL = os.environ.get("NEWSARCHIVE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
OUTLETS = 20
START = datetime(2019, 1, 1)
#: The queries timed, and for the scan the words (ANDed; an inner list is ORed, a leading "-" excludes).
QUERIES = {
    "two words": ("pompeo yongbyon", [["pompeo"], ["yongbyon"]]),
    "phrase": ('"missed opportunity"', [["missed opportunity"]]),
    "boolean + dates": (
        "(sanctions OR denuclearization) AND NOT bolton published:[2019-03-01 TO 2019-03-31]",
        [["sanctions", "denuclearization"], ["-bolton"]],
    ),
}
_SENTENCE = re.compile(r"(?<=[.!?”\"])\s+")


def sentences() -> list[str]:
    """The sentences of the seed articles' bodies (their labelled ``body`` lines)."""
    found = []
    for labels in sorted(SEED_TEXTS_DIR.glob("*.labels")):
        lines = labels.with_suffix(".txt").read_text(encoding="utf-8").splitlines()
        for label, line in zip(labels.read_text(encoding="utf-8").splitlines(), lines, strict=True):
            if label == "body":
                found += [s for s in _SENTENCE.split(line) if len(s.split()) >= 4]
    return found


def fill(engine: Engine, size: int, seed: int = 7) -> None:
    """``size`` articles of one version each, bulk-inserted."""
    rng = random.Random(seed)
    pool = sentences()
    with engine.begin() as connection:
        connection.execute(
            insert(Outlet),
            [
                {"id": n + 1, "name": f"Outlet {n}", "homepage": None, "domains": [f"o{n}.example"]}
                for n in range(OUTLETS)
            ],
        )
    for start in range(0, size, 10_000):
        rows = range(start, min(size, start + 10_000))
        urls, captures, articles, versions = [], [], [], []
        for n in rows:
            i = n + 1
            outlet = n % OUTLETS + 1
            at = START + timedelta(seconds=rng.randrange(365 * 86400))
            body = " ".join(rng.sample(pool, rng.randint(4, 10)) + [f"w{rng.randrange(50_000)}" for _ in range(5)])
            urls.append(
                {"id": i, "url": f"http://o{outlet}.example/{i}", "host": f"o{outlet}.example", "outlet_id": outlet}
            )
            pointer = {"record_id": f"<urn:{i}>", "warc_filename": "b.warc.gz", "warc_offset": i, "warc_length": 1}
            captures.append({"id": i, "url_id": i, "fetched_at": at, "status": 200, **pointer})
            day = at.date().isoformat()
            articles.append({"id": i, "url_id": i, "outlet_id": outlet, "first_seen_at": at, "published": day})
            versions.append(
                {
                    "id": i,
                    "article_id": i,
                    "content_hash": f"{i:064x}",
                    "title": rng.choice(pool)[:120],
                    "language": "en",
                    "text": body,
                    "extractor": "bench",
                    "extractor_version": "1",
                    "first_capture_id": i,
                    "last_capture_id": i,
                    "first_seen_at": at,
                    "last_seen_at": at,
                }
            )
        with engine.begin() as connection:
            for model, batch in ((Url, urls), (Capture, captures), (Article, articles), (ArticleVersion, versions)):
                connection.execute(insert(model), batch)


def timed(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median and p95 in milliseconds."""
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def scan_count(session: Session, words: list[list[str]], dates: bool) -> int:
    """The count as an ILIKE scan finds it (what ``archive.queries.lookup.search_text`` does per word)."""

    def has(word: str):  # noqa: ANN202 - an SQL condition
        pattern = f"%{word}%"
        return or_(ArticleVersion.title.ilike(pattern), ArticleVersion.text.ilike(pattern))

    conditions = []
    for group in words:
        if group[0].startswith("-"):
            conditions.append(~has(group[0][1:]))
        else:
            conditions.append(or_(*(has(w) for w in group)))
    statement = select(func.count()).select_from(ArticleVersion).join(Article, Article.id == ArticleVersion.article_id)
    if dates:
        conditions += [Article.published >= "2019-03-01", Article.published <= "2019-03-31"]
    return session.scalar(statement.where(and_(*conditions))) or 0


def indexing_costs(engine: Engine, size: int) -> dict[str, float]:
    """Seconds to rebuild the index; ms per 1,000 versions indexed in batches; ms per article for reprints."""
    sample = list(range(max(1, size - 5_000) + 1, size + 1))
    with engine.begin() as connection:
        began = time.perf_counter()
        reindex_all(connection)
        rebuild = time.perf_counter() - began
    with engine.begin() as connection:
        unindex_versions(connection, sample)
    began = time.perf_counter()
    for start in range(0, len(sample), 500):
        with engine.begin() as connection:
            index_versions(connection, sample[start : start + 500])
    incremental = (time.perf_counter() - began) * 1000 / len(sample) * 1000
    reprint_sample = sample[-1000:]
    with engine.begin() as connection:
        clear_reprints(connection)
        add_articles(connection, range(max(1, reprint_sample[0] - 10_000), reprint_sample[0]))  # 10,000 to look in
    began = time.perf_counter()
    with engine.begin() as connection:
        add_articles(connection, reprint_sample)
    reprints = (time.perf_counter() - began) * 1000 / len(reprint_sample)
    return {"rebuild_s": rebuild, "index_ms_per_1000": incremental, "reprint_ms_per_article": reprints}


def run(url: str, size: int, repeats: int) -> None:
    engine = open_database(url)
    try:
        began = time.perf_counter()
        fill(engine, size)
        filled = time.perf_counter() - began
        costs = indexing_costs(engine, size)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        print(
            f"\n{engine.dialect.name} {size:,} versions: filled in {filled:.1f} s; index rebuilt in "
            f"{costs['rebuild_s']:.1f} s; {costs['index_ms_per_1000']:.0f} ms per 1,000 versions indexed in "
            f"batches; reprint detection {costs['reprint_ms_per_article']:.2f} ms per article"
        )
        header = f"{'query':<16} {'matches':>8} {'count ms (p95)':>16} {'page ms (p95)':>15} {'scan ms':>9}"
        print(f"{header} {'scan/count':>10}")
        with session_factory(engine)() as session:
            for name, (source, words) in QUERIES.items():
                query = parse_query(source)
                matches = count_matches(session, query, all_versions=True)
                count = timed(lambda q=query: count_matches(session, q, all_versions=True), repeats)
                page = timed(lambda q=query: list(search(session, q, all_versions=True, limit=20)), repeats)
                scanned = scan_count(session, words, "published" in source)
                scan = timed(lambda w=words, s=source: scan_count(session, w, "published" in s), max(3, repeats // 10))
                assert scanned >= matches * 0.5, (name, scanned, matches)  # substrings find at least the words
                print(
                    f"{name:<16} {matches:>8,} {count[0]:>7.1f} ({count[1]:>6.1f}) {page[0]:>6.1f} ({page[1]:>6.1f}) "
                    f"{scan[0]:>9.0f} {scan[0] / count[0]:>9.0f}×",
                    flush=True,
                )
    finally:
        engine.dispose()


def postgres_available() -> bool:
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means: not there
        return False
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated article version counts")
    parser.add_argument("--large", action="store_true", help="add 1,000,000 versions (long: minutes per backend)")
    parser.add_argument("--repeats", type=int, default=30, help="timings per query")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.large else [])
    backends = args.backends.split(",")
    if "postgresql" in backends and not postgres_available():
        print(f"PostgreSQL at {POSTGRES_URL} does not answer: SQLite only")
        backends.remove("postgresql")
    for size in sizes:
        for backend in backends:
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as folder:
                    run(f"sqlite:///{Path(folder) / 'bench.db'}", size, args.repeats)
            else:
                with _postgres_schema() as url:
                    run(url, size, args.repeats)


class _postgres_schema:  # noqa: N801 - used as a context manager, like a function
    """A schema of its own on the PostgreSQL server, dropped afterwards."""

    def __enter__(self) -> str:
        self.name = f"bench_search_{os.getpid()}"
        self.admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {self.name}"))
        return f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{self.name}"

    def __exit__(self, *_exc: object) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {self.name} CASCADE"))
        self.admin.dispose()


if __name__ == "__main__":
    main()
