"""Whole distributed crawls: several ``scrapy crawl news`` workers, one Redis frontier, one PostgreSQL database.

Each test generates a web (:mod:`.web`), pushes its seeds under a key prefix of
its own, and starts worker processes that share the WARC folder and a PostgreSQL
schema of the test's own. The web's server logs when it served each request, so
overlaps per host across all workers can be counted.
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from archive.config import ArchivePaths
from archive.db.ingester import Ingester
from archive.db.models import Capture, Url
from archive.db.session import open_database, session_factory
from archive.frontier import FrontierKeys, crawl_status, push_seeds
from archive.index import IndexStore
from archive.opening import recover_archive
from archive.seeds import load_seeds
from archive.warc.files import OPEN_SUFFIX, parse_name
from archive.warc.reader import iter_records
from tests.crawler.distributed.conftest import Worker, start_worker
from tests.crawler.distributed.web import GeneratedWeb, Hit, max_overlap

WORKER_TIMEOUT = 240
PER_HOST = 2


def start_crawl(web: GeneratedWeb, client: redis.Redis, keys: FrontierKeys, pg_url: str, tmp_path: Path) -> Path:
    """Push the web's seeds and create the database schema; return the shared data folder."""
    push_seeds(client, keys, load_seeds(web.write_seeds(tmp_path / "seeds.toml")))
    open_database(pg_url).dispose()
    return tmp_path / "data"


def wait(workers: list[Worker]) -> None:
    deadline = time.monotonic() + WORKER_TIMEOUT
    for worker in workers:
        worker.process.wait(timeout=max(1.0, deadline - time.monotonic()))


def warc_records(data_dir: Path) -> dict[str, list[tuple[str, str, str]]]:
    """(file, record id, record type) of every response and revisit record, by URL, from every closed WARC."""
    found: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    warcs = data_dir / "warcs"
    assert not list(warcs.glob(f"*{OPEN_SUFFIX}")), "a WARC file was left open"
    for path in sorted(warcs.glob("*.warc.gz")):
        for record in iter_records(path):
            if record.rec_type in ("response", "revisit"):
                found[record.target_uri].append((path.name, record.record_id, record.rec_type))
    return found


def db_captures(pg_url: str) -> dict[str, tuple[str, str]]:
    """(URL, WARC file) of every capture row, by record id."""
    engine = open_database(pg_url)
    with session_factory(engine)() as session:
        rows = session.execute(select(Capture.record_id, Url.url, Capture.warc_filename).join(Capture.url)).all()
    engine.dispose()
    return {record_id: (url, filename) for record_id, url, filename in rows}


def check_politeness(web: GeneratedWeb) -> None:
    """No host was ever served more than PER_HOST requests at once, whichever workers sent them."""
    for host in web.hosts:
        hits = [h for h in web.hits_for(host) if not h.path.endswith("robots.txt")]
        assert hits
        assert max_overlap(hits) <= PER_HOST, f"{host} served {max_overlap(hits)} requests at once"


def test_three_workers_archive_every_page_exactly_once(
    redis_client: redis.Redis, keys: FrontierKeys, pg_url: str, tmp_path: Path
) -> None:
    with GeneratedWeb(outlets=3, sections=4, articles=25) as web:
        data = start_crawl(web, redis_client, keys, pg_url, tmp_path)
        workers = [
            start_worker(web.proxy_url, keys, pg_url, data, f"w{n}", CONCURRENT_REQUESTS_PER_DOMAIN=str(PER_HOST))
            for n in range(3)
        ]
        wait(workers)
    for worker in workers:
        assert worker.process.returncode == 0, worker.log[-3000:]
        assert "Spider closed (finished)" in worker.log and "Traceback" not in worker.log, worker.log[-3000:]

    # the workers shared the crawl, each writing WARC files of its own (named for the pid of the
    # worker's archiver process, which its log gives, and the host)
    records = warc_records(data)
    files = {name for found in records.values() for name, _, _ in found}
    writers = {str(parse_name(name).pid) for name in files}  # type: ignore[union-attr]
    archivers = {re.search(r"archiving to .* in process (\d+)", w.log)[1] for w in workers}  # type: ignore[index]
    assert writers <= archivers and len(writers) >= 2
    # every page once across all WARCs; robots.txt once per worker and host (each worker reads it itself)
    pages = {url: found for url, found in records.items() if not url.endswith("/robots.txt")}
    assert set(pages) == web.crawled_urls
    assert {url: len(found) for url, found in pages.items() if len(found) != 1} == {}
    served = Counter(h.url for h in web.hits)
    assert {url: n for url, n in served.items() if n != 1 and not url.endswith("/robots.txt")} == {}
    # the database indexes exactly the records in the WARC files, pointing at the right file
    in_warcs = {record_id: (url, name) for url, found in records.items() for name, record_id, _ in found}
    assert db_captures(pg_url) == in_warcs
    check_politeness(web)
    status = crawl_status(redis_client, keys)
    assert (status.queued, status.seeds_pending, status.workers, status.requeued) == (0, 0, [], 0)


def test_a_worker_killed_mid_crawl_loses_nothing(
    redis_client: redis.Redis, keys: FrontierKeys, pg_url: str, tmp_path: Path
) -> None:
    with GeneratedWeb(outlets=3, sections=4, articles=25, service_seconds=0.05) as web:
        data = start_crawl(web, redis_client, keys, pg_url, tmp_path)
        workers = [
            start_worker(web.proxy_url, keys, pg_url, data, f"w{n}", CONCURRENT_REQUESTS_PER_DOMAIN=str(PER_HOST))
            for n in range(3)
        ]
        victim = workers[0]
        # kill it a third of the way through, while it holds requests
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            taken = [w.in_flight for w in crawl_status(redis_client, keys).workers if w.pid == victim.process.pid]
            if len(web.hits) >= len(web.pages) // 3 and taken and taken[0] > 0:
                break
            time.sleep(0.02)
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        wait(workers[1:])
        hits: list[Hit] = list(web.hits)
    for worker in workers[1:]:
        assert worker.process.returncode == 0, worker.log[-3000:]
        assert "Spider closed (finished)" in worker.log, worker.log[-3000:]
    assert victim.process.returncode == -signal.SIGKILL
    victim_archiver = re.search(r"archiving to .* in process (\d+)", victim.log)[1]  # type: ignore[index]
    status = crawl_status(redis_client, keys)
    # the victim held unfinished requests when it died; the survivors put them back in the queue
    assert taken and taken[0] > 0
    assert status.requeued > 0
    assert (status.queued, status.workers) == (0, [])

    # its WARC file was left open, possibly torn: recovery keeps its whole records and indexes them
    engine = open_database(pg_url)
    paths = ArchivePaths.resolve(data_dir=data, database_url=pg_url)
    recovered = recover_archive(paths, Ingester(session_factory(engine)), IndexStore(paths.index_dir))
    engine.dispose()
    assert [parse_name(r.path.name).pid for r in recovered] == [int(victim_archiver)]

    records = warc_records(data)
    pages = {url: found for url, found in records.items() if not url.endswith("/robots.txt")}
    # nothing is missing
    assert set(pages) == web.crawled_urls
    # a page archived twice was fetched by the victim, which wrote its record but died before confirming it,
    # and fetched again from the queue by a survivor: at least once, never lost
    twice = {url: found for url, found in pages.items() if len(found) > 1}
    for url, found in twice.items():
        assert len(found) == 2, (url, found)
        assert sum(f"-{victim_archiver}~" in name for name, _, _ in found) == 1, (url, found)
    served = Counter(h.url for h in hits if not h.url.endswith("/robots.txt"))
    assert {url for url, n in served.items() if n > 1} >= set(twice)
    # the database indexes exactly the records in the WARC files
    in_warcs = {record_id: (url, name) for url, found in records.items() for name, record_id, _ in found}
    assert db_captures(pg_url) == in_warcs
    check_politeness(web)


def test_a_stopped_crawl_goes_on_where_it_stopped(
    redis_client: redis.Redis, keys: FrontierKeys, pg_url: str, tmp_path: Path
) -> None:
    with GeneratedWeb(outlets=2, sections=3, articles=20, service_seconds=0.05) as web:
        data = start_crawl(web, redis_client, keys, pg_url, tmp_path)
        first = start_worker(web.proxy_url, keys, pg_url, data, "first")
        deadline = time.monotonic() + 60
        while len(web.hits) < len(web.pages) // 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        first.process.send_signal(signal.SIGTERM)  # Ctrl-C: a graceful stop
        first.process.wait(timeout=WORKER_TIMEOUT)
        left = crawl_status(redis_client, keys)
        second = start_worker(web.proxy_url, keys, pg_url, data, "second")
        wait([second])
    assert first.process.returncode == 0 and "Spider closed (shutdown)" in first.log
    assert second.process.returncode == 0 and "Spider closed (finished)" in second.log, second.log[-3000:]
    # the queue was kept, and nothing the first worker took was lost or left behind
    assert left.queued > 0 and left.workers == []
    records = warc_records(data)
    pages = {url: found for url, found in records.items() if not url.endswith("/robots.txt")}
    assert set(pages) == web.crawled_urls
    assert {url: len(found) for url, found in pages.items() if len(found) != 1} == {}
    in_warcs = {record_id: (url, name) for url, found in records.items() for name, record_id, _ in found}
    assert db_captures(pg_url) == in_warcs


@pytest.mark.parametrize("delay", [0.25])
def test_delay_and_retry_after_hold_across_workers(
    redis_client: redis.Redis, keys: FrontierKeys, pg_url: str, tmp_path: Path, delay: float
) -> None:
    busy = "http://www.outlet0.example/section-0/"
    with GeneratedWeb(outlets=1, sections=2, articles=6, busy=(busy,), retry_after=2) as web:
        data = start_crawl(web, redis_client, keys, pg_url, tmp_path)
        workers = [
            start_worker(web.proxy_url, keys, pg_url, data, f"w{n}", DOWNLOAD_DELAY=str(delay), RETRY_TIMES="2")
            for n in range(2)
        ]
        wait(workers)
    for worker in workers:
        assert worker.process.returncode == 0 and "Spider closed (finished)" in worker.log, worker.log[-3000:]
    starts = sorted(h.start for h in web.hits_for(web.hosts[0]))
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # one request at a time, DOWNLOAD_DELAY apart, although two workers shared the site (with 20 % slack
    # for the time between a grant in Redis and the request reaching the server; two workers spacing
    # their requests each on its own would often come within a few milliseconds of each other)
    assert min(gaps) >= 0.8 * delay, gaps
    # the 429 paused the site for both workers for its Retry-After
    (refused,) = [h for h in web.hits if h.status == 429]
    after = [h.start for h in web.hits if h.start > refused.start]
    assert min(after) - refused.end >= 2 - 0.05
    assert sum(h.url == busy for h in web.hits) == 2  # refused, then fetched once the pause was over
