"""The web app through Flask's test client: pages, security headers, and no file outside the archive."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import quote

import lxml.html
import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.config import ArchivePaths
from archive.diff import PILCROW, word_diff
from archive.index import IndexStore
from archive.replay import captures
from archive.web import create_app
from tests.archive.web.conftest import EDITED_URL

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


def test_search_by_exact_url_prefix_and_words(client: FlaskClient) -> None:
    exact = client.get("/", query_string={"q": EDITED_URL, "kind": "url"})
    assert exact.status_code == 302 and "/captures?url=" in exact.headers["Location"]
    typed = client.get("/", query_string={"q": EDITED_URL})  # the default search box: a URL is recognised
    assert typed.status_code == 302 and typed.headers["Location"] == exact.headers["Location"]
    prefix = client.get("/", query_string={"q": "http://www.theamericanconservative.com/larison/", "kind": "prefix"})
    assert EDITED_URL.encode() in prefix.data
    words = client.get("/", query_string={"q": "ENTIRELY foreseeable", "kind": "text"})  # old links: words now
    assert words.status_code == 200 and b'<h2 id="total">' in words.data


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/captures", {"url": "http://example.com:99999/news"}),  # a port out of range
        ("/capture", {"url": "http://example.com:99999/news"}),
        ("/replay", {"url": "http://[::1/news"}),  # an unclosed IPv6 bracket
        ("/raw", {"url": "http://example.com:99999/news"}),
        ("/", {"q": "http://example.com:99999/news", "kind": "url"}),
        ("/", {"q": "word " * 12_000, "kind": "text"}),  # 60 KB: SQLite refuses a LIKE pattern this long
        ("/", {"q": "w" * 60_000, "kind": "prefix"}),
        (f"/articles/{10**22}", {}),  # beyond a 64-bit row id
        ("/stories/a%00b", {}),  # PostgreSQL cannot hold a NUL
        ("/", {"q": "a\0b", "kind": "text"}),
    ],
    ids=lambda value: str(value)[:30],
)
def test_bad_input_is_answered_with_a_4xx_page(client: FlaskClient, path: str, query: dict[str, str]) -> None:
    answer = client.get(path, query_string=query)
    assert 400 <= answer.status_code < 500
    assert answer.mimetype == "text/html" and b"<h1>" in answer.data
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]


def test_a_wrong_method_is_a_405_page_that_says_what_is_allowed(client: FlaskClient) -> None:
    answer = client.post("/", data={"q": "x"})
    assert answer.status_code == 405 and "GET" in answer.headers["Allow"]
    assert b"<h1>Method Not Allowed</h1>" in answer.data


ROUTES = ["/", "/captures", "/capture", "/replay", "/raw", "/stories", "/stories/{}", "/articles/{}", "/warc/{}", "/{}"]
PARAMETERS = ["q", "kind", "url", "ts", "old", "new", "page", "versions", "reprints"]
#: What a hostile client sends: any text (NUL, surrogates aside, which a URL cannot carry), URLs, numbers.
VALUES = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "url",
            "prefix",
            "text",
            "words",
            "all",
            "collapse",
            '"a',
            "(a",
            "a:b",
            EDITED_URL,
            "http://[::1",
            "http://a:99999/",
            "http://",
            "0",
            "-1",
        ]
    ),
    st.integers().map(str),
    st.from_regex(r"https?://[a-z0-9.:\[\]%@-]{0,30}/[ -~]{0,30}", fullmatch=True),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(ROUTES),
    segment=st.one_of(st.text(max_size=50), st.text(min_size=250, max_size=400), st.integers().map(str)),
    query=st.dictionaries(st.sampled_from(PARAMETERS), VALUES, max_size=4),
)
def test_no_request_gives_a_500(client: FlaskClient, route: str, segment: str, query: dict[str, str]) -> None:
    path = route.format(quote(segment, safe=""))
    answer = client.get(path, query_string=query)
    assert answer.status_code < 500, (path, query)


def test_the_replay_on_its_own_is_still_framed_in_a_sandbox(client: FlaskClient, two_crawls: ArchivePaths) -> None:
    """The capture page's "on its own" link is the app's full-window frame, never pywb's page at the top level."""
    first = captures(IndexStore(two_crawls.index_dir), EDITED_URL)[0]
    page = client.get("/capture", query_string={"url": EDITED_URL, "ts": first.timestamp}).get_data(as_text=True)
    assert f'href="{PYWB}/' not in page and page.count(f"{PYWB}/") == 1  # only the frame's src
    link = page.split('<a href="/replay?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    alone = client.get("/replay?" + link)
    assert alone.status_code == 200
    html = alone.get_data(as_text=True)
    assert f'<iframe class="replay alone" src="{PYWB}/archive/{first.timestamp}/{EDITED_URL}" sandbox ' in html
    assert "allow-" not in html and "script-src 'none'" in alone.headers["Content-Security-Policy"]


class _Nesting(HTMLParser):
    """Fails on any end tag that does not close the element opened last (html.parser does not repair markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert not (tag == "p" and "p" in self.open), "a paragraph inside a paragraph"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else None}>"
        self.open.pop()


def well_nested(html: str) -> bool:
    parser = _Nesting()
    parser.feed(html)
    parser.close()
    return parser.open == []


def test_the_diff_of_a_change_across_paragraphs_is_well_nested(client: FlaskClient) -> None:
    """The finding: an insertion spanning a paragraph break gave ``<p><ins>a</p><p>b</ins></p>``."""
    diffs = client.application.jinja_env.get_template("diff.html").module
    html = str(diffs.text(word_diff("one two\nthree", "one new words\nand more\nthree")))
    assert well_nested(html)
    assert html == (
        '<div class="diff text"><p>one <del>two</del> <ins>new words ¶</ins></p>'
        "<p><ins>and more</ins></p><p>three</p></div>"
    )


WORDS = st.lists(st.sampled_from(["a", "b", "<i>", "&amp;", "c", "\n", "\n", "d"]), max_size=30).map(" ".join)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=WORDS, new=WORDS)
def test_every_diff_renders_as_well_nested_html_holding_both_texts(client: FlaskClient, old: str, new: str) -> None:
    diffs = client.application.jinja_env.get_template("diff.html").module
    diff = word_diff(old, new)
    for html in (str(diffs.text(diff)), str(diffs.headline(diff))):
        assert well_nested(html)
    root = lxml.html.fragment_fromstring(str(diffs.text(diff)))

    def side(drop: str) -> list[str]:
        out = []
        for paragraph in root.iterchildren("p"):
            clone = lxml.html.fragment_fromstring(lxml.html.tostring(paragraph, encoding="unicode"))
            for element in clone.iterfind(f".//{drop}"):
                element.drop_tree()
            out.extend(word for word in clone.text_content().split() if word != PILCROW)
        return out

    assert side("ins") == old.split() and side("del") == new.split()
