"""Benchmarks of one component, each side run as ``python -m bench.micro ...`` in a child
process; each prints one JSON line. The inputs come from :mod:`bench.synthweb` and
are built before the clock starts.

    python -m bench.micro extract --impl ours|plain --workers N --pages P
    python -m bench.micro warc --impl ours|gzip [--level L] --pages P
    python -m bench.micro lookup --captures N --lookups K [--repeats R]

``--profile FILE`` writes a cProfile of the timed part (the parent process only).
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import importlib.util
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.synthweb import GZIP_LEVEL, SynthWeb

FETCHED_AT = datetime(2019, 3, 1, 12, 0, tzinfo=timezone.utc)


@contextmanager
def _profiled(path: str | None) -> Iterator[None]:
    if not path:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(path)


def _article_pages(pages: int, seed: int) -> list[tuple[str, str]]:
    """``pages`` article pages (html, url), spread over ten outlets."""
    outlets = 10
    web = SynthWeb(outlets, -(-pages // outlets), seed)
    out = []
    for n in range(pages):
        article = web.article(n % outlets, n // outlets)
        out.append((web.article_html(n % outlets, n // outlets).decode(), article.url))
    return out


# -- extraction -------------------------------------------------------------------------
def _extract_ours(html: str, url: str) -> bool:
    from archive.extract import extract_article

    return extract_article(html, url, FETCHED_AT) is not None


def _extract_plain(html: str, url: str) -> bool:
    import trafilatura

    return trafilatura.extract(html, url=url) is not None


EXTRACTORS: dict[str, Callable[[str, str], bool]] = {"ours": _extract_ours, "plain": _extract_plain}


def bench_extract(impl: str, workers: int, pages: int, seed: int, profile: str | None) -> dict[str, Any]:
    """Pages per second through one extractor, in this process or a pool of ``workers``."""
    extract = EXTRACTORS[impl]
    docs = _article_pages(pages, seed)
    htmls, urls = [d[0] for d in docs], [d[1] for d in docs]
    if workers <= 1:
        extract(*docs[0])  # imports and first-call set-up are not timed
        with _profiled(profile):
            began = time.perf_counter()
            found = sum(map(extract, htmls, urls))
            seconds = time.perf_counter() - began
    else:
        # spawn, as the crawler's pipeline does; workers are started and warmed before timing
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            list(pool.map(extract, htmls[:workers], urls[:workers]))
            began = time.perf_counter()
            found = sum(pool.map(extract, htmls, urls, chunksize=1))
            seconds = time.perf_counter() - began
    return {
        "pages": pages,
        "articles": found,
        "seconds": seconds,
        "pages_per_s": pages / seconds,
        "mb": sum(map(len, htmls)) / 1e6,
    }


# -- WARC writing -----------------------------------------------------------------------------
def _exchanges(pages: int, seed: int) -> list[tuple[str, list[tuple[bytes, bytes]], bytes]]:
    """What the crawler hands the archive for the first ``pages`` URLs of a crawl: URL,
    response headers and body as the server sent it (gzip-encoded where it was)."""
    outlets = 10
    web = SynthWeb(outlets, -(-pages // outlets), seed)
    out = []
    for url in list(web.crawl_urls())[:pages]:
        parts = urlsplit(url)
        page = web.resolve(parts.netloc, parts.path)
        body, headers = page.body, [(b"Content-Type", page.content_type.encode())]
        if page.gzip:
            body = gzip.compress(body, GZIP_LEVEL, mtime=0)
            headers.append((b"Content-Encoding", b"gzip"))
        headers += [(n.encode(), v.encode()) for n, v in page.headers]
        out.append((url, headers, body))
    return out


REQUEST_HEADERS = [
    (b"Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    (b"Accept-Language", b"en"),
    (b"User-Agent", b"newsarchive/0.1.0 (+http://localhost/bench)"),
    (b"Accept-Encoding", b"gzip, deflate"),
]


def bench_warc(impl: str, level: int, pages: int, seed: int, profile: str | None) -> dict[str, Any]:
    """MB/s of HTTP exchanges written: our WarcWriter (records, digests, one gzip member
    per record) or plain gzip of the same request and response bytes in one stream."""
    from archive.warc.records import HttpExchange, exchange_records
    from archive.warc.writer import DEFAULT_COMPRESSION, WarcWriter

    exchanges = _exchanges(pages, seed)
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as tmp:
        with _profiled(profile):
            began = time.perf_counter()
            if impl == "ours":
                writer = WarcWriter(Path(tmp), info={"software": "bench"}, prefix="bench")
                for url, headers, body in exchanges:
                    exchange = HttpExchange(
                        url=url,
                        method="GET",
                        request_headers=[(b"Host", urlsplit(url).netloc.encode()), *REQUEST_HEADERS],
                        status=200,
                        response_headers=headers,
                        body=body,
                        fetched_at=FETCHED_AT,
                    )
                    writer.write(exchange_records(exchange, writer.builder))
                writer.close()
            else:
                path = Path(tmp) / "plain.gz"
                with gzip.open(path, "wb", compresslevel=level) as out:
                    for url, headers, body in exchanges:
                        request = [
                            f"GET {urlsplit(url).path} HTTP/1.1".encode(),
                            b"Host: " + urlsplit(url).netloc.encode(),
                        ]
                        request += [n + b": " + v for n, v in REQUEST_HEADERS]
                        out.write(b"\r\n".join(request) + b"\r\n\r\n")
                        out.write(b"\r\n".join([b"HTTP/1.1 200 OK", *(n + b": " + v for n, v in headers)]))
                        out.write(b"\r\n\r\n")
                        out.write(body)
                    out.flush()
                    os.fsync(out.fileno())
            seconds = time.perf_counter() - began
        written = sum(p.stat().st_size for p in Path(tmp).iterdir())
    payload = sum(len(body) + sum(len(n) + len(v) + 4 for n, v in headers) for _, headers, body in exchanges)
    return {
        "exchanges": len(exchanges),
        "seconds": seconds,
        "mb_in": payload / 1e6,
        "mb_out": written / 1e6,
        "mb_per_s": payload / 1e6 / seconds,
        "level": DEFAULT_COMPRESSION if impl == "ours" else level,
    }


# -- capture lookup -------------------------------------------------------------------------
CAPTURES_PER_URL = 4
#: Captures per WARC file: a crawl of the synthetic web writes ~24 KB per exchange, so a
#: 1 GB file (ARCHIVE_WARC_MAX_SIZE) holds about 40,000.
CAPTURES_PER_WARC = 40_000
YEAR_START = datetime(2019, 1, 1)
YEAR_SECONDS = 365 * 86400


def _lookup_url(u: int) -> str:
    return f"http://www.outlet{u % 10}.example/news/2019/{u // 1000:04d}/story-{u}.html"


def _capture_rows(captures: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    """Capture rows in batches that are whole WARC files: four captures per URL at random
    times over a year."""
    rng = random.Random(seed)
    for start in range(0, captures, CAPTURES_PER_WARC):
        rows = []
        for c in range(start, min(captures, start + CAPTURES_PER_WARC)):
            offset = rng.getrandbits(40)
            rows.append(
                {
                    "url_id": c // CAPTURES_PER_URL + 1,
                    "fetched_at": YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS)),
                    "status": 200,
                    "content_type": "text/html; charset=utf-8",
                    "payload_digest": f"sha1:{offset:032X}",
                    "record_id": f"<urn:uuid:{c:08d}-0000-4000-8000-{offset:012x}>",
                    "warc_filename": f"newsarchive-2019-{c // CAPTURES_PER_WARC:05d}.warc.gz",
                    "warc_offset": offset,
                    "warc_length": 30_000,
                }
            )
        yield rows


def _build_database(database_url: str, captures: int, seed: int) -> float:
    """Fill a fresh database, made by the project's migrations, with ``captures`` rows
    through the models' tables (bulk inserts); returns the seconds taken."""
    from sqlalchemy import insert

    from archive.db.models import Capture, Outlet, Url
    from archive.db.session import open_database, session_factory

    engine = open_database(database_url)
    urls = captures // CAPTURES_PER_URL
    began = time.perf_counter()
    with session_factory(engine).begin() as session:
        session.execute(insert(Outlet), [{"id": o + 1, "name": f"outlet {o}", "domains": []} for o in range(10)])
        for start in range(0, urls, 20_000):
            rows = [
                {"id": u + 1, "url": _lookup_url(u), "host": f"www.outlet{u % 10}.example", "outlet_id": u % 10 + 1}
                for u in range(start, min(urls, start + 20_000))
            ]
            session.execute(insert(Url), rows)
        for rows in _capture_rows(captures, seed):
            session.execute(insert(Capture), rows)
    seconds = time.perf_counter() - began
    engine.dispose()
    return seconds


def _build_cdxj(index_dir: Path, captures: int, seed: int) -> tuple[Any, float]:
    """HOOK(cdxj): the same captures as a CDXJ index (``archive.index``, looked up by
    ``archive.replay``; both added by a separate change), one sorted file per WARC file as
    the crawler writes them. (None, 0) without them; the table then says so."""
    if importlib.util.find_spec("archive.index") is None or importlib.util.find_spec("archive.replay") is None:
        return None, 0.0
    from archive.index import IndexStore, cdxj_line
    from archive.warc.records import ArchivedRecord, RecordLocation

    store = IndexStore(index_dir)
    began = time.perf_counter()
    for rows in _capture_rows(captures, seed):
        by_file: dict[str, list[str]] = {}
        for row in rows:
            record = ArchivedRecord(
                rec_type="response",
                record_id=row["record_id"],
                target_uri=_lookup_url(row["url_id"] - 1),
                date=row["fetched_at"],
                location=RecordLocation(row["warc_filename"], row["warc_offset"], row["warc_length"]),
                status=row["status"],
                content_type=row["content_type"],
                payload_digest=row["payload_digest"],
            )
            by_file.setdefault(row["warc_filename"], []).append(cdxj_line(record) or "")
        for name, lines in by_file.items():
            store.write(name, lines)
    return store, time.perf_counter() - began


Pointer = tuple[str, int, int]


def sqlite_lookup(session: Any, url: str, when: datetime) -> Pointer | None:
    """The capture of ``url`` nearest ``when`` (a tie goes to the earlier one, as in
    ``archive.replay.nearest``), as (WARC file, offset, length): the latest capture at or
    before ``when`` and the earliest after it, each one indexed query.

    ``archive.queries`` has no such lookup; this is the query it would run, on the models.
    """
    from sqlalchemy import select

    from archive.db.models import Capture, Url

    columns = (Capture.fetched_at, Capture.warc_filename, Capture.warc_offset, Capture.warc_length)
    of_url = Capture.url_id == select(Url.id).where(Url.url == url).scalar_subquery()
    before = session.execute(
        select(*columns).where(of_url, Capture.fetched_at <= when).order_by(Capture.fetched_at.desc()).limit(1)
    ).first()
    after = session.execute(
        select(*columns).where(of_url, Capture.fetched_at > when).order_by(Capture.fetched_at).limit(1)
    ).first()
    if before is None or (after is not None and after[0] - when < when - before[0]):
        before = after
    return None if before is None else (before[1], before[2], before[3])


def cdxj_lookup(store: Any, url: str, when: datetime) -> Pointer | None:
    """The same lookup as replay does it: ``archive.replay.find_capture`` on the CDXJ index."""
    from archive.replay import find_capture

    entry = find_capture(store, url, when)
    return None if entry is None else (entry.filename, entry.offset, entry.length)


def _timed(
    lookup: Callable[[str, datetime], Pointer | None], queries: list[tuple[str, datetime]], profile: str | None
) -> tuple[float, list[Pointer | None]]:
    lookup(*queries[0])  # statement compilation and file opening are not timed
    with _profiled(profile):
        began = time.perf_counter()
        found = [lookup(url, when) for url, when in queries]
        return time.perf_counter() - began, found


def bench_lookup(captures: int, lookups: int, repeats: int, seed: int, profile: str | None) -> dict[str, Any]:
    """Lookups per second of a capture by URL and time among ``captures``, in the database
    and (when the project has one) the CDXJ index: medians of ``repeats`` passes of
    ``lookups`` random lookups. Both must find the same record every time."""
    from archive.db.session import open_database, session_factory

    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as tmp:
        database_url = f"sqlite:///{tmp}/archive.db"
        build_seconds = _build_database(database_url, captures, seed)
        store, cdxj_build_seconds = _build_cdxj(Path(tmp) / "cdxj", captures, seed)
        rng = random.Random(seed + 1)
        urls = captures // CAPTURES_PER_URL
        engine = open_database(database_url)
        sqlite_passes, cdxj_passes = [], []
        with session_factory(engine)() as session:
            for _ in range(repeats):
                queries = [
                    (_lookup_url(rng.randrange(urls)), YEAR_START + timedelta(seconds=rng.randrange(YEAR_SECONDS)))
                    for _ in range(lookups)
                ]
                seconds, found = _timed(lambda u, w: sqlite_lookup(session, u, w), queries, profile)
                sqlite_passes.append(seconds)
                if None in found:
                    raise RuntimeError(f"{found.count(None)} database lookups found nothing")
                if store is not None:
                    seconds, found_cdxj = _timed(lambda u, w: cdxj_lookup(store, u, w), queries, None)
                    cdxj_passes.append(seconds)
                    if found_cdxj != found:
                        raise RuntimeError("the CDXJ index and the database disagree")
        engine.dispose()
        database_mb = os.path.getsize(f"{tmp}/archive.db") / 1e6
    result = {
        "captures": captures,
        "lookups": lookups,
        "repeats": repeats,
        "us_per_lookup": statistics.median(sqlite_passes) / lookups * 1e6,
        "build_seconds": build_seconds,
        "database_mb": database_mb,
    }
    if cdxj_passes:
        result["cdxj_us_per_lookup"] = statistics.median(cdxj_passes) / lookups * 1e6
        result["cdxj_build_seconds"] = cdxj_build_seconds
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.micro", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    extract = sub.add_parser("extract")
    extract.add_argument("--impl", choices=sorted(EXTRACTORS), required=True)
    extract.add_argument("--workers", type=int, default=1)
    extract.add_argument("--pages", type=int, default=200)
    warc = sub.add_parser("warc")
    warc.add_argument("--impl", choices=("ours", "gzip"), required=True)
    warc.add_argument("--level", type=int, default=9, help="gzip level of the plain baseline")
    warc.add_argument("--pages", type=int, default=1000)
    lookup = sub.add_parser("lookup")
    lookup.add_argument("--captures", type=int, default=10_000)
    lookup.add_argument("--lookups", type=int, default=2000)
    lookup.add_argument("--repeats", type=int, default=3, help="timed passes; the median is reported")
    for command in (extract, warc, lookup):
        command.add_argument("--seed", type=int, default=0)
        command.add_argument("--profile", help="write a cProfile of the timed part here")
    args = parser.parse_args(argv)
    if args.command == "extract":
        result = bench_extract(args.impl, args.workers, args.pages, args.seed, args.profile)
    elif args.command == "warc":
        result = bench_warc(args.impl, args.level, args.pages, args.seed, args.profile)
    else:
        result = bench_lookup(args.captures, args.lookups, args.repeats, args.seed, args.profile)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
