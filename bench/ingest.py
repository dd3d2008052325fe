"""Indexing throughput: 100,000 synthetic captures into SQLite and into PostgreSQL.

The records are what a crawl of news sites hands the indexer, generated on
the fly (nothing is held in memory): article pages with their ``article/1``
extraction records (each article fetched about three times, its text
changed on one recrawl in ten), section pages, 404s, redirects from short
links, and feeds listing the latest articles. They go through
:class:`archive.db.ingester.Ingester` in batches of 500, as ``newsarchive
reindex`` sends them; WARC reading is left out, so what is measured is the
database side. Then every capture is exported to Parquet through the
streaming exporter.

Each stage runs in a process of its own, so its peak memory (``VmHWM``, the
largest resident set of that process) is its own.

    python -m bench.ingest                       # 100,000 captures, SQLite and PostgreSQL
    python -m bench.ingest --captures 20000 --backends sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

from archive.db.ingester import Ingester
from archive.db.maintenance import refresh_statistics
from archive.db.session import open_database, session_factory
from archive.extract import Extraction
from archive.format import OUTLETS_FIELD, article_payload, listing_payload, outlets_field
from archive.queries import captures_query, stream
from archive.warc.records import ArchivedRecord, RecordLocation

POSTGRES_URL = os.environ.get("NEWSARCHIVE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BATCH = 500
OUTLETS = 10
START = datetime(2019, 2, 20, tzinfo=timezone.utc)
#: About 500 words of text, as a short news article has.
PARAGRAPH = (
    "President Trump and Kim Jong Un ended their second summit in Hanoi without an agreement, after talks "
    "on sanctions relief and the dismantling of the Yongbyon nuclear complex broke down over lunch. "
)


def records(captures: int, seed: int = 2019) -> Iterator[ArchivedRecord]:
    """A crawl's worth of records with ``captures`` responses, generated as they are consumed."""
    rng = random.Random(seed)
    outlets = [
        {"name": f"Outlet {i}", "homepage": f"http://www.outlet{i}.example/", "allowed_domains": [f"outlet{i}.example"]}
        for i in range(OUTLETS)
    ]
    offset = 0

    def record(rec_type: str, url: str, when: datetime, **fields: object) -> ArchivedRecord:
        nonlocal offset
        offset += 2000
        return ArchivedRecord(
            rec_type=rec_type,
            record_id=f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>",
            target_uri=url,
            date=when,
            location=RecordLocation("bench.warc.gz", offset, 2000),
            **fields,  # type: ignore[arg-type]
        )

    yield record("warcinfo", "", START, data={OUTLETS_FIELD: outlets_field(outlets)})
    articles = max(1, captures // 4)  # so that each article is captured about three times
    edits: dict[int, int] = {}
    recent: list[str] = []
    for n in range(captures):
        when = START + timedelta(seconds=7 * n)
        outlet = rng.randrange(OUTLETS)
        host = f"http://www.outlet{outlet}.example"
        kind = rng.random()
        if n % 100 == 99:  # a feed listing the latest articles
            feed = record("response", f"{host}/feed.xml", when, status=200, content_type="application/rss+xml")
            yield feed
            entries = [(url, when.date().isoformat()) for url in recent[-20:]]
            yield record(
                "metadata",
                f"{host}/feed.xml",
                when,
                refers_to=feed.record_id,
                data=listing_payload(f"Outlet {outlet}", "feed", entries),
            )
        elif kind < 0.10:  # a short link redirecting to an article
            index = rng.randrange(articles)
            yield record(
                "response",
                f"http://www.outlet{index % OUTLETS}.example/?p={index}",
                when,
                status=301,
                redirect_url=_article_url(index),
            )
        elif kind < 0.25:  # a section page, or a deleted article
            status = 404 if kind < 0.13 else 200
            yield record("response", f"{host}/section/{rng.randrange(50)}/page/{n}", when, status=status)
        else:  # an article page and its extraction
            index = rng.randrange(articles)
            if rng.random() < 0.1:
                edits[index] = edits.get(index, 0) + 1
            url = _article_url(index)
            page = record("response", url, when, status=200, content_type="text/html; charset=utf-8")
            yield page
            body = f"Article {index}. " + PARAGRAPH * 20 + f" Update {edits.get(index, 0)}."
            yield record(
                "metadata",
                url,
                when,
                refers_to=page.record_id,
                data=article_payload(
                    f"Outlet {index % OUTLETS}",
                    Extraction(
                        text=body,
                        title=f"Story number {index}",
                        author="A. Reporter",
                        published=when.date().isoformat(),
                        canonical_url=url,
                        extractor="trafilatura",
                        extractor_version="2.3.0",
                    ),
                ),
            )
            recent.append(url)


def _article_url(index: int) -> str:
    return f"http://www.outlet{index % OUTLETS}.example/news/2019/02/story-{index}"


def peak_rss() -> int:
    """This process's largest resident set so far, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def ingest_stage(database_url: str, captures: int) -> dict[str, float]:
    engine = open_database(database_url)
    ingester = Ingester(session_factory(engine))
    count = 0

    def indexed(batch: int) -> None:
        nonlocal count
        count += batch

    started = time.perf_counter()
    ingester.ingest_all(records(captures), BATCH, indexed)
    with session_factory(engine).begin() as session:
        refresh_statistics(session)  # as `newsarchive reindex` does at the end
    seconds = time.perf_counter() - started
    engine.dispose()
    counts = ingester.counts
    return {
        "records": count,
        "captures": counts.captures,
        "articles": counts.articles,
        "versions": counts.versions,
        "seconds": seconds,
        "peak_rss": peak_rss(),
    }


def export_stage(database_url: str, output: str) -> dict[str, float]:
    from archive.export import columns_of, write_rows  # not in the indexing stage's memory

    engine = open_database(database_url)
    query = captures_query()
    started = time.perf_counter()
    with session_factory(engine)() as session, open(output, "wb") as out:
        rows = write_rows(stream(session, query), columns_of(query), out, "parquet")
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"rows": rows, "seconds": seconds, "peak_rss": peak_rss(), "bytes": Path(output).stat().st_size}


def run_stage(*args: str) -> dict[str, float]:
    """One stage in a fresh process; its JSON result."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--stage", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"stage {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.splitlines()[-1])
    return result


def postgres_schema() -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    return schema, f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--stage", nargs="+", help=argparse.SUPPRESS)  # internal: run one stage here
    args = parser.parse_args(argv)
    if args.stage:
        name, url, value = args.stage
        result = ingest_stage(url, int(value)) if name == "ingest" else export_stage(url, value)
        print(json.dumps(result))
        return 0

    rows = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
            schema = None
            if backend == "postgresql":
                schema, url = postgres_schema()
            else:
                url = f"sqlite:///{Path(folder) / 'archive.db'}"
            try:
                ingested = run_stage("ingest", url, str(args.captures))
                exported = run_stage("export", url, str(Path(folder) / "captures.parquet"))
            finally:
                if schema:
                    drop_schema(schema)
        rows.append((backend, ingested, exported))
        print(
            f"{backend}: {ingested['captures']:,.0f} captures ({ingested['records']:,.0f} records, "
            f"{ingested['articles']:,.0f} articles, {ingested['versions']:,.0f} versions) in "
            f"{ingested['seconds']:.1f} s",
            file=sys.stderr,
        )

    print(f"Indexing {args.captures:,} synthetic captures (batches of {BATCH} records), then exporting them")
    print()
    print("| backend | captures/s | records/s | peak memory | export rows/s (Parquet) | export peak memory |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for backend, ingested, exported in rows:
        print(
            f"| {backend} | {ingested['captures'] / ingested['seconds']:,.0f} "
            f"| {ingested['records'] / ingested['seconds']:,.0f} | {ingested['peak_rss'] / 1e6:,.0f} MB "
            f"| {exported['rows'] / exported['seconds']:,.0f} | {exported['peak_rss'] / 1e6:,.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
