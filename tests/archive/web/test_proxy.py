"""The sandboxing proxy in front of pywb, against a small loopback origin: every answer carries our policy,
everything else passes through as the origin sent it, and bodies stream without being held."""

from __future__ import annotations

import http.client
import json
import re
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from archive.web.proxy import CHUNK_SIZE, SandboxProxy
from archive.web.pywb import free_port
from tests.loopback import Loopback, LoopbackHandler

POLICY = "sandbox; default-src 'self'; script-src 'none'"
BODY = bytes(range(256)) * 16  # 4 KiB
LARGE = 64 * 1024 * 1024


class OriginHandler(LoopbackHandler):
    protocol_version = "HTTP/1.1"
    server: object

    def do_GET(self) -> None:
        web: Origin = self.server.web  # type: ignore[attr-defined]
        if self.path == "/page":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Set-Cookie", "a=1")
            self.send_header("Set-Cookie", "b=2")
            self.send_header("Content-Security-Policy", "script-src *")
            self.send_header("Content-Security-Policy-Report-Only", "default-src *")
            self.send_header("Connection", "X-Secret")
            self.send_header("X-Secret", "for this hop only")
            self.send_header("Keep-Alive", "timeout=5")
            self.send_header("Memento-Datetime", "Thu, 28 Feb 2019 10:00:00 GMT")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(BODY)
        elif self.path == "/bytes":  # a single range, as pywb answers one
            start, end = 0, len(BODY) - 1
            if found := re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", "")):
                start, end = int(found[1]), int(found[2])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{len(BODY)}")
            else:
                self.send_response(200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            self.end_headers()
            self.wfile.write(BODY[start : end + 1])
        elif self.path == "/large":
            self.send_response(200)
            self.send_header("Content-Length", str(LARGE))
            self.end_headers()
            block = b"x" * CHUNK_SIZE
            for _ in range(LARGE // CHUNK_SIZE):
                self.wfile.write(block)
        elif self.path == "/unsized":  # chunked; the rest only once the client has the first part
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nfirst\r\n")
            web.first_part_read.wait(10)
            self.wfile.write(b"4\r\nrest\r\n0\r\n\r\n")
        elif self.path == "/short":  # promises more than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"only ten!!")
            self.close_connection = True
        elif self.path == "/echo":
            self._echo(b"")
        else:
            self.send_error(404)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        self._echo(self.rfile.read(int(self.headers["Content-Length"])))

    def _echo(self, body: bytes) -> None:
        """What the origin received: its headers and body, as JSON."""
        seen = json.dumps({"headers": list(self.headers.items()), "body": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(seen)))
        self.end_headers()
        self.wfile.write(seen)


class Origin(Loopback):
    handler = OriginHandler
    name = "origin"

    def __init__(self) -> None:
        super().__init__()
        self.first_part_read = threading.Event()


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with Origin() as web:
        yield web


@pytest.fixture
def proxy(origin: Origin) -> Iterator[SandboxProxy]:
    proxy = SandboxProxy(("127.0.0.1", 0), ("127.0.0.1", origin.port), POLICY).start()
    yield proxy
    proxy.stop()


@contextmanager
def connect(proxy: SandboxProxy) -> Iterator[http.client.HTTPConnection]:
    host, _, port = proxy.url.removeprefix("http://").partition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture
def connection(proxy: SandboxProxy) -> Iterator[http.client.HTTPConnection]:
    with connect(proxy) as connection:
        yield connection


def test_headers_pass_through_and_our_policy_replaces_the_origins(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/page")
    answer = connection.getresponse()
    assert answer.status == 200 and answer.read() == BODY
    assert answer.headers.get_all("Content-Security-Policy") == [POLICY]
    assert answer.headers.get_all("Content-Security-Policy-Report-Only") is None
    assert answer.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert answer.headers["Memento-Datetime"] == "Thu, 28 Feb 2019 10:00:00 GMT"
    assert answer.headers["Content-Type"] == "text/html"
    assert "X-Secret" not in answer.headers and "Keep-Alive" not in answer.headers  # hop-by-hop, not forwarded
    connection.request("GET", "/nothing-here")  # the same connection, kept alive
    missing = connection.getresponse()
    missing.read()
    assert missing.status == 404 and missing.headers["Content-Security-Policy"] == POLICY


def test_the_request_reaches_the_origin_with_its_host_and_body(connection: http.client.HTTPConnection) -> None:
    connection.request(
        "POST",
        "/echo",
        body=b"q=hanoi",
        headers={"Host": "replay.example:8471", "Connection": "X-Mine", "X-Mine": "hop", "Cookie": "a=1"},
    )
    seen = json.loads(connection.getresponse().read())
    headers = {name.lower(): value for name, value in seen["headers"]}
    assert seen["body"] == "q=hanoi"
    assert headers["host"] == "replay.example:8471"  # pywb's rewritten links name the public address
    assert headers["cookie"] == "a=1"
    assert "x-mine" not in headers and headers.get("connection", "close") == "close"


def test_a_range_request_is_passed_through(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/bytes", headers={"Range": "bytes=100-199"})
    answer = connection.getresponse()
    assert answer.status == 206 and answer.read() == BODY[100:200]
    assert answer.headers["Content-Range"] == f"bytes 100-199/{len(BODY)}"
    assert answer.headers["Content-Security-Policy"] == POLICY


def test_head_gives_the_headers_without_a_body(connection: http.client.HTTPConnection) -> None:
    connection.request("HEAD", "/page")
    answer = connection.getresponse()
    assert answer.status == 200 and answer.read() == b""
    assert answer.headers["Content-Length"] == str(len(BODY)) and answer.headers["Content-Security-Policy"] == POLICY
    connection.request("GET", "/page")  # nothing stray left on the kept-alive connection
    assert connection.getresponse().read() == BODY


def test_a_large_body_streams_through_without_being_held(connection: http.client.HTTPConnection) -> None:
    tracemalloc.start()
    try:
        connection.request("GET", "/large")
        answer = connection.getresponse()
        received = 0
        while chunk := answer.read(CHUNK_SIZE):
            received += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert received == LARGE
    assert peak < 4 * 1024 * 1024, f"{peak} bytes held for a body of {LARGE}"


def test_a_body_of_unknown_length_is_passed_on_as_it_arrives(
    connection: http.client.HTTPConnection, origin: Origin
) -> None:
    """The origin sends the rest only once the client has the first part: a proxy that waited for the whole
    body would never get it."""
    origin.first_part_read.clear()
    connection.request("GET", "/unsized")
    answer = connection.getresponse()
    assert answer.headers["Transfer-Encoding"] == "chunked"
    assert answer.read(5) == b"first"
    origin.first_part_read.set()
    assert answer.read() == b"rest"


def test_an_origin_that_is_down_gives_502_with_the_policy() -> None:
    proxy = SandboxProxy(("127.0.0.1", 0), ("127.0.0.1", free_port("127.0.0.1")), POLICY).start()
    try:
        with connect(proxy) as connection:
            connection.request("GET", "/archive/20190228100000id_/http://example.com/")
            answer = connection.getresponse()
            answer.read()
    finally:
        proxy.stop()
    assert answer.status == 502 and answer.headers["Content-Security-Policy"] == POLICY


def test_a_request_for_another_host_is_refused(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "http://example.com/")
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 400 and answer.headers["Content-Security-Policy"] == POLICY


def test_a_malformed_body_length_is_refused(proxy: SandboxProxy) -> None:
    with connect(proxy) as connection:
        connection.putrequest("POST", "/echo")
        connection.putheader("Content-Length", "-1")
        connection.endheaders()
        answer = connection.getresponse()
        answer.read()
    assert answer.status == 400 and answer.headers["Content-Security-Policy"] == POLICY


def test_a_body_cut_short_by_the_origin_is_cut_short_for_the_client(connection: http.client.HTTPConnection) -> None:
    """Not left waiting, on a kept-alive connection, for bytes that will never come."""
    connection.request("GET", "/short")
    answer = connection.getresponse()
    with pytest.raises(http.client.IncompleteRead) as cut:
        answer.read()
    assert cut.value.partial == b"only ten!!"
