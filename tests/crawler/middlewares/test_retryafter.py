"""Tests for crawler.middlewares.retryafter: header parsing, slot pauses, back-off, and whole crawls.

One file for the one component, as Scrapy keeps its tests."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Any

import pytest
from scrapy import Request, Spider, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.response import response_status_message

from crawler.addon import NewsArchive
from crawler.middlewares.retryafter import RetryAfterMiddleware, parse_retry_after
from tests.crawler import archive_crawler
from tests.loopback import Loopback, LoopbackHandler, LoopbackServer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler

REPO_ROOT = Path(__file__).resolve().parents[3]


# -- helpers -----------------------------------------------------------------


def make_crawler(**settings: Any) -> Crawler:
    crawler = archive_crawler(Spider, **settings)
    crawler.spider = Spider.from_crawler(crawler, name="retryafter-test")
    return crawler


def make_mw(**settings: Any) -> tuple[RetryAfterMiddleware, Crawler]:
    crawler = make_crawler(**settings)
    return build_from_crawler(RetryAfterMiddleware, crawler), crawler


def send(mw: RetryAfterMiddleware, request: Request) -> float:
    """Run process_request to completion; return the seconds it waited."""
    started = monotonic()
    asyncio.run(mw.process_request(request))
    return monotonic() - started


def answer(request: Request, status: int = 429, headers: dict[str, str] | None = None) -> Response:
    return Response(request.url, status=status, headers=headers, request=request)


def stat(crawler: Crawler, key: str) -> Any:
    return crawler.stats.get_value(key)


# -- Retry-After parsing -----------------------------------------------------

NOW = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(b"120", 120.0), ("0", 0.0), (" 7 ", 7.0), (b"1.5", 1.5)],
)
def test_parse_delta_seconds(value: bytes | str, seconds: float) -> None:
    assert parse_retry_after(value) == seconds


@pytest.mark.parametrize(
    "value",
    [
        "Wed, 21 Oct 2015 07:28:00 GMT",  # IMF-fixdate
        "Wednesday, 21-Oct-15 07:28:00 GMT",  # RFC 850
        "Wed Oct 21 07:28:00 2015",  # asctime
        b"Wed, 21 Oct 2015 08:28:00 +0100",
    ],
)
def test_parse_http_date(value: bytes | str) -> None:
    assert parse_retry_after(value, now=NOW) == 60.0


def test_parse_http_date_in_the_past_is_zero() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=NOW) == 0.0


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"   ",
        b"soon",
        b"-5",
        b"1e3",
        b"12 s",
        "Wed, 32 Oct 2015 07:28:00 GMT",
    ],
)
def test_parse_garbage_is_none(value: bytes | str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


# -- configuration -----------------------------------------------------------


def test_disabled_raises_not_configured() -> None:
    crawler = make_crawler(RETRY_AFTER_ENABLED=False)
    with pytest.raises(NotConfigured):
        build_from_crawler(RetryAfterMiddleware, crawler)


def test_negative_delay_is_rejected() -> None:
    crawler = make_crawler(RETRY_AFTER_BASE_DELAY=-1)
    with pytest.raises(ValueError, match="RETRY_AFTER_BASE_DELAY"):
        build_from_crawler(RetryAfterMiddleware, crawler)


def test_defaults() -> None:
    mw, _ = make_mw()
    assert mw.http_codes == {429, 503}
    assert mw.base_delay == 5.0
    assert mw.max_delay == 600.0


# -- pausing and retrying ----------------------------------------------------


def test_retry_after_seconds_pauses_host_and_retries() -> None:
    mw, crawler = make_mw()
    request = Request("http://a.example/page")
    send(mw, request)
    result = mw.process_response(request, answer(request, 429, {"Retry-After": "30"}))

    assert isinstance(result, Request)
    assert result.url == request.url
    assert result.meta["retry_times"] == 1
    assert result.dont_filter
    assert mw.remaining_pause(result) == pytest.approx(30, abs=0.5)
    assert stat(crawler, "retry/count") == 1
    # The same reason, and stats key, as RetryMiddleware's.
    reason = response_status_message(429)
    assert stat(crawler, f"retry/reason_count/{reason}") == 1
    assert stat(crawler, "retry_after/response_count/429") == 1
    assert stat(crawler, "retry_after/delay/header") == 1
    assert stat(crawler, "retry_after/delay/max") == 30.0


def test_503_is_handled_too() -> None:
    mw, crawler = make_mw()
    request = Request("http://a.example/page")
    result = mw.process_response(request, answer(request, 503, {"Retry-After": "12"}))
    assert isinstance(result, Request)
    assert mw.remaining_pause(request) == pytest.approx(12, abs=0.5)
    assert stat(crawler, "retry/reason_count/503 Service Unavailable") == 1


def test_http_date_is_measured_from_the_date_header() -> None:
    mw, _ = make_mw()
    request = Request("http://a.example/page")
    headers = {
        "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
        "Retry-After": "Wed, 21 Oct 2015 07:28:45 GMT",
    }
    mw.process_response(request, answer(request, 429, headers))
    # Ten years ago by the local clock, 45 s by the server's.
    assert mw.remaining_pause(request) == pytest.approx(45, abs=0.5)


@pytest.mark.parametrize(("settings", "expected"), [({}, 600.0), ({"RETRY_AFTER_MAX_DELAY": 60}, 60.0)])
def test_long_retry_after_is_capped(settings: dict[str, Any], expected: float) -> None:
    mw, crawler = make_mw(**settings)
    request = Request("http://a.example/page")
    mw.process_response(request, answer(request, 429, {"Retry-After": "86400"}))
    assert mw.remaining_pause(request) == pytest.approx(expected, abs=0.5)
    assert stat(crawler, "retry_after/delay/capped") == 1
    assert stat(crawler, "retry_after/delay/max") == expected


def test_missing_or_garbage_header_backs_off_exponentially_up_to_the_cap() -> None:
    mw, crawler = make_mw(RETRY_AFTER_BASE_DELAY=0.05, RETRY_AFTER_MAX_DELAY=0.15, RETRY_TIMES=5)
    request = Request("http://a.example/page")
    pauses = []
    for headers in ({}, {"Retry-After": "soon"}, {}, {}):
        send(mw, request)  # waits out the previous pause: a new failure
        request = mw.process_response(request, answer(request, 429, headers))
        assert isinstance(request, Request)
        pauses.append(mw.remaining_pause(request))
    assert pauses == pytest.approx([0.05, 0.1, 0.15, 0.15], abs=0.02)
    assert stat(crawler, "retry_after/delay/backoff") == 4
    assert stat(crawler, "retry_after/delay/capped") == 2
    assert stat(crawler, "retry_after/waited_requests") == 3


def test_paused_host_waits_while_other_hosts_go_on() -> None:
    mw, crawler = make_mw(RETRY_AFTER_BASE_DELAY=0.3)
    first = Request("http://a.example/1")
    mw.process_response(first, answer(first, 429))

    async def run() -> dict[str, float]:
        started = monotonic()
        done: dict[str, float] = {}

        async def fetch(request: Request) -> None:
            await mw.process_request(request)
            done[urlparse_cached(request).hostname or ""] = monotonic() - started

        # a.example first: a blocking wait would hold b.example back too.
        await asyncio.gather(fetch(Request("http://a.example/2")), fetch(Request("http://b.example/1")))
        return done

    done = asyncio.run(run())
    assert done["b.example"] < 0.1
    assert done["a.example"] >= 0.29
    assert mw.remaining_pause(Request("http://b.example/2")) == 0.0
    assert stat(crawler, "retry_after/waited_requests") == 1


def test_download_slot_meta_defines_the_slot() -> None:
    mw, _ = make_mw()
    request = Request("http://a.example/1", meta={"download_slot": "news"})
    mw.process_response(request, answer(request, 429, {"Retry-After": "30"}))
    same_slot = Request("http://b.example/1", meta={"download_slot": "news"})
    assert mw.remaining_pause(same_slot) == pytest.approx(30, abs=0.5)
    assert mw.remaining_pause(Request("http://a.example/2")) == 0.0


def test_backoff_resets_after_a_success() -> None:
    mw, crawler = make_mw(RETRY_AFTER_BASE_DELAY=0.05, RETRY_TIMES=5)
    request = Request("http://a.example/page")
    for _ in range(2):
        send(mw, request)
        request = mw.process_response(request, answer(request, 429))
    assert mw.remaining_pause(request) == pytest.approx(0.1, abs=0.02)

    send(mw, request)  # waits out the pause
    ok = answer(request, 200)
    assert mw.process_response(request, ok) is ok
    assert stat(crawler, "retry_after/reset") == 1

    request = Request("http://a.example/next")
    send(mw, request)
    mw.process_response(request, answer(request, 429))
    assert mw.remaining_pause(request) == pytest.approx(0.05, abs=0.02)


def test_success_sent_before_the_pause_does_not_cut_it_short() -> None:
    mw, crawler = make_mw()
    limited, in_flight = Request("http://a.example/1"), Request("http://a.example/2")
    send(mw, limited)
    send(mw, in_flight)
    mw.process_response(limited, answer(limited, 429, {"Retry-After": "30"}))
    mw.process_response(in_flight, answer(in_flight, 200))
    assert mw.remaining_pause(limited) == pytest.approx(30, abs=0.5)
    assert stat(crawler, "retry_after/reset") is None


def test_answers_in_flight_together_count_as_one_failure() -> None:
    mw, _ = make_mw(RETRY_AFTER_BASE_DELAY=0.05)
    in_flight = [Request(f"http://a.example/{i}") for i in range(4)]
    for request in in_flight:
        send(mw, request)
    for request in in_flight:
        mw.process_response(request, answer(request))
    assert mw.remaining_pause(in_flight[0]) == pytest.approx(0.05, abs=0.02)

    later = Request("http://a.example/later")
    send(mw, later)
    mw.process_response(later, answer(later))
    # Second failure, not fifth: 0.1 s, not 0.8 s.
    assert mw.remaining_pause(later) == pytest.approx(0.1, abs=0.02)


def test_a_longer_retry_after_in_flight_extends_the_pause() -> None:
    mw, _ = make_mw()
    first, second = Request("http://a.example/1"), Request("http://a.example/2")
    send(mw, first)
    send(mw, second)
    mw.process_response(first, answer(first, 429, {"Retry-After": "10"}))
    mw.process_response(second, answer(second, 429, {"Retry-After": "40"}))
    assert mw.remaining_pause(first) == pytest.approx(40, abs=0.5)


def test_gives_up_after_retry_times_and_returns_the_response() -> None:
    mw, crawler = make_mw(RETRY_TIMES=1, RETRY_AFTER_BASE_DELAY=0.01)
    request = Request("http://a.example/page")
    send(mw, request)
    retry = mw.process_response(request, answer(request, 429))
    assert isinstance(retry, Request)
    send(mw, retry)
    last = answer(retry, 429)

    assert mw.process_response(retry, last) is last
    assert stat(crawler, "retry/count") == 1
    assert stat(crawler, "retry/max_reached") == 1
    assert mw.remaining_pause(retry) > 0  # the host is paused all the same

    # Scrapy's RetryMiddleware, further down the chain, lets it through.
    retry_mw = build_from_crawler(RetryMiddleware, crawler)
    assert retry_mw.process_response(retry, last) is last
    assert stat(crawler, "retry/count") == 1
    assert stat(crawler, "retry/max_reached") == 1


@pytest.mark.parametrize(
    ("settings", "meta"),
    [({}, {"dont_retry": True}), ({"RETRY_ENABLED": False}, {})],
)
def test_no_retry_still_pauses(settings: dict[str, Any], meta: dict[str, Any]) -> None:
    mw, crawler = make_mw(**settings)
    request = Request("http://a.example/page", meta=meta)
    response = answer(request, 429, {"Retry-After": "30"})
    assert mw.process_response(request, response) is response
    assert mw.remaining_pause(request) == pytest.approx(30, abs=0.5)
    assert stat(crawler, "retry/count") is None


@pytest.mark.parametrize(("status", "flags"), [(500, []), (404, []), (200, []), (429, ["cached"])])
def test_other_answers_pass_untouched(status: int, flags: list[str]) -> None:
    mw, crawler = make_mw()
    request = Request("http://a.example/page")
    response = Response(request.url, status=status, headers={"Retry-After": "30"}, flags=flags)
    assert mw.process_response(request, response) is response
    assert mw.remaining_pause(request) == 0.0
    assert not any(key.startswith("retry") for key in crawler.stats.get_stats())


def test_http_codes_setting() -> None:
    mw, _ = make_mw(RETRY_AFTER_HTTP_CODES=[503])
    request = Request("http://a.example/page")
    too_many = answer(request, 429, {"Retry-After": "30"})
    assert mw.process_response(request, too_many) is too_many
    assert isinstance(mw.process_response(request, answer(request, 503)), Request)


class _StubDownloader:
    def get_slot_key(self, request: Request) -> str:
        return urlparse_cached(request).hostname or ""


class _StubEngine:
    """What the middleware reads of the engine: ``running`` and the downloader."""

    running = True
    downloader = _StubDownloader()


def test_waiting_requests_are_dropped_when_the_crawl_stops() -> None:
    mw, crawler = make_mw()
    engine = _StubEngine()
    crawler.engine = engine  # type: ignore[assignment]
    crawler.signals.send_catch_log(signals.engine_started)
    first = Request("http://a.example/1")
    mw.process_response(first, answer(first, 429, {"Retry-After": "300"}))

    async def run() -> float:
        started = monotonic()
        later = Request("http://a.example/2")
        waiting = asyncio.ensure_future(mw.process_request(later))
        await asyncio.sleep(0.05)
        engine.running = False
        with pytest.raises(IgnoreRequest):
            await waiting
        return monotonic() - started

    assert asyncio.run(run()) < 2.0
    assert stat(crawler, "retry_after/dropped_on_shutdown") == 1


# -- a real crawl ------------------------------------------------------------


class _Limited(LoopbackHandler):
    """Answer 429 (Retry-After: 1) the first time /limited is asked, 200 otherwise."""

    server: LoopbackServer[_Recorder]

    def do_GET(self) -> None:
        recorder = self.server.web
        with recorder.lock:
            recorder.hits[self.path].append(monotonic())
            first = len(recorder.hits[self.path]) == 1
        body = b"<html><body>ok</body></html>"
        if self.path.startswith("/limited") and first:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            body = b"slow down"
        else:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Recorder(Loopback):
    """A host of the crawl, recording when each path was asked."""

    handler = _Limited
    name = "retryafter"

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.hits: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()


def _serve(host: str) -> Iterator[tuple[str, dict[str, list[float]]]]:
    with _Recorder(host) as recorder:
        yield recorder.url, recorder.hits


@pytest.fixture
def host_a() -> Iterator[tuple[str, dict[str, list[float]]]]:
    yield from _serve("127.0.0.1")


@pytest.fixture
def host_b() -> Iterator[tuple[str, dict[str, list[float]]]]:
    # Scrapy's slots are per host name, not per port: a second loopback address.
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
    except OSError:
        pytest.skip("127.0.0.2 is not a loopback address here")
    yield from _serve("127.0.0.2")


class _CrawlSpider(Spider):
    """Asks for /limited; once its 429 is in, for another page on each host."""

    name = "retryafter-crawl"

    def __init__(self, host_a: str, host_b: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host_a, self.host_b = host_a, host_b
        self.fetched: list[tuple[str, int]] = []

    async def start(self) -> AsyncIterator[Request]:
        yield Request(f"{self.host_a}/limited")
        # The stat is written when the middleware pauses the slot.
        while not self.crawler.stats.get_value("retry_after/response_count/429"):
            await asyncio.sleep(0.01)
        yield Request(f"{self.host_a}/same-host")
        yield Request(f"{self.host_b}/other-host")

    def parse(self, response: Response) -> None:
        self.fetched.append((urlparse_cached(response).path, response.status))

    def closed(self, reason: str) -> None:
        stats = {key: value for key, value in self.crawler.stats.get_stats().items() if key.startswith("retry")}
        result = {"reason": reason, "fetched": sorted(self.fetched), "stats": stats}
        print("RESULT " + json.dumps(result), flush=True)


def _crawl_main() -> None:
    """Run one crawl; called in a subprocess, as a reactor cannot restart."""
    from scrapy.crawler import CrawlerProcess

    host_a, host_b = sys.argv[1:3]
    process = CrawlerProcess(
        {
            "ADDONS": {NewsArchive: 0},  # registers the middleware at 650, with its settings' defaults
            "ARCHIVE_CONTACT_URL": "http://localhost/tests",
            "ARCHIVE_ENABLED": False,
            "EXTRACTION_WORKERS": 0,
            "AUTOTHROTTLE_ENABLED": True,
            "AUTOTHROTTLE_START_DELAY": 0.0,
            "RETRY_TIMES": 2,
            "ROBOTSTXT_OBEY": False,
            "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False,
            "LOG_LEVEL": "INFO",
        }
    )
    process.crawl(_CrawlSpider, host_a=host_a, host_b=host_b)
    process.start()


def test_real_crawl_honours_retry_after_per_host(
    host_a: tuple[str, dict[str, list[float]]],
    host_b: tuple[str, dict[str, list[float]]],
) -> None:
    url_a, hits_a = host_a
    url_b, hits_b = host_b
    code = f"from {__name__} import _crawl_main; _crawl_main()"
    pythonpath = [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, url_a, url_b],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, proc.stdout + proc.stderr
    result = json.loads(lines[0].removeprefix("RESULT "))

    assert result["reason"] == "finished"
    assert result["fetched"] == [
        ["/limited", 200],
        ["/other-host", 200],
        ["/same-host", 200],
    ]
    stats = result["stats"]
    assert stats["retry/count"] == 1
    assert stats["retry_after/response_count/429"] == 1
    assert stats["retry_after/delay/header"] == 1
    assert stats["retry_after/waited_requests"] == 2  # the retry and /same-host
    assert "retry/max_reached" not in stats

    # /limited was fetched twice, the second time at least 1 s after the first.
    first, second = hits_a["/limited"]
    assert second - first >= 1.0
    # Another page of the same host waited for the pause too ...
    (same_host,) = hits_a["/same-host"]
    assert same_host - first >= 1.0
    # ... while the other host, asked after the pause began, was not delayed.
    (other_host,) = hits_b["/other-host"]
    assert other_host < second
    assert other_host - first < 0.9
    assert "Pausing download slot '127.0.0.1' for 1.0 s after 429" in proc.stderr
