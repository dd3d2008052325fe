"""End to end: ``newsarchive serve`` (with its pywb) driven by Debian's Chromium, headless, through Selenium.

A researcher searches for a seed article, opens a capture and sees its
headline in the replayed page, compares two versions of the edited article,
looks at the story, and searches words (counts, attention chart, snippets);
every request the browser made stayed on loopback (the app or pywb), never
the live web. Screenshots of each view go to
``test-output/screenshots/``. ``make browser`` installs chromium and
chromium-driver (``make test`` runs it first).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.config import ArchivePaths
from archive.index import IndexStore
from archive.web.pywb import COLLECTION
from tests.archive.web.conftest import EDITED_TITLE, EDITED_URL, STORY, output_dir
from tests.fixtureweb.data import load_seeds
from tests.tools import tool

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SEED = load_seeds()[0]
#: Without the background-networking flags Chromium phones home, and this machine refuses it.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
]


@pytest.fixture(scope="module")
def serve(two_crawls: ArchivePaths) -> Iterator[tuple[str, str]]:
    """``newsarchive serve`` on a free port, as a user starts it; yields the app's and the replay's base URLs."""
    tool("wayback")  # skips (fails in CI) without .venv-pywb
    command = [str(Path(sys.executable).with_name("newsarchive")), "--data", str(two_crawls.data_dir), "serve"]
    process = subprocess.Popen([*command, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline(), process.stdout.readline()]  # pywb's address, then the app's
        replay = re.search(r"pywb replays from (http://127\.0\.0\.1:\d+)/", lines[0])
        app = re.search(r"serving .* on (http://127\.0\.0\.1:\d+)/", lines[1])
        assert replay and app, "".join(lines) + process.stdout.read()
        yield app.group(1), replay.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def server(serve: tuple[str, str]) -> str:
    """The app's base URL."""
    return serve[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        reason = "chromium and chromium-driver are not installed: run `make browser`"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="newsarchive-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def requested_urls(driver) -> list[str]:
    """Every URL the browser asked for since the last call (Chrome's performance log, CDP Network events)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_a_researcher_finds_reads_compares_and_cites(server: str, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import Select, WebDriverWait

    shots = output_dir("screenshots")
    wait = WebDriverWait(browser, 30)

    browser.get(server + "/")
    browser.find_element(By.NAME, "q").send_keys(SEED.url)
    Select(browser.find_element(By.NAME, "kind")).select_by_value("url")
    browser.save_screenshot(str(shots / "1-search.png"))
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "table.calendar")))
    assert SEED.url in browser.page_source
    browser.save_screenshot(str(shots / "2-captures.png"))

    browser.find_element(By.CSS_SELECTOR, "a.capture-link").click()
    citation = wait.until(expected_conditions.presence_of_element_located((By.ID, "citation"))).text
    assert SEED.url in citation and "<urn:uuid:" in citation and ".warc.gz" in citation
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.replay")
    assert frame.get_attribute("sandbox") == ""
    browser.switch_to.frame(frame)
    wait.until(lambda d: SEED.title in d.find_element(By.TAG_NAME, "body").text)
    browser.switch_to.default_content()
    browser.save_screenshot(str(shots / "3-capture.png"))

    # "open the replay on its own": the app's full-window page, the archived page still in a sandboxed frame
    replay = frame.get_attribute("src")
    browser.find_element(By.LINK_TEXT, "open the replay on its own").click()
    frame = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "iframe.replay.alone")))
    assert urlsplit(browser.current_url).path == "/replay" and frame.get_attribute("sandbox") == ""
    browser.switch_to.frame(frame)
    wait.until(lambda d: SEED.title in d.find_element(By.TAG_NAME, "body").text)
    browser.switch_to.default_content()
    browser.save_screenshot(str(shots / "3b-replay-alone.png"))
    # and pywb's own page, opened at the top level of a tab, is sandboxed by pywb's policy: an opaque origin
    browser.get(replay)
    wait.until(lambda d: SEED.title in d.find_element(By.TAG_NAME, "body").text)
    assert browser.execute_script("return window.origin") == "null"

    browser.get(server + "/?" + "kind=prefix&q=" + EDITED_URL)
    browser.find_element(By.LINK_TEXT, EDITED_URL).click()
    wait.until(expected_conditions.presence_of_element_located((By.PARTIAL_LINK_TEXT, "article versions"))).click()
    headline = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".diff.headline")))
    assert headline.find_element(By.TAG_NAME, "ins").text == "Without a Deal"
    assert EDITED_TITLE in browser.page_source
    browser.save_screenshot(str(shots / "4-diff.png"))

    browser.get(f"{server}/stories/{STORY}")
    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "figure.chart svg")))
    browser.save_screenshot(str(shots / "5-story.png"))

    # words in the search box: the count, counts by outlet, the attention chart and marked snippets
    browser.get(server + "/")
    browser.find_element(By.NAME, "q").send_keys('"Hanoi summit" OR yongbyon')
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    chart = wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "figure.attention svg")))
    assert chart.find_elements(By.CSS_SELECTOR, "polyline.outlet")
    total = int(browser.find_element(By.ID, "total").text.split()[0])
    assert total >= 2 and len(browser.find_elements(By.CSS_SELECTOR, "table.outlets tr")) >= 3
    assert browser.find_elements(By.CSS_SELECTOR, "ol.matches .snippet mark")
    browser.save_screenshot(str(shots / "6-search.png"))
    browser.get(server + "/?q=%22Hanoi+summit")  # an unclosed quote: a page that says so, not a 500
    assert "quote is not closed" in browser.find_element(By.TAG_NAME, "body").text

    urls = requested_urls(browser)
    assert any(u.startswith(server) for u in urls) and any("/archive/" in u for u in urls)
    # chrome:// pages (the blank tab's) are the browser's own, not network requests
    network = [u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    assert [u for u in network if urlsplit(u).hostname != "127.0.0.1"] == []


@pytest.mark.parametrize("modifier", ["id_", "mp_", "if_"])
def test_pywb_raw_pages_opened_at_the_top_level_are_sandboxed(
    serve: tuple[str, str], two_crawls: ArchivePaths, browser, modifier: str
) -> None:
    """Someone types a pywb address by hand: its raw modes serve an archived page as archived (``id_``) or with
    pywb's own inline script at its top (``mp_``, ``if_``), at the top level of the replay's origin.

    The finding: pywb sends its policy only in its rewritten replay mode, so such a page ran scripts at pywb's
    origin. Now the proxy in front of pywb sandboxes every answer: an opaque origin, and no script runs.
    """
    from selenium.webdriver.support.ui import WebDriverWait

    (capture, *_) = [e for e in IndexStore(two_crawls.index_dir).lookup(SEED.url) if e.status == 200]
    browser.get(f"{serve[1]}/{COLLECTION}/{capture.timestamp}{modifier}/{SEED.url}")
    WebDriverWait(browser, 30).until(lambda d: SEED.title in d.page_source)
    assert browser.execute_script("return window.origin") == "null"
    if modifier != "id_":  # pywb's inserted inline script, which sets wbinfo, is there and did not run
        assert "wbinfo = {};" in browser.page_source
        assert browser.execute_script("return typeof window.wbinfo") == "undefined"
