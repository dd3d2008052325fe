"""The recorder's view of an exchange, and a crawl without a proxy (so the server's IP is known)."""

from pathlib import Path

from scrapy import Request
from scrapy.http import Headers
from sqlalchemy import select, text

from archive.db import Capture, open_database, session_factory
from crawler.recorder import _header_lines, _request_headers
from tests.conftest import run_crawl
from tests.fixtureweb.server import FixtureWeb


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
