"""The recheck schedule and the checks counted are a function of the captures, whatever order they are indexed in.

Crawlers sharing a WARC folder write their files side by side, and a rebuild
reads them by name: the records of one article's checks reach the ingester in
any order, the article's own ``article/1`` record sometimes after every check
of it. Each file here is one fetch; the database made by indexing the files in
time order (as the crawl did) must be the one every other order makes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from archive.db import open_database, session_factory
from archive.db.ingester import Ingester
from archive.warc.records import SERVER_NOT_MODIFIED, ArchivedRecord, HttpExchange, RevisitOf, exchange_records
from tests.archive.dbdump import dump
from tests.archive.recording import Recording, at

STORY = "http://www.example.com/news/story"
AMP = "http://www.example.com/news/story/amp"  # its canonical link names STORY: an alias from its record on
CLICK = "http://feeds.example.com/~r/story"  # a feed's link redirecting to STORY: the way to it, no check
#: The hours (after ``at(0)``) of the checks of STORY that count: every capture after its first sighting at 0.
COUNTED_HOURS = [1, 2, 3, 4, 6]
FETCHES = 8


def not_modified(rec: Recording, url: str, when: datetime, original: ArchivedRecord) -> None:
    """A 304 answer with an ETag, archived as a server-not-modified revisit of ``original`` (of any file)."""
    exchange = HttpExchange(
        url=url,
        method="GET",
        request_headers=[(b"Host", url.split("/")[2].encode()), (b"If-None-Match", b'"v1"')],
        status=304,
        response_headers=[(b"ETag", b'"v1"')],
        body=b"",
        fetched_at=when,
    )
    held = RevisitOf(
        original.record_id, original.target_uri, original.date, original.payload_digest, SERVER_NOT_MODIFIED
    )
    rec._write(list(exchange_records(exchange, rec.writer.builder, held)))


def fetches(folder: Path) -> list[list[ArchivedRecord]]:
    """One article's fetches, one file each, in time order: their records as each file holds them."""
    files: list[Recording] = []

    def fetch() -> Recording:
        files.append(Recording(folder, prefix=f"crawler{len(files)}"))
        return files[-1]

    fetch().page(STORY, "Service Unavailable", at(-1), status=503)  # before the article was known: no count
    rec = fetch()
    first = rec.response(rec.page(STORY, "<html>Summit ends</html>", at(0)))
    rec.article(first.record_id, STORY, "Summit ends", "Talks collapsed.", at(0), canonical_url=STORY)
    fetch().revisit(STORY, at(1), first)
    not_modified(fetch(), STORY, at(2), first)
    rec = fetch()
    edited = rec.page(STORY, "<html>Summit ends early</html>", at(3))
    rec.article(edited, STORY, "Summit ends early", "Talks collapsed early.", at(3), canonical_url=STORY)
    rec = fetch()
    amp = rec.page(AMP, "<html>amp: Summit ends early</html>", at(4))
    rec.article(amp, AMP, "Summit ends early", "Talks collapsed early.", at(4), canonical_url=STORY)
    fetch().page(CLICK, "moved", at(5), status=302, location=STORY)
    fetch().page(STORY, "Internal Server Error", at(6), status=500)
    for rec in files:
        rec.close()
    assert len(files) == FETCHES
    return [rec.records for rec in files]


def indexed(files: list[list[ArchivedRecord]], order: list[int], database_url: str) -> dict:
    """The dump of a fresh database indexing the files in ``order``, one transaction each, as a rebuild does."""
    engine = open_database(database_url)
    try:
        ingester = Ingester(session_factory(engine))
        for n in order:
            ingester.ingest(files[n])
        with session_factory(engine)() as session:
            return dump(session)
    finally:
        engine.dispose()


ORDERS = {
    "reversed": list(reversed(range(FETCHES))),
    "first sighting last": [0, 2, 3, 4, 5, 6, 7, 1],
    "the edit before the first sighting": [4, 2, 1, 3, 0, 6, 5, 7],
    "the alias first": [5, 6, 7, 0, 3, 2, 4, 1],
    **{f"shuffled {seed}": random.Random(seed).sample(range(FETCHES), FETCHES) for seed in range(3)},
}


def naive(hours: float) -> datetime:
    """``at(hours)`` as the database holds it (naive UTC)."""
    return at(hours).replace(tzinfo=None)


def test_each_check_after_the_first_sighting_counts_once_and_the_latest_decides(
    tmp_path: Path, database_url: str
) -> None:
    live = indexed(fetches(tmp_path / "warcs"), list(range(FETCHES)), database_url)

    assert live["recheck_counts"] == [("Example News", naive(hours), 1) for hours in COUNTED_HOURS]
    ((url, outlet, state, next_check, last_checked, last_changed, *_, etag, _, fetch_url, _, body_at, _),) = live[
        "recheck_schedule"
    ]
    assert (url, outlet, state, etag) == (STORY, "Example News", "watching", '"v1"')  # the 304's validator
    assert (last_checked, last_changed) == (naive(6), naive(3))  # the 500; the edit
    assert next_check is not None and next_check > last_checked
    assert (fetch_url, body_at) == (AMP, naive(4))  # the latest answer with a body: the alias's page


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_every_indexing_order_makes_the_same_database(
    tmp_path: Path, new_database_url: Callable[[], str], order: list[int]
) -> None:
    files = fetches(tmp_path / "warcs")
    assert indexed(files, order, new_database_url()) == indexed(files, list(range(FETCHES)), new_database_url())
