"""pywb replays the crawl from its WARC files and our CDXJ index, and from a WACZ package of it.

pywb is GPL-3.0: it runs as its own program (``wayback``, ``wb-manager``) from
the tools' virtualenv (``make pywb``), never imported. Its server listens on a
free loopback port for the duration of the module.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from urllib.error import HTTPError, URLError

import pytest

from archive.config import ArchivePaths
from archive.index import IndexStore
from archive.lifetime import parent_death_signal
from archive.wacz import write_wacz
from archive.web.pywb import COLLECTION, REPLAY_CSP, PywbServer, free_port
from tests.archive.zipcheck import check_zip
from tests.conftest import CrawlRun
from tests.fixtureweb.data import load_seeds
from tests.tools import tool

SEEDS = load_seeds()


def fetch(url: str) -> tuple[int, dict[str, str], str]:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback only
        return answer.status, dict(answer.headers), answer.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def wayback(fixture_crawl: CrawlRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pywb serving two collections: ``news`` (the crawl's WARC folder and our index folder, as
    they are) and ``packaged`` (a WACZ of the crawl, added with wb-manager)."""
    root = tmp_path_factory.mktemp("pywb")
    wacz = write_wacz(root / "crawl.wacz", fixture_crawl.warc_dir, IndexStore(fixture_crawl.data_dir / "indexes"))
    check_zip(wacz.path)  # local headers and central directory agree
    for command in (["init", "packaged"], ["add", "--unpack-wacz", "packaged", str(wacz.path)]):
        done = subprocess.run([str(tool("wb-manager")), *command], cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    (root / "config.yaml").write_text(  # "packaged" is found in collections/, where wb-manager put it
        "framed_replay: false\n"
        "collections:\n"
        "  news:\n"
        f"    index_paths: {fixture_crawl.data_dir / 'indexes'}/\n"
        f"    archive_paths: {fixture_crawl.warc_dir}/\n"
    )
    port = free_port("127.0.0.1")
    log = (root / "wayback.log").open("wb")
    server = subprocess.Popen(
        [str(tool("wayback")), "--bind", "127.0.0.1", "--port", str(port)],
        cwd=root,
        stdout=log,
        stderr=log,
        preexec_fn=parent_death_signal(signal.SIGTERM, os.getpid()),  # a killed test run leaves no pywb behind
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (root / "wayback.log").read_text()
            try:
                fetch(f"{base}/news/cdx?url=http://example.com/")
                break
            except (URLError, ConnectionError):
                assert time.monotonic() < deadline, "pywb did not start"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: s.outlet)
def test_pywb_replays_each_article_at_its_capture_time(wayback: str, fixture_crawl: CrawlRun, seed) -> None:
    (capture,) = [e for e in IndexStore(fixture_crawl.data_dir / "indexes").lookup(seed.url) if e.status == 200]
    status, headers, page = fetch(f"{wayback}/news/{capture.timestamp}/{seed.url}")
    assert status == 200
    assert seed.title in page
    assert headers["Memento-Datetime"] == time.strftime(
        "%a, %d %b %Y %H:%M:%S GMT", time.strptime(capture.timestamp, "%Y%m%d%H%M%S")
    )


def test_pywb_replays_an_article_from_the_wacz(wayback: str, fixture_crawl: CrawlRun) -> None:
    seed = SEEDS[0]
    (capture,) = [e for e in IndexStore(fixture_crawl.data_dir / "indexes").lookup(seed.url) if e.status == 200]
    status, _, page = fetch(f"{wayback}/packaged/{capture.timestamp}/{seed.url}")
    assert status == 200 and seed.title in page


@pytest.fixture(scope="module")
def served(fixture_crawl: CrawlRun) -> Iterator[PywbServer]:
    """pywb as ``serve`` runs it: behind its sandboxing proxy."""
    with PywbServer(ArchivePaths.resolve(data_dir=fixture_crawl.data_dir), tool("wayback")) as pywb:
        yield pywb


def fetch_policies(url: str) -> tuple[int, list[str], str]:
    """The status, every Content-Security-Policy header and the body of an answer, an error status included."""
    try:
        answer = urllib.request.urlopen(url, timeout=30)  # noqa: S310 - loopback only
    except HTTPError as e:
        answer = e
    with answer:
        policies = answer.headers.get_all("Content-Security-Policy") or []
        return answer.status, policies, answer.read().decode("utf-8", "replace")


def test_pywb_as_serve_runs_it_sandboxes_every_replayed_page(served: PywbServer, fixture_crawl: CrawlRun) -> None:
    """Opened at the top level of a tab, a replayed page gets an opaque origin and runs no script.

    The finding: "open the replay on its own" ran archived scripts at pywb's origin, whose policy allowed
    inline scripts and eval.
    """
    seed = SEEDS[0]
    (capture,) = [e for e in IndexStore(fixture_crawl.data_dir / "indexes").lookup(seed.url) if e.status == 200]
    status, headers, page = fetch(f"{served.url}/{COLLECTION}/{capture.timestamp}/{seed.url}")
    assert status == 200 and seed.title in page
    policy = [directive.strip() for directive in headers["Content-Security-Policy"].split(";")]
    assert policy[0] == "sandbox" and "script-src 'none'" in policy
    assert "unsafe-eval" not in headers["Content-Security-Policy"]
    assert "allow-scripts" not in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "address",
    [
        "/{collection}/{timestamp}id_/{url}",
        "/{collection}/{timestamp}mp_/{url}",
        "/{collection}/{timestamp}if_/{url}",
        "/{collection}/{timestamp}js_/{url}",
        "/{collection}/{timestamp}oe_/{url}",
        "/{collection}/*/{url}",
        "/{collection}/cdx?url={url}",
        "/{collection}/19990101000000id_/http://not-archived.example/",
        "/",
        "/static/wombat.js",
        "/no-such-collection/{timestamp}id_/{url}",
    ],
)
def test_every_pywb_address_is_sandboxed(served: PywbServer, fixture_crawl: CrawlRun, address: str) -> None:
    """The finding: pywb sends its policy only in its rewritten replay mode, so its raw modes (``id_``: the
    archived bytes as they are) ran an archived page's scripts at the top level of pywb's origin."""
    seed = SEEDS[0]
    (capture,) = [e for e in IndexStore(fixture_crawl.data_dir / "indexes").lookup(seed.url) if e.status == 200]
    path = address.format(collection=COLLECTION, timestamp=capture.timestamp, url=seed.url)
    status, policies, page = fetch_policies(served.url + path)
    if "id_/" in address and "not-archived" not in address and "no-such" not in address:
        assert status == 200 and seed.title in page  # the raw page itself, served
    assert policies == [REPLAY_CSP], status
