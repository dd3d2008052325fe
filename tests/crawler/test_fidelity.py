"""Archived responses are what the server sent, byte for byte: status line, header lines and body.

The fixture server logs every answer it writes (status, header lines in
order, body before chunk framing), so the expected bytes are rebuilt from its
log, never from what the crawler parsed.
"""

from __future__ import annotations

import gzip
import subprocess

import brotli
import pytest
from sqlalchemy import select

from archive.db import Capture, open_database, session_factory
from archive.extract import EXTRACTOR, EXTRACTOR_VERSION
from archive.format import ARTICLE, described_url
from archive.warc import iter_records, read_record
from tests.conftest import CrawlRun, run_crawl
from tests.fixtureweb.data import load_seeds
from tests.fixtureweb.server import FIDELITY_HOST, FIDELITY_ROUTES, REASONS, FixtureWeb, ServedRequest
from tests.tools import tool

MAX_BODY = 1_000_000
ODD, LATIN, EMPTY, LARGE, BROTLI = (
    f"http://{FIDELITY_HOST}/{p}" for p in ("odd-headers", "latin", "empty", "large.bin", "brotli")
)


def sent_head(served: ServedRequest, reason: str | None = None) -> bytes:
    """The status line and header lines the fixture server wrote (http.server's own formatting)."""
    lines = [f"HTTP/1.1 {served.status} {reason or REASONS[served.status]}\r\n"]
    lines += [f"{name}: {value}\r\n" for name, value in served.response_headers]
    return "".join(lines).encode("latin-1") + b"\r\n"


def stored_message(run: CrawlRun, capture: Capture) -> bytes:
    """The HTTP message (head and body) of a capture's response record, as stored."""
    path = run.warc_dir / capture.warc_filename
    member = gzip.decompress(path.read_bytes()[capture.warc_offset : capture.warc_offset + capture.warc_length])
    return member.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n\r\n")


def archived_as_sent(expected_head: bytes) -> bytes:
    """The head as the archive keeps it: a Transfer-Encoding line under the X-Archive-Orig- prefix."""
    lines = expected_head.split(b"\r\n")
    return b"\r\n".join(
        b"X-Archive-Orig-" + line if line.lower().startswith(b"transfer-encoding:") else line for line in lines
    )


@pytest.fixture(scope="module")
def fidelity_crawl(tmp_path_factory: pytest.TempPathFactory) -> CrawlRun:
    """A crawl of the fidelity answers only, with a 1 MB body limit."""
    folder = tmp_path_factory.mktemp("fidelity")
    seeds = folder / "fidelity.toml"
    start_urls = ", ".join(f'"{url}"' for url in FIDELITY_ROUTES)
    seeds.write_text(
        f'[[outlet]]\nname = "Fidelity"\nallowed_domains = ["{FIDELITY_HOST}"]\n'
        f'start_urls = [{start_urls}]\narticle_patterns = ["^$"]\n'
    )
    with FixtureWeb() as web:
        run = run_crawl(web, folder / "data", seeds=seeds, ARCHIVE_MAX_BODY_SIZE=str(MAX_BODY))
    assert run.returncode == 0, run.log[-3000:]
    return run


@pytest.fixture(scope="module")
def captures(fidelity_crawl: CrawlRun) -> dict[str, Capture]:
    engine = open_database(fidelity_crawl.database_url)
    with session_factory(engine)() as session:
        rows = {c.url.url: c for c in session.scalars(select(Capture))}
    engine.dispose()
    return rows


def served(run: CrawlRun, url: str) -> ServedRequest:
    (answer,) = [r for r in run.served if r.url == url]
    return answer


@pytest.mark.parametrize("url", [ODD, LATIN, EMPTY, BROTLI])
def test_head_and_body_are_stored_byte_for_byte(
    fidelity_crawl: CrawlRun, captures: dict[str, Capture], url: str
) -> None:
    answer = served(fidelity_crawl, url)
    expected = sent_head(answer, FIDELITY_ROUTES[url].reason) + answer.body
    assert stored_message(fidelity_crawl, captures[url]) == expected


def test_odd_headers_survive(fidelity_crawl: CrawlRun, captures: dict[str, Capture]) -> None:
    head = stored_message(fidelity_crawl, captures[ODD]).split(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 200 Fine Thanks\r\n")
    for line in (
        b"content-TYPE: text/html",
        b"X-Dup: one\r\nx-dup: two",
        b"Keep-Alive: timeout=5",
        b"Content-Length: ",
    ):
        assert line in head
    assert "X-Cafe-Name: caf\u00e9".encode("latin-1") in head
    assert captures[ODD].content_type == "text/html; charset=utf-8"


def test_non_utf8_empty_and_brotli_bodies(fidelity_crawl: CrawlRun, captures: dict[str, Capture]) -> None:
    latin = read_record(fidelity_crawl.warc_dir / captures[LATIN].warc_filename, captures[LATIN].warc_offset)
    body = latin.raw_stream.read()
    assert b"\x93na\xefve\x94" in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    empty = read_record(fidelity_crawl.warc_dir / captures[EMPTY].warc_filename, captures[EMPTY].warc_offset)
    assert empty.raw_stream.read() == b"" and empty.http_headers.get_header("Content-Length") == "0"
    squeezed = read_record(fidelity_crawl.warc_dir / captures[BROTLI].warc_filename, captures[BROTLI].warc_offset)
    assert squeezed.http_headers.get_header("Content-Encoding") == "br"
    assert brotli.decompress(squeezed.raw_stream.read()) == FIDELITY_ROUTES[BROTLI].body


def test_a_body_over_the_limit_is_cut_and_marked(fidelity_crawl: CrawlRun, captures: dict[str, Capture]) -> None:
    answer = served(fidelity_crawl, LARGE)
    assert len(answer.body) > 2 * MAX_BODY
    record = read_record(fidelity_crawl.warc_dir / captures[LARGE].warc_filename, captures[LARGE].warc_offset)
    assert record.rec_headers.get_header("WARC-Truncated") == "length"
    assert record.raw_stream.read() == answer.body[:MAX_BODY]
    assert record.http_headers.get_header("Content-Length") == str(len(answer.body))  # as the server said
    assert "'archive/truncated/length': 1" in fidelity_crawl.log


def test_every_fidelity_warc_passes_warcio_check(fidelity_crawl: CrawlRun) -> None:
    """``warcio check`` decodes every body, br included, which warcio can only do with the brotlipy
    package (as pywb installs it), not with Google's brotli that Scrapy brings (warcio issue #73):
    so the check runs in the archive tools' environment."""
    warcio = tool("warcio")
    for path in sorted(fidelity_crawl.warc_dir.glob("*.warc.gz")):
        checked = subprocess.run([str(warcio), "check", "-v", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_head_of_the_fixture_crawl_is_one_the_server_sent(fixture_crawl: CrawlRun) -> None:
    """Across the whole crawl of the three outlets: redirects, errors, gzip and chunked answers included."""
    engine = open_database(fixture_crawl.database_url)
    with session_factory(engine)() as session:
        rows = [(c.url.url, c) for c in session.scalars(select(Capture))]
    engine.dispose()
    assert len(rows) >= 20
    for url, capture in rows:
        message = stored_message(fixture_crawl, capture)
        candidates = [archived_as_sent(sent_head(a)) + a.body for a in fixture_crawl.served if a.url == url]
        assert message in candidates, url
    chunked = [a for a in fixture_crawl.served if a.chunked]
    assert chunked and all(b"Transfer-Encoding: chunked" in sent_head(a) for a in chunked)


def test_each_article_is_described_in_the_archive_itself(fixture_crawl: CrawlRun) -> None:
    """The extraction result of every article is a metadata record referring to its response record,
    named ``urn:newsarchive:article:<URL>`` so that no replay tool takes it for the page."""
    records = [r for path in sorted(fixture_crawl.warc_dir.glob("*.warc.gz")) for r in iter_records(path)]
    responses = {r.record_id: r for r in records if r.rec_type == "response"}
    metadata = [r for r in records if r.rec_type == "metadata"]
    assert metadata and all(r.target_uri.startswith("urn:newsarchive:") for r in metadata)
    articles = {described_url(r.target_uri): r for r in metadata if r.data.get("newsarchive") == ARTICLE}
    seeds = {seed.url: seed for seed in load_seeds()}
    assert sorted(articles) == sorted(seeds)
    for url, article in articles.items():
        assert article.target_uri == f"urn:newsarchive:article:{url}"
        response = responses[article.refers_to]
        assert (response.target_uri, response.status) == (url, 200)
        record = read_record(fixture_crawl.warc_dir / article.location.filename, article.location.offset)
        assert record.rec_headers.get_header("WARC-Refers-To") == response.record_id
        assert record.rec_headers.get_header("Content-Type") == "application/json"
        data = article.data
        assert data["title"] == seeds[url].title and data["outlet"] == seeds[url].outlet
        assert data["extractor"] == EXTRACTOR and data["extractor_version"] == EXTRACTOR_VERSION
        assert all(line.strip() in data["text"] for line in seeds[url].body_lines)
