"""The recorder: its view of an exchange, what it tells others, and a crawl without a proxy (the server's IP known)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Headers, HtmlResponse
from sqlalchemy import select, text

from archive.db import Capture, open_database, session_factory
from archive.warc.records import HttpExchange
from crawler.items import Listing
from crawler.recorder import FETCHED_AT_META, WarcRecorder, _header_lines, _request_headers
from tests.conftest import run_crawl
from tests.crawler import archive_crawler
from tests.fixtureweb.server import FixtureWeb


@dataclass
class FakeArchiver:
    """What the recorder hands its archiver process, and the counters it reads back."""

    exchanges: list[HttpExchange] = field(default_factory=list)
    metadata: list[tuple[Any, ...]] = field(default_factory=list)
    batches_submitted: int = 0
    batches_written: int = 0
    failure: BaseException | None = None
    flushes: int = 0

    def submit_exchange(self, exchange: HttpExchange) -> None:
        self.exchanges.append(exchange)
        self.batches_submitted += 1

    def submit_metadata(self, *args: Any, **kwargs: Any) -> None:
        self.metadata.append(args)
        self.batches_submitted += 1

    def flush(self) -> None:
        self.flushes += 1


class SendsAtOnce:
    """Stands in for the recorder's send at the end of the event loop's turn, where no loop runs."""

    def __init__(self, send: Callable[[], None]) -> None:
        self.send = send

    def schedule(self) -> None:
        self.send()


def recorder_with(archiver: FakeArchiver) -> WarcRecorder:
    recorder = archive_crawler(ARCHIVE_ENABLED=True).get_extension(WarcRecorder)
    assert recorder is not None
    recorder.archiver = archiver  # type: ignore[assignment]
    recorder._flush = SendsAtOnce(recorder._send)  # type: ignore[assignment]
    return recorder


def test_repeated_headers_are_kept_one_per_line() -> None:
    headers = Headers({"Set-Cookie": ["a=1", "b=2"], "Content-Type": "text/html"})
    assert _header_lines(headers) == [(b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"), (b"Content-Type", b"text/html")]


def test_request_headers_gain_host_and_lose_proxy_credentials() -> None:
    request = Request(
        "http://user:pw@www.example.com:8080/a?b=1",
        headers={"User-Agent": "newsarchive/test", "Proxy-Authorization": "Basic c2VjcmV0"},
    )
    lines = _request_headers(request)
    assert lines[0] == (b"Host", b"www.example.com:8080")
    assert (b"User-Agent", b"newsarchive/test") in lines
    assert not any(name.lower() == b"proxy-authorization" for name, _ in lines)


def test_direct_crawl_records_the_server_ip(tmp_path: Path) -> None:
    with FixtureWeb() as web:
        port = web.port
        seeds = tmp_path / "local.toml"
        seeds.write_text(
            f'[[outlet]]\nname = "Loopback"\nallowed_domains = ["127.0.0.1"]\n'
            f'start_urls = ["http://127.0.0.1:{port}/"]\narticle_patterns = ["/news/"]\n'
        )
        run = run_crawl(web, tmp_path / "data", seeds=seeds, proxy=False)
    assert run.returncode == 0, run.log[-3000:]
    engine = open_database(run.database_url)
    with session_factory(engine)() as session:
        captures = session.scalars(select(Capture)).all()
        assert {c.url.url for c in captures} == {f"http://127.0.0.1:{port}/robots.txt", f"http://127.0.0.1:{port}/"}
        assert {c.ip_address for c in captures} == {"127.0.0.1"}
    engine.dispose()


def test_an_archive_that_cannot_be_opened_stops_the_crawl_before_any_fetch(
    fixture_web: FixtureWeb, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    engine = open_database(f"sqlite:///{data / 'archive.db'}")
    with engine.begin() as connection:  # a database made by a newer newsarchive
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    run = run_crawl(fixture_web, data)
    assert run.returncode == 1, run.log[-3000:]
    assert "revision 9999, newer than this newsarchive knows" in run.log
    assert "stopping the crawl before it fetches anything" in run.log
    assert "'finish_reason': 'archive_error'" in run.log
    assert run.served == []  # not one page fetched that could not have been archived
    assert not list((data / "warcs").glob("*"))


def test_a_listing_refers_to_the_response_record_of_its_own_response() -> None:
    archiver = FakeArchiver()
    recorder, spider = recorder_with(archiver), Spider(name="test")
    url = "http://news.example/feed"
    request = Request(url)
    downloaded = HtmlResponse(url, body=b"<rss/>", request=request)
    recorder.response_downloaded(downloaded, request, spider)
    (exchange,) = archiver.exchanges
    assert request.meta[FETCHED_AT_META] == exchange.fetched_at  # for the extractor
    scraped = downloaded.replace(body=b"<rss></rss>")  # as a downloader middleware hands it on
    recorder.item_scraped(Listing(url, "Outlet", "feed", [("http://news.example/a", None)]), scraped, spider)
    ((_, refers_to, payload, _),) = archiver.metadata
    assert refers_to == exchange.response_record_id
    assert payload["newsarchive"] == "listing/1"
    assert archiver.flushes == 2  # each submission sent


def test_written_says_when_what_was_submitted_is_on_disk() -> None:
    archiver = FakeArchiver(batches_submitted=3, batches_written=1)
    recorder = recorder_with(archiver)
    mark = recorder.checkpoint()
    assert not recorder.written(mark)
    archiver.batches_written = 3
    assert recorder.written(mark) and not recorder.failed
    archiver.failure = OSError("disk full")
    assert not recorder.written(0) and recorder.failed  # nothing more is written
    recorder.archiver = None  # no archive: nothing to wait for
    assert recorder.written(recorder.checkpoint())
