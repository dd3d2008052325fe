"""Tests of the offline fixture web, through real sockets: labels, pages, feeds,
sitemaps, odd cases, transport framing and the request log.

One file for the one component, as Scrapy keeps its tests; it is long because
every odd case the fixture web serves is checked here."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import subprocess
import sys
import threading
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.message import Message
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urldefrag, urljoin
from urllib.request import OpenerDirector, ProxyHandler, Request, build_opener
from urllib.robotparser import RobotFileParser

import pytest

from tests import loopback
from tests.fixtureweb import LABELS, SITE_DIR, FixtureWeb, Seed, load_cases, load_seeds

REPO = Path(__file__).resolve().parents[2]
SLOW = 0.5
SEEDS = load_seeds()
CASES = load_cases()
CD, TP, TAC = SEEDS
CD_NEWS = "http://www.commondreams.org/news"
CD_PDF = "http://www.commondreams.org/sites/default/files/2019-02/hanoi-summit-documents.pdf"
CD_MISSING = [
    "http://www.commondreams.org/news/2019/02/27/second-trump-kim-summit-opens-hanoi",
    "http://www.commondreams.org/news/2019/02/26/what-watch-hanoi-summit",
]
TP_FEED_LINK = "http://feeds.thinkprogress.org/~r/thinkprogress/~3/hanoi/"
TP_SHORTLINK = "http://thinkprogress.org/?p=1234567"
TP_SLOW = "http://thinkprogress.org/trump-kim-summit-live-updates-2d7e9b0a6c14/"
TAC_500 = "http://www.theamericanconservative.com/larison/what-the-hanoi-failure-means/"
TAC_VIDEO = "http://www.theamericanconservative.com/larison/watch-trump-press-conference-hanoi/"
TAC_BUSY = "http://www.theamericanconservative.com/busy/"
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
    "atom": "http://www.w3.org/2005/Atom",
    "dc": "http://purl.org/dc/elements/1.1/",
}


# -- helpers ---------------------------------------------------------------------------
class _PageText(HTMLParser):
    """Visible text of a page as lines (one per block element), with img alt texts as
    lines of their own, the way the seed texts were saved."""

    BLOCKS = frozenset(
        "address article aside blockquote br dd div dl dt figcaption figure footer form "
        "h1 h2 h3 h4 h5 h6 header hr li main nav ol p section table td th tr ul".split()
    )
    SKIP = frozenset({"head", "script", "style", "template"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "img" and not self.skipping:
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"\n{alt}\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def page_lines(html: str) -> list[str]:
    """Whitespace-normalised, non-empty text lines of a page."""
    parser = _PageText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return [line for line in lines if line]


class _Links(HTMLParser):
    """Absolute hrefs of <a> and <link>, and <meta property/name> contents."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.hrefs: list[str] = []
        self.link_rels: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        self.jsonld: list[str] = []
        self._in_jsonld = False
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.add(tag)
        if tag == "a" and "href" in a:
            self.hrefs.append(urldefrag(urljoin(self.base, a["href"]))[0])
        elif tag == "link" and "href" in a:
            self.link_rels[a.get("rel", "")] = urljoin(self.base, a["href"])
        elif tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in_jsonld = True
            self.jsonld.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_jsonld = False

    def handle_data(self, data: str) -> None:
        if self._in_jsonld:
            self.jsonld[-1] += data


def links_of(url: str, html: str) -> _Links:
    """Parse a page's links and metadata."""
    parser = _Links(url)
    parser.feed(html)
    parser.close()
    return parser


class Fetched:
    """Status, headers and raw body of one response (body as received, not decoded)."""

    def __init__(self, status: int, url: str, headers: Message, body: bytes) -> None:
        self.status, self.url, self.headers, self.body = status, url, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(opener: OpenerDirector, url: str, **headers: str) -> Fetched:
    """GET through the proxy with urllib (redirects followed), errors included."""
    request = Request(url, headers={k.replace("_", "-"): v for k, v in headers.items()})
    try:
        with opener.open(request, timeout=10) as resp:
            return Fetched(resp.status, resp.url, resp.headers, resp.read())
    except HTTPError as err:
        with err:
            return Fetched(err.code, err.url, err.headers, err.read())


def raw_exchange(web: FixtureWeb, request: bytes) -> tuple[str, dict[str, list[str]], bytes]:
    """Send raw request bytes, read until the server closes; (status line, headers, raw body)."""
    status_line, lines, body = loopback.raw_exchange(web.port, request)
    headers: dict[str, list[str]] = {}
    for name, value in lines:
        headers.setdefault(name.lower(), []).append(value)
    return status_line, headers, body


def dechunk(raw: bytes) -> tuple[bytes, int]:
    """Decode chunked framing strictly; (payload, number of data chunks)."""
    payload, count, pos = b"", 0, 0
    while True:
        end = raw.index(b"\r\n", pos)
        size = int(raw[pos:end], 16)
        pos = end + 2
        if size == 0:
            assert raw[pos:] == b"\r\n", "trailer section must be empty"
            return payload, count
        payload += raw[pos : pos + size]
        assert raw[pos + size : pos + size + 2] == b"\r\n"
        pos += size + 2
        count += 1


def site_file(url: str) -> Path:
    """The file behind a fixture URL that serves a directory index or a file."""
    host, _, path = url.removeprefix("http://").partition("/")
    base = SITE_DIR / host / path.partition("?")[0]
    return base / "index.html" if base.is_dir() else base


# -- fixtures ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb(slow_seconds=SLOW) as server:
        yield server


@pytest.fixture(scope="module")
def opener(web: FixtureWeb) -> OpenerDirector:
    return build_opener(ProxyHandler({"http": web.proxy_url}))


# -- seeds and labels --------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: s.outlet)
def test_labels_match_text_lines(seed: Seed) -> None:
    assert len(seed.labels) == len(seed.lines)
    assert set(seed.labels) <= LABELS
    for line, label in zip(seed.lines, seed.labels, strict=True):
        assert (label == "blank") == (line.strip() == ""), (label, line)
    assert seed.labelled("title") == [seed.title]
    assert len(seed.body_lines) >= 5
    if seed.author is None:
        assert seed.labelled("byline") == []
    else:
        assert all(seed.author in line for line in seed.labelled("byline"))


def test_label_choices_that_matter() -> None:
    # captions and alt texts are boilerplate; quoted passages and the update are body
    assert "Advertisement" not in TP.body_lines
    assert TP.labelled("boilerplate").count("Advertisement") == 4
    assert all(line not in TP.body_lines for line in TP.lines if "CREDIT" in line or "Photo Credit" in line)
    assert any(line.startswith("Kim said he was prepared") for line in CD.body_lines)
    assert any(line.startswith("Update:") for line in TAC.body_lines)
    assert CD.labelled("description") == [CD.description]
    assert CD.labelled("byline") == ["Jessica Corbett"]


def test_expected_json_describes_every_seed() -> None:
    assert [s.outlet for s in SEEDS] == ["Common Dreams", "ThinkProgress", "The American Conservative"]
    for seed in SEEDS:
        assert seed.date == "2019-02-28" and seed.published.startswith("2019-02-28T")
        assert seed.language == "en"
        assert seed.url.startswith(f"http://{seed.host}/")
    assert {case["kind"] for case in CASES} >= {
        "not-found",
        "server-error",
        "redirect-chain",
        "slow",
        "non-html",
        "robots-disallowed",
        "rate-limited",
    }


# -- article pages -------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: s.outlet)
def test_article_contains_every_body_line(opener: OpenerDirector, seed: Seed) -> None:
    page = fetch(opener, seed.url)
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    lines = page_lines(page.text)
    missing = [line for line in seed.body_lines if line not in lines]
    assert missing == []


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: s.outlet)
def test_article_contains_every_text_line(opener: OpenerDirector, seed: Seed) -> None:
    lines = page_lines(fetch(opener, seed.url).text)
    missing = [line for line in seed.lines if line.strip() and " ".join(line.split()) not in lines]
    assert missing == []


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: s.outlet)
def test_article_metadata(opener: OpenerDirector, seed: Seed) -> None:
    page = links_of(seed.url, fetch(opener, seed.url).text)
    assert page.link_rels["canonical"] == seed.url
    assert page.meta["og:url"] == seed.url
    assert page.meta["og:type"] == "article"
    assert page.meta["og:title"] == seed.title
    assert page.meta["og:site_name"] == seed.sitename
    assert page.meta["article:published_time"] == seed.published
    assert {"header", "nav", "figure", "h1", "time", "footer"} <= page.tags
    assert ("figcaption" in page.tags) == any("Photo" in line or "CREDIT" in line for line in seed.lines)
    (ld_text,) = page.jsonld
    ld = json.loads(ld_text)
    assert ld["@type"] == "NewsArticle"
    assert ld["headline"] == seed.title
    assert ld["datePublished"] == seed.published and ld["dateModified"] >= seed.published
    assert ld["mainEntityOfPage"]["@id"] == seed.url
    assert ld["publisher"]["name"] == seed.sitename
    if seed.author is None:
        assert ld["author"]["@type"] == "Organization"
    else:
        assert ld["author"] == {**ld["author"], "@type": "Person", "name": seed.author}
    image = fetch(opener, page.meta["og:image"])
    assert image.status == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert image.body[:3] == b"\xff\xd8\xff" and image.body[-2:] == b"\xff\xd9"
    stylesheet = fetch(opener, page.link_rels["stylesheet"])
    assert stylesheet.status == 200 and stylesheet.headers["Content-Type"].startswith("text/css")


def test_caption_and_ads_are_where_the_outlets_put_them(opener: OpenerDirector) -> None:
    tp_lines = page_lines(fetch(opener, TP.url).text)
    first_body, last_body = tp_lines.index(TP.body_lines[0]), tp_lines.index(TP.body_lines[-1])
    ads = [i for i, line in enumerate(tp_lines) if line == "Advertisement"]
    assert len(ads) == 4 and ads[0] < tp_lines.index(TP.title)
    assert all(first_body < i < last_body for i in ads[1:])  # between paragraphs
    cd_lines = page_lines(fetch(opener, CD.url).text)
    assert cd_lines[0] == "Skip to main content"
    assert cd_lines.index("Sign up for our newsletter.") < cd_lines.index(CD.title)
    assert cd_lines[-1] == "Common Dreams Logo"
    tac_lines = page_lines(fetch(opener, TAC.url).text)
    assert tac_lines[tac_lines.index(TAC.title) - 1] == TAC.lines[0]  # breadcrumbs above the headline


# -- discovery sources ----------------------------------------------------------------------
def _toml_outlets() -> list[dict[str, object]]:
    with (REPO / "seeds" / "fixture-web.toml").open("rb") as f:
        outlets: list[dict[str, object]] = tomllib.load(f)["outlet"]
    return outlets


@pytest.mark.parametrize("outlet", _toml_outlets(), ids=lambda o: str(o["name"]))
def test_seed_list_start_pages_lead_to_articles(opener: OpenerDirector, outlet: dict) -> None:
    seed = next(s for s in SEEDS if s.outlet == outlet["name"])
    patterns = [re.compile(p) for p in outlet["article_patterns"]]
    assert any(p.search(seed.url) for p in patterns)
    assert all(domain in seed.host for domain in outlet["allowed_domains"])
    for start in outlet["start_urls"]:
        page = fetch(opener, start)
        assert page.status == 200
        parsed = links_of(start, page.text)
        assert "nav" in parsed.tags
        articles = {h for h in parsed.hrefs if any(p.search(h) for p in patterns)}
        assert seed.url in articles
        assert len(set(parsed.hrefs)) >= 3
        assert not any(p.search(start) for p in patterns)


def test_common_dreams_section_links(opener: OpenerDirector) -> None:
    hrefs = set(links_of(CD_NEWS, fetch(opener, CD_NEWS).text).hrefs)
    assert {
        CD.url,
        *CD_MISSING,
        "http://www.commondreams.org/about",
        "http://www.commondreams.org/search?q=korea",
    } <= hrefs
    assert fetch(opener, "http://www.commondreams.org/about").status == 200
    assert fetch(opener, "http://www.commondreams.org/").status == 200


def test_thinkprogress_section_links_slow_page(opener: OpenerDirector) -> None:
    hrefs = set(
        links_of("http://thinkprogress.org/politics/", fetch(opener, "http://thinkprogress.org/politics/").text).hrefs
    )
    assert {TP.url, TP_SLOW, "http://thinkprogress.org/about/"} <= hrefs


@pytest.mark.parametrize("case", [c for c in CASES if c["found_in"]], ids=lambda c: f"{c['kind']}")
def test_every_case_is_reachable_from_its_sources(opener: OpenerDirector, case: dict) -> None:
    for source in case["found_in"]:
        page = fetch(opener, source)
        assert page.status == 200, source
        if page.headers["Content-Type"].startswith("text/html"):
            assert case["url"] in links_of(source, page.text).hrefs, source
        else:
            assert case["url"] in page.text, source


def test_common_dreams_rss(opener: OpenerDirector) -> None:
    feed = fetch(opener, "http://www.commondreams.org/rss.xml")
    assert feed.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    root = ET.fromstring(feed.body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    (item,) = root.iter("item")
    assert item.findtext("link") == CD.url
    assert item.findtext("title") == CD.title
    assert item.findtext("dc:creator", namespaces=NS) == CD.author
    assert parsedate_to_datetime(item.findtext("pubDate") or "").date().isoformat() == CD.date


def test_thinkprogress_atom(opener: OpenerDirector) -> None:
    feed = fetch(opener, "http://thinkprogress.org/feed/atom/")
    assert feed.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(feed.body)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    (entry,) = root.findall("atom:entry", NS)
    assert entry.find("atom:link[@rel='alternate']", NS).get("href") == TP_FEED_LINK
    assert entry.findtext("atom:title", namespaces=NS) == TP.title
    assert (entry.findtext("atom:published", namespaces=NS) or "").startswith(TP.date)


def test_american_conservative_rss(opener: OpenerDirector) -> None:
    feed = fetch(opener, "http://www.theamericanconservative.com/feed/")
    assert feed.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    (item,) = ET.fromstring(feed.body).iter("item")
    assert item.findtext("link") == TAC.url
    assert item.findtext("dc:creator", namespaces=NS) == TAC.author
    assert parsedate_to_datetime(item.findtext("pubDate") or "").date().isoformat() == TAC.date


def test_common_dreams_news_sitemap(opener: OpenerDirector) -> None:
    sitemap = fetch(opener, "http://www.commondreams.org/sitemap.xml")
    assert sitemap.headers["Content-Type"] == "application/xml; charset=utf-8"
    root = ET.fromstring(sitemap.body)
    assert root.tag == f"{{{NS['sm']}}}urlset"
    urls = root.findall("sm:url", NS)
    assert [u.findtext("sm:loc", namespaces=NS) for u in urls] == [CD.url, CD_PDF]
    news = urls[0].find("news:news", NS)
    assert news.findtext("news:publication/news:name", namespaces=NS) == "Common Dreams"
    assert news.findtext("news:publication/news:language", namespaces=NS) == "en"
    assert news.findtext("news:publication_date", namespaces=NS) == CD.published
    assert news.findtext("news:title", namespaces=NS) == CD.title


def test_thinkprogress_sitemap_index(opener: OpenerDirector) -> None:
    root = ET.fromstring(fetch(opener, "http://thinkprogress.org/sitemap.xml").body)
    assert root.tag == f"{{{NS['sm']}}}sitemapindex"
    (child,) = [s.findtext("sm:loc", namespaces=NS) for s in root.findall("sm:sitemap", NS)]
    assert child == "http://thinkprogress.org/sitemap-posts-2019-02.xml"
    urlset = ET.fromstring(fetch(opener, child).body)
    assert [u.findtext("sm:loc", namespaces=NS) for u in urlset.findall("sm:url", NS)] == [TP.url]


def test_american_conservative_sitemap(opener: OpenerDirector) -> None:
    root = ET.fromstring(fetch(opener, "http://www.theamericanconservative.com/sitemap.xml").body)
    assert [u.findtext("sm:loc", namespaces=NS) for u in root.findall("sm:url", NS)] == [TAC.url, TAC_500, TAC_VIDEO]


@pytest.mark.parametrize(
    ("host", "allowed", "disallowed"),
    [
        ("www.commondreams.org", CD.url, "http://www.commondreams.org/search?q=korea"),
        ("thinkprogress.org", TP.url, "http://thinkprogress.org/wp-admin/"),
        ("www.theamericanconservative.com", TAC.url, "http://www.theamericanconservative.com/wp-admin/"),
    ],
)
def test_robots(opener: OpenerDirector, host: str, allowed: str, disallowed: str) -> None:
    robots = fetch(opener, f"http://{host}/robots.txt")
    assert robots.headers["Content-Type"] == "text/plain; charset=utf-8"
    parser = RobotFileParser()
    parser.parse(robots.text.splitlines())
    assert parser.can_fetch("newsarchive", allowed)
    assert not parser.can_fetch("newsarchive", disallowed)


# -- odd cases ------------------------------------------------------------------------
def test_redirect_chain(web: FixtureWeb, opener: OpenerDirector) -> None:
    page = fetch(opener, TP_FEED_LINK)
    assert page.status == 200 and page.url == TP.url
    (first,) = web.requests_for(TP_FEED_LINK)[-1:]
    (second,) = web.requests_for(TP_SHORTLINK)[-1:]
    assert (first.status, first.response_header_values("Location")) == (302, [TP_SHORTLINK])
    assert (second.status, second.response_header_values("Location")) == (301, [TP.url])
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        conn.request("GET", TP_SHORTLINK)
        resp = conn.getresponse()
        resp.read()
        assert (resp.status, resp.reason, resp.getheader("Location")) == (301, "Moved Permanently", TP.url)
    finally:
        conn.close()


@pytest.mark.parametrize(
    "url",
    [
        *CD_MISSING,
        "http://www.commondreams.org/no/such/page",
        "http://unknown.example/",
        "http://www.theamericanconservative.com/_errors/database-error.html",
    ],
)
def test_not_found(opener: OpenerDirector, url: str) -> None:
    page = fetch(opener, url)
    assert page.status == 404
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Not Found" in page.text


def test_path_traversal_is_refused(web: FixtureWeb) -> None:
    status, _, _ = raw_exchange(
        web, b"GET http://www.commondreams.org/%2e%2e/%2e%2e/server.py HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    assert status.split()[1] == "404"


def test_server_error(opener: OpenerDirector) -> None:
    page = fetch(opener, TAC_500)
    assert page.status == 500
    assert "Error establishing a database connection" in page.text


def test_slow_page_takes_slow_seconds(opener: OpenerDirector) -> None:
    started = time.monotonic()
    page = fetch(opener, TP_SLOW)
    assert time.monotonic() - started >= SLOW
    assert page.status == 200 and "Live updates" in page.text


def test_stop_does_not_wait_for_the_slow_page() -> None:
    outcome: list[object] = []
    server = FixtureWeb(slow_seconds=30).start()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            conn.request("GET", TP_SLOW)
            outcome.append(conn.getresponse().status)
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(type(exc))
        finally:
            conn.close()

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    thread.join(10)
    assert time.monotonic() - started < 2
    assert not thread.is_alive()
    assert outcome and outcome[0] != 200
    assert server.requests_for(TP_SLOW) == []


def test_busy_answers_429_then_200(web: FixtureWeb, opener: OpenerDirector) -> None:
    first = fetch(opener, TAC_BUSY)
    assert first.status == 429 and first.headers["Retry-After"] == "1"
    second = fetch(opener, TAC_BUSY)
    assert second.status == 200
    assert [r.status for r in web.requests_for(TAC_BUSY)] == [429, 200]


def test_pdf(opener: OpenerDirector) -> None:
    pdf = fetch(opener, CD_PDF)
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF-1.") and pdf.body.rstrip().endswith(b"%%EOF")
    assert int(pdf.headers["Content-Length"]) == len(pdf.body)


# -- transport ----------------------------------------------------------------------------
def test_gzip_article(web: FixtureWeb, opener: OpenerDirector) -> None:
    html = site_file(CD.url).read_bytes()
    zipped = fetch(opener, CD.url, Accept_Encoding="gzip, deflate")
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert int(zipped.headers["Content-Length"]) == len(zipped.body) < len(html)
    assert gzip.decompress(zipped.body) == html
    assert web.requests_for(CD.url)[-1].body == zipped.body
    plain = fetch(opener, CD.url, Accept_Encoding="gzip;q=0, identity")
    assert plain.headers["Content-Encoding"] is None and plain.headers["Vary"] == "Accept-Encoding"
    assert plain.body == html


def test_chunked_article(web: FixtureWeb) -> None:
    html = site_file(TP.url).read_bytes()
    status, headers, raw = raw_exchange(
        web, f"GET {TP.url} HTTP/1.1\r\nHost: thinkprogress.org\r\nConnection: close\r\n\r\n".encode()
    )
    assert status == "HTTP/1.1 200 OK"
    assert headers["transfer-encoding"] == ["chunked"] and "content-length" not in headers
    payload, chunks = dechunk(raw)
    assert payload == html and chunks > 1
    assert web.requests_for(TP.url)[-1].body == html and web.requests_for(TP.url)[-1].chunked


def test_http10_gets_content_length_instead_of_chunks(web: FixtureWeb) -> None:
    status, headers, body = raw_exchange(web, f"GET {TP.url} HTTP/1.0\r\n\r\n".encode())
    assert status.startswith("HTTP/1.1 200")
    assert "transfer-encoding" not in headers
    assert headers["content-length"] == [str(len(body))] and headers["connection"] == ["close"]


def test_plain_article_with_repeated_header(web: FixtureWeb, opener: OpenerDirector) -> None:
    page = fetch(opener, TAC.url)
    assert len(page.headers.get_all("Set-Cookie")) == 2
    assert int(page.headers["Content-Length"]) == len(page.body)
    assert page.headers["Content-Encoding"] is None and page.headers["Transfer-Encoding"] is None
    record = web.requests_for(TAC.url)[-1]
    assert len(record.response_header_values("Set-Cookie")) == 2


def test_origin_form_and_keep_alive(web: FixtureWeb) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        conn.request("GET", "/news", headers={"Host": "www.commondreams.org"})
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        conn.request("GET", "http://www.theamericanconservative.com/larison/")
        second = conn.getresponse()
        second.read()
        assert (first.status, second.status) == (200, 200)
        assert conn.sock is sock is not None  # the same connection served both
    finally:
        conn.close()
    assert web.requests_for(CD_NEWS)[-1].header("Host") == "www.commondreams.org"


@pytest.mark.parametrize(
    ("url", "content_type"),
    [
        ("http://www.commondreams.org/robots.txt", "text/plain; charset=utf-8"),
        ("http://www.commondreams.org/themes/custom/commondreams/images/logo.png", "image/png"),
        ("http://thinkprogress.org/sitemap-posts-2019-02.xml", "application/xml; charset=utf-8"),
        ("http://www.theamericanconservative.com/larison/", "text/html; charset=utf-8"),
    ],
)
def test_static_headers(opener: OpenerDirector, url: str, content_type: str) -> None:
    page = fetch(opener, url)
    assert page.status == 200
    assert page.headers["Content-Type"] == content_type
    assert page.headers["Server"] and parsedate_to_datetime(page.headers["Date"])
    assert page.headers["Last-Modified"] == "Thu, 28 Feb 2019 23:00:00 GMT"
    assert int(page.headers["Content-Length"]) == len(page.body) == site_file(url).stat().st_size


def test_head_and_other_methods(web: FixtureWeb) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        conn.request("HEAD", TAC.url)
        head = conn.getresponse()
        assert head.read() == b"" and int(head.getheader("Content-Length")) == site_file(TAC.url).stat().st_size
        conn.request("POST", TAC.url, body=b"x=1")
        post = conn.getresponse()
        post.read()
        assert post.status == 405 and post.getheader("Allow") == "GET, HEAD"
    finally:
        conn.close()


def test_request_log_records_exact_bodies(web: FixtureWeb, opener: OpenerDirector) -> None:
    web_before = len(web.requests)
    fetch(opener, TAC.url)
    fetch(opener, "http://www.commondreams.org/no/such/page")
    new = web.requests[web_before:]
    assert [(r.method, r.url, r.status) for r in new] == [
        ("GET", TAC.url, 200),
        ("GET", "http://www.commondreams.org/no/such/page", 404),
    ]
    assert new[0].body == site_file(TAC.url).read_bytes()
    assert ("Content-Length", str(len(new[0].body))) in new[0].response_headers
    assert new[0].header("Accept-Encoding") == "identity"


# -- command line ---------------------------------------------------------------------
def test_run_command_uses_the_proxy_and_returns_its_code() -> None:
    child = (
        "import os, sys, urllib.request\n"
        "assert 'no_proxy' not in os.environ and os.environ['HTTP_PROXY'] == os.environ['http_proxy']\n"
        "with urllib.request.urlopen('http://www.theamericanconservative.com/larison/') as r:\n"
        "    sys.exit(7 if r.status == 200 else 1)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.fixtureweb", "run", "--slow-seconds", "0.1", "--", sys.executable, "-c", child],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "no_proxy": "*"},
    )
    assert result.returncode == 7, result.stderr
    assert "fixture web at http://127.0.0.1:" in result.stderr


def test_serve_command_prints_proxy_url_and_stops_on_sigterm() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "tests.fixtureweb", "serve", "--slow-seconds", "0.1"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            proxy_url = (proc.stdout.readline() if proc.stdout else "").strip()
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", proxy_url)
            page = fetch(build_opener(ProxyHandler({"http": proxy_url})), TAC.url)
            assert page.status == 200
        finally:
            proc.terminate()
            returncode = proc.wait(10)
    assert returncode == 0
