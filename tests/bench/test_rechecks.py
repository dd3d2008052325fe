"""The recheck benchmarks (bench/rechecks.py): the synthetic web's conditional answers through a
real socket, the due-query database as the bench fills it, and the crawls of the quick variant."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.db.models import Capture, RecheckSchedule
from archive.db.schedule import DUE_BATCH, due_batch
from archive.db.session import open_database
from bench.rechecks import NOW, fill_schedule, recheck_rows, recheck_runs, time_due_queries
from bench.run import SIZES, Suite
from bench.synthweb import SynthServer, SynthWeb
from tests import loopback

WEB = SynthWeb(outlets=2, articles=12, seed=3)


@pytest.fixture(scope="module")
def server() -> Iterator[SynthServer]:
    with SynthServer(WEB) as running:
        yield running


def get(port: int, url: str, *headers: str) -> tuple[str, dict[str, str], bytes]:
    lines = "".join(f"{h}\r\n" for h in ("Host: x", *headers, "Connection: close"))
    status, head, rest = loopback.raw_exchange(port, f"GET {url} HTTP/1.1\r\n{lines}\r\n".encode())
    return status, {name.lower(): value for name, value in head}, rest


def test_articles_carry_a_strong_etag_per_representation_and_last_modified(server: SynthServer) -> None:
    gzipped, plain = WEB.article(0, 3).url, WEB.article(0, 4).url  # every third article is gzip-encoded
    _, identity, _ = get(server.port, gzipped)
    _, encoded, _ = get(server.port, gzipped, "Accept-Encoding: gzip")
    assert identity["etag"].startswith('"') and not identity["etag"].startswith("W/")
    assert encoded["content-encoding"] == "gzip" and encoded["etag"] not in (identity["etag"], None)
    assert identity["last-modified"] == encoded["last-modified"] == "Thu, 28 Feb 2019 20:00:00 GMT"
    assert get(server.port, plain)[1]["etag"] != identity["etag"]  # each article its own
    assert "etag" not in get(server.port, f"{WEB.outlet(0).base}/feed.xml")[1]


def test_a_matching_validator_gets_a_304_without_a_body(server: SynthServer) -> None:
    url = WEB.article(1, 3).url
    _, headers, _ = get(server.port, url, "Accept-Encoding: gzip")
    etag, modified = headers["etag"], headers["last-modified"]
    for conditional in (
        f"If-None-Match: {etag}",
        f'If-None-Match: W/{etag}, "other"',
        f"If-Modified-Since: {modified}",
    ):
        status, answer, body = get(server.port, url, "Accept-Encoding: gzip", conditional)
        assert status == "HTTP/1.1 304 Not Modified", conditional
        assert body == b"" and "content-length" not in answer and "transfer-encoding" not in answer
        assert answer["etag"] == etag and answer["last-modified"] == modified
    # the identity representation is other bytes: the gzip one's ETag does not match it
    assert get(server.port, url, f"If-None-Match: {etag}")[0] == "HTTP/1.1 200 OK"
    # If-None-Match wins over If-Modified-Since
    assert get(server.port, url, 'If-None-Match: "other"', f"If-Modified-Since: {modified}")[0] == "HTTP/1.1 200 OK"
    assert get(server.port, url, "If-Modified-Since: Thu, 28 Feb 2019 19:59:59 GMT")[0] == "HTTP/1.1 200 OK"


def test_a_304_keeps_the_connection_usable(server: SynthServer) -> None:
    article = WEB.article(0, 5)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", article.url)
        first = connection.getresponse()
        etag, _ = first.getheader("ETag"), first.read()
        connection.request("GET", article.url, headers={"If-None-Match": etag})
        response = connection.getresponse()
        assert response.status == 304 and response.read() == b""
        connection.request("GET", article.url)  # the next answer on the same connection is whole
        response = connection.getresponse()
        assert response.status == 200 and response.read() == WEB.article_html(0, 5)
    finally:
        connection.close()


def test_the_switch_answers_conditional_requests_with_the_same_whole_page() -> None:
    url = WEB.article(1, 6).url
    with SynthServer(WEB, conditionals=False) as ignoring:
        _, headers, first = get(ignoring.port, url, "Accept-Encoding: gzip")
        status, _, again = get(ignoring.port, url, "Accept-Encoding: gzip", f"If-None-Match: {headers['etag']}")
    assert status == "HTTP/1.1 200 OK" and again == first  # byte for byte: an identical payload digest


def test_the_due_query_database_holds_full_batches_and_the_counted_checks(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'archive.db'}")
    fill_schedule(engine, 10_000)
    result = time_due_queries(engine, repeats=3)

    with engine.connect() as connection:
        schedule = RecheckSchedule.__table__.c
        due = connection.execute(select(func.count()).where(schedule.next_check_at <= NOW)).scalar_one()
        first = due_batch(connection, NOW)
        second = due_batch(connection, NOW, after=first[-1])
        captures = Capture.__table__.c
        rechecked_last_day = connection.execute(
            select(func.count()).where(captures.status == 304, captures.fetched_at >= NOW - timedelta(days=1))
        ).scalar_one()
    engine.dispose()
    assert result["due"] == due and 2 * DUE_BATCH < due < 10_000
    assert len(first) == len(second) == DUE_BATCH
    assert first[-1].next_check_at <= second[0].next_check_at and {c.article_id for c in first}.isdisjoint(
        c.article_id for c in second
    )
    assert all(c.body is not None and c.etag for c in first)  # what a recheck sends and compares with
    assert result["status_checks_last_day"] == rechecked_last_day > 0
    assert all(result[key] > 0 for key in ("due_first_ms", "due_later_ms", "all_first_ms", "status_ms"))


def test_the_quick_variant_rechecks_every_article_as_asked(tmp_path: Path) -> None:
    suite = Suite(SIZES["small"], runs=1, workdir=tmp_path, keep=False)
    suite.group = "rechecks"
    web = SynthWeb(outlets=2, articles=5, seed=1)
    runs = recheck_runs(suite, web)
    recheck_rows(suite, runs, 10)

    (run,) = runs
    assert (run.answered_304, run.unchanged_200, run.extracted_again) == (10, 10, 0)
    assert run.first.articles == 10
    assert run.not_modified.bytes < run.unchanged.bytes  # 304s carry no bodies
    assert [row.met for row in suite.rows if row.benchmark.startswith("recheck passes answered")] == [True]
    assert {row.target for row in suite.rows} >= {"<= 0.25", "<= 0.4", ">= 1"}
