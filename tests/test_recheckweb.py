"""Tests of the recheck outlet through a real socket: pages and validators, conditional requests,
edits, chrome changes, deletions, redirects, listings, misbehaviours, the clock and the log."""

from __future__ import annotations

import http.client
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.robotparser import RobotFileParser

import lxml.html
import pytest

from archive.extract import extract_article
from archive.seeds import load_seeds as load_seed_list
from tests.fixtureweb import load_seeds
from tests.recheckweb import HOST, SITE, SLUGS, START, RecheckWeb

STORY = "summit-cut-short"
OTHER = "hanoi-summit-collapses"
URL = f"{SITE}/news/{STORY}"


class Answer:
    """One response as read off the socket."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()

    @property
    def date(self) -> datetime:
        return parsedate_to_datetime(self.headers["Date"])

    @property
    def last_modified(self) -> datetime:
        return parsedate_to_datetime(self.headers["Last-Modified"])

    def text(self) -> list[str]:
        """The headline and paragraphs of the page's article, as a reader sees them."""
        article = lxml.html.fromstring(self.body).xpath("//article")[0]
        return [article.xpath("./h1")[0].text_content()] + [p.text_content() for p in article.xpath("./p[not(@class)]")]


def get(web: RecheckWeb, url: str = URL, method: str = "GET", **headers: str) -> Answer:
    """A request in a proxy's absolute form, as a crawl through ``http_proxy`` sends it."""
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        connection.request(method, url, headers={name.replace("_", "-"): v for name, v in headers.items()})
        return Answer(connection.getresponse())
    finally:
        connection.close()


def listed(web: RecheckWeb) -> tuple[list[str], list[str]]:
    """The article URLs on the front page and in the feed."""
    front = lxml.html.fromstring(get(web, f"{SITE}/").body)
    front.make_links_absolute(f"{SITE}/")
    feed = ET.fromstring(get(web, f"{SITE}/feed.xml").body)
    return (
        [link for link in front.xpath("//main//a/@href") if "/news/" in link],
        [item.findtext("link") for item in feed.iter("item")],
    )


@pytest.fixture
def web() -> Iterator[RecheckWeb]:
    with RecheckWeb() as web:
        yield web


# -- pages and validators -------------------------------------------------------------------
def test_every_article_answers_200_with_a_strong_etag_last_modified_and_the_clocks_date(web: RecheckWeb) -> None:
    for slug in SLUGS:
        answer = get(web, f"{SITE}/news/{slug}")
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        assert int(answer.headers["Content-Length"]) == len(answer.body)
        etag = answer.headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"') and etag == web.etag(slug)
        assert answer.body == web.page(slug)
        assert answer.last_modified == web.article(slug).published < START
        assert answer.date == START


def test_articles_hold_distinct_seed_texts_in_a_news_page(web: RecheckWeb) -> None:
    texts = {slug: get(web, f"{SITE}/news/{slug}").text() for slug in SLUGS}
    assert len({tuple(text) for text in texts.values()}) == len(SLUGS)
    paragraphs = [p for text in texts.values() for p in text[1:]]
    assert sorted(paragraphs) == sorted(line for seed in load_seeds() for line in seed.body_lines)
    page = lxml.html.fromstring(get(web).body)
    assert page.xpath("//span[@class='author']/text()") == ["Jessica Corbett"]
    assert page.xpath("//nav//a") and len(page.xpath("//aside[@class='most-read']//li")) == len(SLUGS) - 1
    assert page.xpath("//link[@rel='canonical']/@href") == [URL]


def test_the_front_page_and_the_feed_list_every_article_and_robots_allow_all(web: RecheckWeb) -> None:
    front, feed = listed(web)
    urls = {f"{SITE}/news/{slug}" for slug in SLUGS}
    assert set(front) == set(feed) == urls
    dates = [
        parsedate_to_datetime(d.text or "") for d in ET.fromstring(get(web, f"{SITE}/feed.xml").body).iter("pubDate")
    ]
    assert dates == sorted(dates, reverse=True) and all(d < START for d in dates)
    robots = RobotFileParser()
    robots.parse(get(web, f"{SITE}/robots.txt").body.decode().splitlines())
    assert all(robots.can_fetch("newsarchive", url) for url in urls)


def test_other_hosts_and_paths_are_404(web: RecheckWeb) -> None:
    assert get(web, "http://elsewhere.test/news/summit-cut-short").status == 404
    assert get(web, f"{SITE}/news/no-such-story").status == 404


def test_the_seed_list_is_valid_and_its_pattern_picks_the_articles(web: RecheckWeb, tmp_path: Path) -> None:
    path = tmp_path / "recheck.toml"
    path.write_text(web.seed_toml('recheck = { max_age = "7d" }\n'))
    (outlet,) = load_seed_list(path).outlets
    assert all(outlet.is_article(web.article(slug).url) for slug in SLUGS)
    assert not outlet.is_article(f"{SITE}/") and not outlet.is_article(f"{SITE}/feed.xml")
    assert outlet.recheck.max_age == timedelta(days=7)


# -- conditional requests ---------------------------------------------------------------------
def test_a_matching_if_none_match_gets_a_304_with_validators_and_no_body(web: RecheckWeb) -> None:
    first = get(web)
    etag = first.headers["ETag"]
    for value in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        answer = get(web, If_None_Match=value)
        assert (answer.status, answer.body) == (304, b""), value
        assert answer.headers["ETag"] == etag
        assert answer.headers["Last-Modified"] == first.headers["Last-Modified"]
        assert answer.date == START
    assert get(web, If_None_Match='"other"').status == 200


def test_if_modified_since_gets_a_304_unless_older_than_last_modified(web: RecheckWeb) -> None:
    modified = get(web).headers["Last-Modified"]
    assert get(web, If_Modified_Since=modified).status == 304
    assert get(web, If_Modified_Since="Thu, 28 Feb 2019 23:59:59 GMT").status == 304
    assert get(web, If_Modified_Since="Wed, 27 Feb 2019 00:00:00 GMT").status == 200
    assert get(web, If_Modified_Since="yesterday-ish").status == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    assert get(web, If_None_Match='"stale"', If_Modified_Since=modified).status == 200


def test_a_304_keeps_the_connection_usable(web: RecheckWeb) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        connection.request("GET", URL, headers={"If-None-Match": web.etag(STORY)})
        assert Answer(connection.getresponse()).status == 304
        connection.request("GET", URL)
        assert Answer(connection.getresponse()).body == web.page(STORY)
    finally:
        connection.close()


# -- changes between crawls ---------------------------------------------------------------------
def test_an_edit_changes_text_etag_and_last_modified(web: RecheckWeb) -> None:
    before = get(web)
    web.advance(timedelta(hours=1, seconds=30))
    web.edit(
        STORY, replace_text=("on Thursday", "on Thursday afternoon"), append="Correction: the summit was in Hanoi."
    )
    after = get(web, If_None_Match=before.headers["ETag"], If_Modified_Since=before.headers["Last-Modified"])
    assert after.status == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.last_modified == START + timedelta(hours=1, seconds=30) == after.date
    assert after.text()[1] == before.text()[1].replace("on Thursday", "on Thursday afternoon", 1)
    assert after.text() == before.text()[:1] + [after.text()[1]] + before.text()[2:] + [
        "Correction: the summit was in Hanoi."
    ]
    assert get(web, If_Modified_Since="Thu, 28 Feb 2019 18:00:00 GMT").status == 200
    assert get(web, If_None_Match=after.headers["ETag"]).status == 304
    assert get(web, f"{SITE}/news/{OTHER}", If_None_Match=web.etag(OTHER)).status == 304  # others untouched


def test_an_edit_without_arguments_adds_a_new_correction_each_time(web: RecheckWeb) -> None:
    original = get(web).text()
    web.edit(STORY)
    web.edit(STORY, headline="Summit Cut Short")
    web.edit(STORY)
    text = get(web).text()
    assert text[0] == "Summit Cut Short"
    assert text[1:-2] == original[1:] and text[-2] != text[-1] and "Correction" in text[-1]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"slug": "nope"},
        {"replace_text": ("not in the article", "x")},
        {"replace_text": ("", "x")},
        {"headline": None, "replace_text": ("Trump", "Trump")},
    ],
)
def test_an_edit_that_cannot_apply_is_refused(web: RecheckWeb, kwargs: dict[str, Any]) -> None:
    before = web.page(STORY)
    with pytest.raises(ValueError):
        web.edit(**{"slug": STORY, **kwargs})
    assert web.page(STORY) == before


def test_a_chrome_change_changes_bytes_and_etag_but_not_text_or_last_modified(web: RecheckWeb) -> None:
    before, other = get(web), get(web, f"{SITE}/news/{OTHER}")
    web.advance(timedelta(minutes=20))
    web.touch_chrome(STORY)
    after = get(web, If_None_Match=before.headers["ETag"])
    assert after.status == 200 and after.body != before.body
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.text() == before.text()
    assert after.headers["Last-Modified"] == before.headers["Last-Modified"]
    assert get(web, f"{SITE}/news/{OTHER}").body == other.body
    web.touch_chrome()  # every page
    changed = get(web, f"{SITE}/news/{OTHER}")
    assert changed.body != other.body and changed.text() == other.text()


def test_the_archives_extraction_sees_edits_but_not_chrome(web: RecheckWeb) -> None:
    def extracted() -> str:
        extraction = extract_article(get(web).body, URL, web.now)
        assert extraction is not None and extraction.author == "Jessica Corbett"
        assert extraction.sitename == "The Recheck Courier" and extraction.published == "2019-02-28"
        return extraction.text

    first = extracted()
    assert all(p in first for p in web.article(STORY).paragraphs) and "Most read" not in first
    web.touch_chrome()
    web.touch_chrome(STORY)
    assert extracted() == first
    web.advance(timedelta(hours=2))
    web.edit(STORY, append="Correction: the talks lasted two days.")
    assert extracted().endswith("Correction: the talks lasted two days.")


@pytest.mark.parametrize("status", [410, 404])
def test_a_deleted_article_answers_its_status_and_leaves_the_listings(web: RecheckWeb, status: int) -> None:
    web.delete(STORY, status)
    answer = get(web, If_None_Match=web.etag(STORY))
    assert answer.status == status and "ETag" not in answer.headers
    assert URL not in listed(web)[0] + listed(web)[1]
    with pytest.raises(ValueError):
        web.delete(OTHER, 403)  # type: ignore[arg-type]


def test_a_redirect_points_to_another_article_or_url(web: RecheckWeb) -> None:
    web.redirect(STORY, OTHER)
    answer = get(web)
    assert (answer.status, answer.headers["Location"]) == (301, f"{SITE}/news/{OTHER}")
    assert URL not in listed(web)[1]
    web.redirect(STORY, "https://elsewhere.test/story", status=308)
    assert (get(web).status, get(web).headers["Location"]) == (308, "https://elsewhere.test/story")
    for bad in ("no-such-slug", "ftp://elsewhere.test/x", "/news/relative"):
        with pytest.raises(ValueError):
            web.redirect(STORY, bad)


def test_an_article_dropped_from_the_feed_is_listed_nowhere_but_still_served(web: RecheckWeb) -> None:
    web.drop_from_feed(STORY)
    front, feed = listed(web)
    assert URL not in front and URL not in feed and len(feed) == len(SLUGS) - 1
    assert get(web).status == 200


# -- misbehaving servers ------------------------------------------------------------------------
def test_ignores_conditionals_always_sends_the_whole_page(web: RecheckWeb) -> None:
    web.misbehave("ignores_conditionals", slug=STORY)
    etag, modified = web.etag(STORY), get(web).headers["Last-Modified"]
    answer = get(web, If_None_Match=etag, If_Modified_Since=modified)
    assert answer.status == 200 and answer.body == web.page(STORY)
    assert get(web, f"{SITE}/news/{OTHER}", If_None_Match=web.etag(OTHER)).status == 304


def test_unstable_etag_sends_a_new_etag_for_the_same_bytes(web: RecheckWeb) -> None:
    web.misbehave("unstable_etag")  # every article
    first, second = get(web), get(web)
    assert first.body == second.body and first.headers["ETag"] != second.headers["ETag"]
    assert get(web, If_None_Match=second.headers["ETag"]).status == 200
    front = get(web, f"{SITE}/")
    assert get(web, f"{SITE}/", If_None_Match=front.headers["ETag"]).status == 304  # listings behave


def test_wrong_304_answers_304_to_any_request(web: RecheckWeb) -> None:
    web.misbehave("wrong_304", slug=STORY)
    assert (get(web).status, get(web).body) == (304, b"")
    assert get(web, If_None_Match='"not-it"').status == 304
    web.misbehave(slug=STORY)
    assert get(web).status == 200
    with pytest.raises(ValueError, match="unknown misbehaviour"):
        web.misbehave("sometimes_500")  # type: ignore[arg-type]


# -- the clock and the log -----------------------------------------------------------------------
def test_the_clock_is_aware_moves_forward_only_and_dates_answers(web: RecheckWeb) -> None:
    assert web.advance(timedelta(days=2)) == START + timedelta(days=2) == get(web).date
    web.now = datetime(2019, 3, 2, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert get(web).date == datetime(2019, 3, 3, 1, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        web.now = datetime(2019, 3, 9)
    with pytest.raises(ValueError):
        web.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError):
        RecheckWeb(now=datetime(2019, 3, 9))


def test_the_log_holds_method_url_headers_and_status_and_counts_gets(web: RecheckWeb) -> None:
    etag = web.etag(STORY)
    get(web)
    get(web, If_None_Match=etag)
    get(web, method="HEAD")
    get(web, f"{SITE}/news/{OTHER}")
    get(web, f"{SITE}/feed.xml")
    log = web.requests
    assert [(r.method, r.url, r.status) for r in log] == [
        ("GET", URL, 200),
        ("GET", URL, 304),
        ("HEAD", URL, 200),
        ("GET", f"{SITE}/news/{OTHER}", 200),
        ("GET", f"{SITE}/feed.xml", 200),
    ]
    assert log[0].header("If-None-Match") is None and log[1].header("If-None-Match") == etag
    assert log[2].body == b"" and dict(log[2].response_headers)["Content-Length"] == str(len(web.page(STORY)))
    assert web.article_gets() == {STORY: 2, OTHER: 1}
    web.clear_log()
    assert web.requests == [] and web.article_gets()[STORY] == 0


def test_answers_stay_consistent_while_the_outlet_changes(web: RecheckWeb) -> None:
    seen: dict[str, bytes] = {}
    clashes: list[str] = []

    def crawl() -> None:
        for _ in range(25):
            answer = get(web)
            if seen.setdefault(answer.headers["ETag"], answer.body) != answer.body:
                clashes.append(answer.headers["ETag"])

    def change(stop: threading.Event) -> None:
        while not stop.wait(0.002):
            web.touch_chrome(STORY)
            web.advance(timedelta(seconds=1))
            web.edit(STORY)

    stop = threading.Event()
    changer = threading.Thread(target=change, args=(stop,))
    changer.start()
    threads = [threading.Thread(target=crawl) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    changer.join()
    assert clashes == [] and len(seen) > 1
    assert len(web.requests) == 100 and {r.status for r in web.requests} == {200}
    assert HOST in web.requests[0].url
