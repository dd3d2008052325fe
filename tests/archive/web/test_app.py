"""The web app through Flask's test client: pages, security headers, and no file outside the archive."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from archive.config import ArchivePaths
from archive.index import IndexStore
from archive.replay import captures
from archive.web import create_app
from tests.archive.web.conftest import EDITED_TITLE, EDITED_URL, STORY
from tests.fixtureweb.data import load_seeds

PYWB = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def client(two_crawls: ArchivePaths) -> Iterator[FlaskClient]:
    app = create_app(two_crawls, PYWB)
    yield app.test_client()
    app.extensions["newsarchive.engine"].dispose()


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    for path in ["/", "/stories", "/no-such-page", "/static/style.css"]:
        with client.get(path) as answer:  # closes a static file's handle
            headers = answer.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and f"frame-src {PYWB}" in csp and "script-src 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    "path",
    [
        "/warc/../archive.db",
        "/warc/..%2Farchive.db",
        "/warc/%2e%2e/archive.db",
        "/warc/..%5Carchive.db",
        "/static/../../config.py",
        "/static/..%2F..%2Fconfig.py",
        "/warc/%2Fetc%2Fpasswd",
    ],
)
def test_no_path_reads_a_file_outside_the_archive(client: FlaskClient, path: str) -> None:
    with client.get(path, follow_redirects=True) as answer:  # (Flask merges "//" by redirecting)
        assert answer.status_code == 404
        assert (
            b"SQLite format" not in answer.data and b"ArchivePaths" not in answer.data and b"root:" not in answer.data
        )


def test_a_warc_file_of_the_archive_can_be_downloaded(client: FlaskClient, two_crawls: ArchivePaths) -> None:
    name = sorted(two_crawls.warc_dir.glob("*.warc.gz"))[0].name
    with client.get(f"/warc/{name}") as answer:
        assert answer.status_code == 200 and answer.data[:2] == b"\x1f\x8b"


def test_search_by_exact_url_prefix_and_text(client: FlaskClient) -> None:
    exact = client.get("/", query_string={"q": EDITED_URL, "kind": "url"})
    assert exact.status_code == 302 and "/captures?url=" in exact.headers["Location"]
    prefix = client.get("/", query_string={"q": "http://www.theamericanconservative.com/larison/", "kind": "prefix"})
    assert EDITED_URL.encode() in prefix.data
    text = client.get("/", query_string={"q": "unfortunate but ENTIRELY", "kind": "text"})  # the edited sentence
    assert EDITED_TITLE.encode() in text.data and b"1 article " in text.data


def test_the_capture_page_cites_the_record_and_frames_pywb_in_a_sandbox(
    client: FlaskClient, two_crawls: ArchivePaths
) -> None:
    first = captures(IndexStore(two_crawls.index_dir), EDITED_URL)[0]
    page = client.get("/capture", query_string={"url": EDITED_URL, "ts": first.timestamp}).get_data(as_text=True)
    assert f'src="{PYWB}/archive/{first.timestamp}/{EDITED_URL}" sandbox ' in page
    assert "allow-same-origin" not in page and "allow-scripts" not in page
    assert first.filename in page and "&lt;urn:uuid:" in page
    assert "The Hanoi Summit Collapses" in page and EDITED_TITLE not in page


def test_the_article_page_shows_the_headline_and_text_diff(client: FlaskClient) -> None:
    captured = client.get("/captures", query_string={"url": EDITED_URL}).get_data(as_text=True)
    article = captured.split('href="/articles/', 1)[1].split('"', 1)[0]
    page = client.get(f"/articles/{article}").get_data(as_text=True)
    assert "<ins>Without a Deal</ins>" in page
    assert "<del>unfortunate,</del>" in page and "<ins>unfortunate but entirely</ins>" in page


def test_the_story_page_lists_each_outlet_and_draws_the_timeline(client: FlaskClient) -> None:
    page = client.get(f"/stories/{STORY}").get_data(as_text=True)
    for seed in load_seeds():
        assert seed.outlet in page
    assert "<svg" in page and "<polygon" in page  # the edited article's second version
