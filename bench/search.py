"""Search latency against archive size, beside the ``ILIKE`` scan: ``python -m bench.search [--large]``.

For each backend (SQLite; PostgreSQL when ``NEWSARCHIVE_BENCH_POSTGRES_URL`` or the test server answers) and
size (10^4 and 10^5 article versions, 10^6 with ``--large``), a database made by the migrations is filled
with synthetic articles: 4-10 sentences drawn from the seed articles' text (so phrases occur as in news),
a few rare words, 20 outlets, publication days over 2019; every tenth version is a later version of the
article before it (so "newest version" filters something). Then, for a two-word query, a phrase and a
boolean query with a date range, it times (median and p95 of ``--repeats``):

- **count**: :func:`archive.search.results.count_matches` through the full-text index (newest versions, as
  researchers count by default);
- **outlets**: the same matches counted by outlet (:func:`archive.search.results.count_by`);
- **page**: the first 20 matches with their snippets (:func:`archive.search.results.search`);
- **scan**: the same count by ``ILIKE '%word%'`` on headline and text, as ``archive/queries/lookup.py``
  searches today (fewer repeats: it reads every version). With a date range on PostgreSQL it is timed as
  the planner plans it and forced through the articles' date index, and the counts are compared with the
  faster (:func:`best_scan`).

``--reprints`` instead measures reprint detection (:mod:`archive.reprints`) on the fixture set: the search
fixture's articles (one agency story, two outlets' edited reprints, two other articles on the same summit
and a German one) and, for each seed article, reprints made the way outlets make them (a dateline added,
a paragraph dropped, the story cut to its first 60%, one word in twenty changed) beside the other seed
articles, which tell the same news in other words. It reports the precision and recall of the groups over
pairs of articles, and the cost per article of adding it (signing, looking up its LSH bands, merging).

``--ingest`` measures what search costs the indexer: bench/ingest.py's synthetic crawl (captures, feeds,
redirects, articles recaptured and edited) through the real :class:`~archive.db.ingester.Ingester`, with the
full-text index and reprint detection on, and off (the ingester's calls to them replaced by no-ops, in
this process only), in fresh databases, alternately, best of ``--ingest-runs``. The indexer runs beside the
crawl (its own thread in the archiver process), so its drop in throughput bounds the whole crawl's.
``--crawl OUTLETS,ARTICLES`` measures the whole crawl itself: ``scrapy crawl news`` of the synthetic web
(bench/crawls.py's machinery), pages per second with search on and off, alternately, best of
``--ingest-runs``; off is a bench-only switch, a ``sitecustomize`` on the crawl's ``PYTHONPATH`` that
replaces the ingester's calls with no-ops in the crawler and its archiver process.

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
from archive.search.results import count_by, count_matches, search
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
    """``size`` versions, bulk-inserted: an article each, but every tenth is the article before's second."""
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
            later = n % 10 == 9
            article = i - 1 if later else i
            outlet = (article - 1) % OUTLETS + 1
            at = START + timedelta(seconds=rng.randrange(365 * 86400))
            if later:
                at = articles[-1]["first_seen_at"] + timedelta(days=1)
            body = " ".join(rng.sample(pool, rng.randint(4, 10)) + [f"w{rng.randrange(50_000)}" for _ in range(5)])
            urls.append(
                {"id": i, "url": f"http://o{outlet}.example/{i}", "host": f"o{outlet}.example", "outlet_id": outlet}
            )
            pointer = {"record_id": f"<urn:{i}>", "warc_filename": "b.warc.gz", "warc_offset": i, "warc_length": 1}
            captures.append({"id": i, "url_id": i, "fetched_at": at, "status": 200, **pointer})
            if not later:
                day = at.date().isoformat()
                articles.append({"id": i, "url_id": i, "outlet_id": outlet, "first_seen_at": at, "published": day})
            versions.append(
                {
                    "id": i,
                    "article_id": article,
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


def best_scan(session: Session, words: list[list[str]], dates: bool) -> tuple[float, float]:
    """The scan's median ms at its best, and as the planner plans it.

    With a date range, PostgreSQL's planner chooses between reading every version and reading the month's
    through the index on the articles' dates, by its statistics: 1.2 s one day, 10.8 s another on the same
    data. The full-text count is compared with the faster of the two, so that its ratio does not depend on
    the scan's luck; sequential scans off forces the index.
    """
    planned = timed(lambda: scan_count(session, words, dates), 3)[0]
    if not dates or session.get_bind().dialect.name != "postgresql":
        return planned, planned
    session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        forced = timed(lambda: scan_count(session, words, dates), 3)[0]
    finally:
        session.rollback()  # the setting goes with the transaction
    return min(planned, forced), planned


def indexing_costs(engine: Engine, size: int) -> dict[str, float]:
    """Seconds to rebuild the index; ms per 1,000 versions indexed in batches; ms per article for reprints."""
    sample = list(range(max(1, size - 5_000) + 1, size + 1))
    articles = {i for i in range(max(1, size - 5_000) + 1, size + 1) if i % 10 != 0}  # not second versions
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
    reprint_sample = [i for i in reprint_sample if i in articles]
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
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))  # as a live archive's are (autovacuum; reindex refreshes them)
        costs = indexing_costs(engine, size)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        print(
            f"\n{engine.dialect.name} {size:,} versions: filled in {filled:.1f} s; index rebuilt in "
            f"{costs['rebuild_s']:.1f} s; {costs['index_ms_per_1000']:.0f} ms per 1,000 versions indexed in "
            f"batches; reprint detection {costs['reprint_ms_per_article']:.2f} ms per article"
        )
        header = f"{'query':<16} {'matches':>8} {'count ms (p95)':>16} {'outlets ms':>11} {'page ms (p95)':>15}"
        print(f"{header} {'scan ms':>9} {'scan/count':>10}")
        with session_factory(engine)() as session:
            for name, (source, words) in QUERIES.items():
                query = parse_query(source)
                matches = count_matches(session, query)
                count = timed(lambda q=query: count_matches(session, q), repeats)
                outlets = timed(lambda q=query: count_by(session, q, "outlet"), max(3, repeats // 3))
                page = timed(lambda q=query: list(search(session, q, limit=20)), max(3, repeats // 3))
                scanned = scan_count(session, words, "published" in source)
                assert scanned >= matches * 0.5, (name, scanned, matches)  # substrings find at least the words
                scan, planned = best_scan(session, words, "published" in source)
                print(
                    f"{name:<16} {matches:>8,} {count[0]:>7.1f} ({count[1]:>6.1f}) {outlets[0]:>11.1f} "
                    f"{page[0]:>6.1f} ({page[1]:>6.1f}) {scan:>9.0f} {scan / count[0]:>9.0f}×"
                    + (f"  (the planner's own plan: {planned:,.0f} ms)" if planned > scan * 1.2 else ""),
                    flush=True,
                )
    finally:
        engine.dispose()


def reprint_set(rng: random.Random) -> list[tuple[str, str]]:
    """(source, text) pairs: the search fixture's pieces and each seed article with four kinds of reprint."""
    from tests.archive import searchfixture  # the fixture set the tests use

    seeds = [f"seed {labels.stem}" for labels in sorted(SEED_TEXTS_DIR.glob("*.labels"))]
    # the fixture's wire story (and its reprints), ThinkProgress's and The American Conservative's are the seeds
    source = {"wire": seeds[0], "ledger": seeds[0], "harbor": seeds[0], "tp": seeds[1], "tac": seeds[2]}
    found = [(source.get(key, key), piece.text) for key, piece in searchfixture.pieces().items()]
    for labels in sorted(SEED_TEXTS_DIR.glob("*.labels")):
        lines = labels.with_suffix(".txt").read_text(encoding="utf-8").splitlines()
        body = [
            line
            for label, line in zip(labels.read_text(encoding="utf-8").splitlines(), lines, strict=True)
            if label == "body"
        ]
        words = " ".join(body).split()
        edited = [w if rng.random() > 0.05 else rng.choice(words) for w in words]
        dropped = rng.randrange(len(body))
        variants = [
            body,
            ["WASHINGTON (Wire) — " + body[0], *body[1:]],
            body[:dropped] + body[dropped + 1 :],
            body[: max(1, len(body) * 6 // 10)],
            [" ".join(edited)],
        ]
        found += [(f"seed {labels.stem}", "\n".join(v)) for v in variants]
    return found


def reprint_quality(url: str) -> None:
    """Pairwise precision and recall of the reprint groups on the fixture set, and the cost per article."""
    from archive.reprints import THRESHOLD

    rng = random.Random(11)
    texts = reprint_set(rng)
    engine = open_database(url)
    try:
        with engine.begin() as connection:
            connection.execute(insert(Outlet), [{"id": 1, "name": "Outlet", "homepage": None, "domains": []}])
            for i, (_, body) in enumerate(texts, start=1):
                at = START + timedelta(hours=i)
                pointer = {"record_id": f"<urn:{i}>", "warc_filename": "r.warc.gz", "warc_offset": i, "warc_length": 1}
                connection.execute(insert(Url), {"id": i, "url": f"http://o.example/{i}", "host": "o.example"})
                connection.execute(insert(Capture), {"id": i, "url_id": i, "fetched_at": at, "status": 200, **pointer})
                connection.execute(insert(Article), {"id": i, "url_id": i, "outlet_id": 1, "first_seen_at": at})
                connection.execute(
                    insert(ArticleVersion),
                    {
                        "id": i, "article_id": i, "content_hash": f"{i:064x}", "title": "t", "text": body,
                        "extractor": "bench", "extractor_version": "1", "first_capture_id": i,
                        "last_capture_id": i, "first_seen_at": at, "last_seen_at": at,
                    },
                )  # fmt: skip
        began = time.perf_counter()
        with engine.begin() as connection:
            add_articles(connection, range(1, len(texts) + 1))
        cost = (time.perf_counter() - began) * 1000 / len(texts)
        with engine.connect() as connection:
            group = dict(connection.execute(text("SELECT article_id, group_id FROM article_signatures")).all())
    finally:
        engine.dispose()
    pairs = [(a, b) for a in range(1, len(texts) + 1) for b in range(a + 1, len(texts) + 1)]
    truth = {(a, b) for a, b in pairs if texts[a - 1][0] == texts[b - 1][0]}
    found = {(a, b) for a, b in pairs if a in group and group.get(a) == group.get(b)}
    hits = len(truth & found)
    print(
        f"reprints ({engine.dialect.name}): {len(texts)} articles, {len(truth)} reprint pairs, {len(found)} grouped "
        f"(threshold {THRESHOLD}); precision {hits / max(len(found), 1):.2f}, recall {hits / max(len(truth), 1):.2f}; "
        f"{cost:.2f} ms per article; missed: "
        + (", ".join(f"{texts[a - 1][0]} #{a}-#{b}" for a, b in sorted(truth - found)) or "none")
    )


def ingest_throughput(url: str, captures: int, search_on: bool) -> float:
    """Captures per second through the ingester, with or without the search index and reprint groups."""
    from unittest import mock

    from archive.db import ingester as ingester_module
    from bench.ingest import BATCH, records

    engine = open_database(url)
    try:
        ingester = ingester_module.Ingester(session_factory(engine))
        patches = [] if search_on else [
            mock.patch.object(ingester_module, name, lambda *_args: None)
            for name in ("index_versions", "add_articles", "refresh_articles")
            if hasattr(ingester_module, name)
        ]  # fmt: skip
        for patch in patches:
            patch.start()
        try:
            began = time.perf_counter()
            ingester.ingest_all(records(captures), BATCH, lambda _n: None)
            seconds = time.perf_counter() - began
        finally:
            for patch in patches:
                patch.stop()
        return ingester.counts.captures / seconds
    finally:
        engine.dispose()


def ingest_cost(backend: str, captures: int, runs: int) -> None:
    best = {True: 0.0, False: 0.0}
    for _ in range(runs):
        for search_on in (False, True):
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as folder:
                    rate = ingest_throughput(f"sqlite:///{Path(folder) / 'ingest.db'}", captures, search_on)
            else:
                with _postgres_schema() as url:
                    rate = ingest_throughput(url, captures, search_on)
            best[search_on] = max(best[search_on], rate)
    drop = 1 - best[True] / best[False]
    print(
        f"ingest ({backend}, {captures:,} captures, best of {runs}): {best[False]:,.0f} captures/s without search, "
        f"{best[True]:,.0f} with the index and reprint detection: {drop:.1%} slower",
        flush=True,
    )


_NO_SEARCH = """
from archive.db import ingester as _ingester

for _name in ("index_versions", "add_articles", "refresh_articles"):
    if hasattr(_ingester, _name):
        setattr(_ingester, _name, lambda *_args: None)
"""


def crawl_cost(outlets: int, articles: int, runs: int) -> None:
    """Pages per second of whole crawls of the synthetic web, search on and off."""
    from bench.crawls import REPO, WebServer, crawl_ours, serving
    from bench.synthweb import SynthWeb

    best = {True: 0.0, False: 0.0}
    found = {True: 0, False: 0}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "nosearch").mkdir()
        (work / "nosearch" / "sitecustomize.py").write_text(_NO_SEARCH)
        with serving(SynthWeb(outlets, articles), work / "web") as server:
            for run in range(runs):
                for search_on in (False, True):
                    extra = {} if search_on else {"PYTHONPATH": f"{work / 'nosearch'}:{REPO}"}
                    server.env = lambda extra=extra: {**WebServer.env(server), **extra}  # type: ignore[method-assign]
                    result = crawl_ours(server, work / f"crawl-{run}-{search_on}", archive_only=False)
                    best[search_on] = max(best[search_on], result.pages_per_s)
                    data = work / f"crawl-{run}-{search_on}" / "data"
                    engine = open_database(f"sqlite:///{data / 'archive.db'}")
                    with engine.connect() as connection:
                        found[search_on] = connection.scalar(text("SELECT count(*) FROM article_signatures")) or 0
                    engine.dispose()
    print(
        f"whole crawl ({outlets} outlets x {articles} articles, best of {runs}): {best[False]:,.1f} pages/s without "
        f"search ({found[False]} articles signed), {best[True]:,.1f} with ({found[True]} signed): "
        f"{1 - best[True] / best[False]:.1%} slower",
        flush=True,
    )


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
    parser.add_argument("--reprints", action="store_true", help="measure reprint detection on the fixture set instead")
    parser.add_argument("--ingest", type=int, metavar="CAPTURES", help="measure the indexer with search on and off")
    parser.add_argument("--crawl", metavar="OUTLETS,ARTICLES", help="measure whole crawls with search on and off")
    parser.add_argument("--ingest-runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.large else [])
    backends = args.backends.split(",")
    if "postgresql" in backends and not postgres_available():
        print(f"PostgreSQL at {POSTGRES_URL} does not answer: SQLite only")
        backends.remove("postgresql")
    if args.crawl:
        outlets, articles = (int(n) for n in args.crawl.split(","))
        crawl_cost(outlets, articles, args.ingest_runs)
        return
    if args.ingest:
        for backend in backends:
            ingest_cost(backend, args.ingest, args.ingest_runs)
        return
    if args.reprints:
        for backend in backends:
            if backend == "sqlite":
                with tempfile.TemporaryDirectory() as folder:
                    reprint_quality(f"sqlite:///{Path(folder) / 'reprints.db'}")
            else:
                with _postgres_schema() as url:
                    reprint_quality(url)
        return
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
