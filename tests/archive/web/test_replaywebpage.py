"""The archive in ReplayWeb.page, the viewer researchers open WACZ files with, in headless Chromium.

The viewer is the ``replaywebpage`` npm package's self-contained ``ui.js``
and ``sw.js`` (``make replaywebpage`` fetches the pinned version into
``build/replaywebpage``), served with the archive by a loopback server that
answers byte-range requests, as any static web server would. Its service
worker (wabac.js) reads the WACZ by ranges, trusting the ZIP's central
directory, and a raw ``.warc.gz`` by indexing every record, so this test
catches both a ZIP whose local headers disagree and a metadata record a
viewer could serve in place of a page.

For the two crawls of the fixture web (the second after one article was
edited; its unchanged pages are revisit records), the page list shows every
article, each capture replays its headline and body, a revisit replays its
original's body, and each crawl's WARC files replay their articles when
opened on their own.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from archive.config import ArchivePaths
from archive.index import IndexStore
from archive.wacz import write_wacz
from archive.warc import iter_records
from tests.archive.test_wacz import validate
from tests.archive.web.conftest import EDITED_TITLE, EDITED_URL, output_dir
from tests.archive.web.test_browser import browser  # noqa: F401 (the fixture: Chromium through Selenium)
from tests.conftest import REPO
from tests.fixtureweb.data import Seed, load_seeds
from tests.loopback import Loopback, LoopbackHandler

VIEWER = REPO / "build" / "replaywebpage"
#: The viewer's whole page: its web component, which registers sw.js (at the root, for the root scope).
INDEX_HTML = (
    b'<!doctype html>\n<html><head><meta charset="utf-8"><title>newsarchive in ReplayWeb.page</title>'
    b'<script src="/ui.js"></script></head><body><replay-app-main></replay-app-main></body></html>\n'
)
SEEDS = {seed.url: seed for seed in load_seeds()}
#: The text of a document, shadow roots included (the viewer is web components all the way down).
DEEP_TEXT = """
function text(node) {
  let found = node.nodeType === Node.TEXT_NODE ? node.textContent : "";
  if (node.shadowRoot) found += " " + text(node.shadowRoot);
  for (const child of node.childNodes) found += text(child);
  return found;
}
return text(document.body);
"""
#: Every iframe of the document, in shadow roots too.
DEEP_IFRAMES = """
function frames(node, out) {
  if (node.tagName === "IFRAME") out.push(node);
  if (node.shadowRoot) frames(node.shadowRoot, out);
  for (const child of node.children || []) frames(child, out);
  return out;
}
return frames(document.body, []);
"""
_CONTENT_TYPES = {".js": "text/javascript", ".html": "text/html; charset=utf-8", ".json": "application/json"}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeHandler(LoopbackHandler):
    """Static files by path, whole or by a single byte range (RFC 9110 14), with HEAD."""

    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def _answer(self, with_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        source = self.server.web.files.get(path)
        if source is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = source.stat().st_size
        first, last, status = 0, size - 1, 200
        wanted = _RANGE.fullmatch(self.headers.get("Range", "").strip())
        if wanted and (wanted[1] or wanted[2]):
            if wanted[1]:
                first, last = int(wanted[1]), min(int(wanted[2]) if wanted[2] else size - 1, size - 1)
            else:
                first = max(0, size - int(wanted[2]))
            if first > last:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", _CONTENT_TYPES.get(source.suffix, "application/octet-stream"))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(last - first + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.end_headers()
        if with_body:
            with source.open("rb") as f:
                f.seek(first)
                self.wfile.write(f.read(last - first + 1))


class StaticWeb(Loopback):
    """The viewer and the archive files, each at a path of its own."""

    handler = RangeHandler
    name = "replaywebpage"

    def __init__(self, files: dict[str, Path]) -> None:
        super().__init__()
        self.files = files


@dataclass(frozen=True)
class Capture:
    url: str
    timestamp: str  # 14 digits, as the viewer's ``ts``
    rec_type: str  # response or revisit
    filename: str


@pytest.fixture(scope="module")
def viewer() -> Path:
    """The fetched viewer, skipping (failing in CI) without it, as :func:`tests.tools.tool` does."""
    if not (VIEWER / "sw.js").exists() or not (VIEWER / "ui.js").exists():
        reason = f"{VIEWER} has no ReplayWeb.page: run `make replaywebpage` (make test does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return VIEWER


@pytest.fixture(scope="module")
def site(two_crawls: ArchivePaths, viewer: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticWeb]:
    """The viewer, the crawls' WACZ at ``/archive.wacz`` and each WARC file at ``/warcs/<name>``."""
    folder = tmp_path_factory.mktemp("replaywebpage")
    (folder / "index.html").write_bytes(INDEX_HTML)
    summary = write_wacz(folder / "archive.wacz", two_crawls.warc_dir, IndexStore(two_crawls.index_dir))
    validate(summary.path)  # the wacz tool's validator and the strict ZIP reader
    files = {"/": folder / "index.html", "/ui.js": viewer / "ui.js", "/sw.js": viewer / "sw.js"}
    files["/archive.wacz"] = summary.path
    for path in sorted(two_crawls.warc_dir.glob("*.warc.gz")):
        files[f"/warcs/{path.name}"] = path
    with StaticWeb(files) as web:
        yield web


@pytest.fixture(scope="module")
def captures(two_crawls: ArchivePaths) -> list[Capture]:
    """The seed articles' captures in the crawls' WARC files, in time order."""
    found = [
        Capture(r.target_uri, r.date.strftime("%Y%m%d%H%M%S"), r.rec_type, r.location.filename)
        for path in sorted(two_crawls.warc_dir.glob("*.warc.gz"))
        for r in iter_records(path)
        if r.rec_type in ("response", "revisit") and r.target_uri in SEEDS and r.status == 200
    ]
    return sorted(found, key=lambda c: c.timestamp)


def open_in_viewer(driver, web: StaticWeb, source: str, view: str) -> None:
    driver.get(f"{web.url}/?source={quote(web.url + source, safe='')}#{view}")


def replayed_text(driver, wait_seconds: float, expected: list[str]) -> str:
    """The replayed page's text, once it holds everything ``expected`` (or what it held at the deadline)."""
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    seen = ""

    def holds_all(d) -> bool:
        nonlocal seen
        for frame in d.execute_script(DEEP_IFRAMES):
            try:
                d.switch_to.frame(frame)
                body = d.execute_script("return document.body ? document.body.innerText : ''")
            except WebDriverException:
                continue
            finally:
                d.switch_to.default_content()
            seen = " ".join(body.split())
            if all(text in seen for text in expected):
                return True
        return False

    try:
        WebDriverWait(driver, wait_seconds, poll_frequency=0.5).until(holds_all)
    except TimeoutException:
        pass
    return seen


def article_text(seed: Seed) -> list[str]:
    """The headline and body paragraphs of a seed article, whitespace collapsed as innerText shows them."""
    return [" ".join(line.split()) for line in [seed.title, *seed.body_lines]]


def check_replay(driver, web: StaticWeb, source: str, capture: Capture, expected: list[str], shot: str) -> None:
    view = f"view=replay&url={quote(capture.url, safe='')}&ts={capture.timestamp}"
    open_in_viewer(driver, web, source, view)
    seen = replayed_text(driver, 60, expected)
    driver.save_screenshot(str(output_dir("replaywebpage") / f"{shot}.png"))
    missing = [text for text in expected if text not in seen]
    assert not missing, f"{capture} from {source}: missing {missing[:3]} in {seen[:500]!r}"


def test_the_page_list_shows_every_article(site: StaticWeb, browser) -> None:  # noqa: F811 (the imported fixture)
    from selenium.webdriver.support.ui import WebDriverWait

    with zipfile.ZipFile(site.files["/archive.wacz"]) as wacz:
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()[1:]]
    assert {page["url"] for page in pages} == set(SEEDS)
    open_in_viewer(browser, site, "/archive.wacz", "view=pages")
    wanted = [page["title"] for page in pages] + [page["url"] for page in pages] + [f"{len(pages)} pages"]
    try:
        WebDriverWait(browser, 60, poll_frequency=0.5).until(
            lambda d: all(text in " ".join(d.execute_script(DEEP_TEXT).split()) for text in wanted)
        )
    finally:
        browser.save_screenshot(str(output_dir("replaywebpage") / "pages.png"))
    shown = " ".join(browser.execute_script(DEEP_TEXT).split())
    assert "Error" not in shown


def test_each_capture_in_the_wacz_replays_its_article(site: StaticWeb, browser, captures: list[Capture]) -> None:  # noqa: F811 (the imported fixture)
    """Every capture of a seed article, first crawl and second: the edited one shows its new
    headline, the unchanged ones are revisits and show their original's body."""
    assert {c.rec_type for c in captures} == {"response", "revisit"}
    first_crawl = {c.url: c for c in reversed(captures)}
    for n, capture in enumerate(captures):
        seed = SEEDS[capture.url]
        if capture.url == EDITED_URL and capture is not first_crawl[capture.url]:
            expected = [EDITED_TITLE]
        else:
            expected = article_text(seed)
        check_replay(browser, site, "/archive.wacz", capture, expected, f"wacz-{n}-{capture.rec_type}")


def test_each_warc_file_opened_alone_replays_its_articles(site: StaticWeb, browser, captures: list[Capture]) -> None:  # noqa: F811 (the imported fixture)
    """A viewer indexing every record of a raw WARC must find the page, never a metadata record,
    at the page's URL and time (a revisit's original is in another file: responses only)."""
    responses = [c for c in captures if c.rec_type == "response"]
    assert {c.filename for c in responses} and len(responses) >= len(SEEDS)
    first_crawl = {c.url: c for c in reversed(captures)}
    for n, capture in enumerate(responses):
        if capture.url == EDITED_URL and capture is not first_crawl[capture.url]:
            expected = [EDITED_TITLE]
        else:
            expected = article_text(SEEDS[capture.url])
        check_replay(browser, site, f"/warcs/{capture.filename}", capture, expected, f"warc-{n}")
