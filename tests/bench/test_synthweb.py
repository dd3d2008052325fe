"""The synthetic news web of the benchmarks: deterministic pages of the stated sizes, feeds,
sitemaps and section pages that reach every article, served through a real socket as a
proxy and by Host header, with gzip and chunked answers where stated."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import lxml.html
import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.seeds import load_seeds
from bench.synthweb import PAGE_MAX, PAGE_MIN, SynthServer, SynthWeb, _material, measure_server
from tests import loopback
from tests.fixtureweb.__main__ import proxy_env
from tests.fixtureweb.data import load_seeds as load_seed_texts

REPO = Path(__file__).resolve().parents[2]
WEB = SynthWeb(outlets=3, articles=1200, seed=7)
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}


@pytest.fixture(scope="module")
def server() -> Iterator[SynthServer]:
    with SynthServer(WEB) as running:
        yield running


def get(url: str) -> bytes:
    parts = urlsplit(url)
    page = WEB.resolve(parts.netloc, parts.path)
    assert page.status == 200, url
    return page.body


def raw_exchange(server: SynthServer, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw request bytes; return the status line, headers and the raw rest (framing kept)."""
    status, lines, rest = loopback.raw_exchange(server.port, request)
    return status, {name.lower(): value for name, value in lines}, rest


def get_once(server: SynthServer, target: str, host: str = "x", *headers: str) -> tuple[str, dict[str, str], bytes]:
    """One HTTP/1.1 GET on its own connection."""
    lines = "".join(f"{h}\r\n" for h in (f"Host: {host}", *headers, "Connection: close"))
    return raw_exchange(server, f"GET {target} HTTP/1.1\r\n{lines}\r\n".encode())


def dechunk(raw: bytes) -> tuple[bytes, int]:
    body, chunks = b"", 0
    while True:
        size_line, _, raw = raw.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert raw == b"\r\n"
            return body, chunks
        body, raw, chunks = body + raw[:size], raw[size + 2 :], chunks + 1


# -- the pages ------------------------------------------------------------------------------
def test_pages_are_deterministic_and_depend_on_the_seed() -> None:
    again, other = SynthWeb(3, 1200, seed=7), SynthWeb(3, 1200, seed=8)
    url = WEB.article(2, 345).url
    assert again.article(2, 345).url == url
    assert again.article_html(2, 345) == WEB.article_html(2, 345)
    assert again.feed_xml(1) == WEB.feed_xml(1) and again.sitemap(1, 2) == WEB.sitemap(1, 2)
    assert again.section_html(0, WEB.outlet(0).sections[1], 3) == WEB.section_html(0, WEB.outlet(0).sections[1], 3)
    assert other.article_html(2, 345) != WEB.article_html(2, 345)
    assert len({o.host for o in WEB.outlet_list}) == 3


def test_articles_are_made_of_the_seed_texts_body_and_captions() -> None:
    seeds = load_seed_texts()
    assert _material().paragraphs == tuple(line for seed in seeds for line in seed.body_lines)
    captions = [line for seed in seeds for line in seed.labelled("boilerplate") if 40 < len(line) < 300]
    assert _material().captions == tuple(captions)


def test_bench_imports_nothing_from_tests() -> None:
    modules = sorted(f"bench.{p.stem}" for p in (REPO / "bench").glob("*.py") if not p.stem.startswith("_"))
    code = f"import sys, {', '.join(modules)}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'tests'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_article_pages_are_50_to_150_kb_of_article_inside_boilerplate() -> None:
    paragraphs = set(_material().paragraphs)
    sizes = []
    for o in range(3):
        for i in range(0, 1200, 37):
            html = WEB.article_html(o, i)
            sizes.append(len(html))
            assert PAGE_MIN <= len(html) <= PAGE_MAX
            tree = lxml.html.fromstring(html)
            article = WEB.article(o, i)
            assert tree.findtext(".//h1") == article.title
            assert tree.find(".//link[@rel='canonical']").get("href") == article.url
            body = [p.text_content() for p in tree.findall(".//div[@class='story__body']/p")]
            assert 8 <= len(body) <= 24 and all(p in paragraphs for p in body)
            # what an extractor must leave out is there too
            for part in ("header", "footer", ".//section[@class='comments']", ".//section[@class='recommended']"):
                assert tree.find(f".//{part}" if not part.startswith(".") else part) is not None, part
            assert len(tree.xpath("//*")) > 500  # real pages are markup-heavy
    assert max(sizes) - min(sizes) > 60_000  # spread over the range, not one size


def test_sitemaps_list_every_article_once_with_its_date() -> None:
    for o in range(3):
        index_url, *sitemap_urls = WEB.sitemap_urls(o)
        index = ET.fromstring(get(index_url))
        assert [loc.text for loc in index.findall("sm:sitemap/sm:loc", NS)] == sitemap_urls
        assert len(sitemap_urls) == 2  # 1,200 articles, 1,000 per sitemap
        listed = []
        for url in sitemap_urls:
            for entry in ET.fromstring(get(url)).findall("sm:url", NS):
                listed.append(entry.findtext("sm:loc", namespaces=NS))
                date = entry.findtext("news:news/news:publication_date", namespaces=NS)
                assert date == WEB.article(o, len(listed) - 1).published.isoformat()
        assert listed == [WEB.article(o, i).url for i in range(1200)]


def test_feed_lists_the_latest_fifty_articles() -> None:
    channel = ET.fromstring(get(f"{WEB.outlet(1).base}/feed.xml")).find("channel")
    assert channel is not None
    links = [item.findtext("link") for item in channel.findall("item")]
    assert links == [WEB.article(1, i).url for i in range(50)]
    assert all(item.findtext("pubDate") for item in channel.findall("item"))


def test_section_pages_reach_every_article_from_the_front_page() -> None:
    """What a recursive crawler (wget -r) that reads no sitemap depends on."""
    outlet = WEB.outlet(0)
    seen, queue, articles = {f"{outlet.base}/"}, [f"{outlet.base}/"], set()
    while queue:
        url = queue.pop()
        html = get(url)
        for href in lxml.html.fromstring(html).xpath("//a/@href"):
            link = urljoin(url, href).partition("#")[0]
            if urlsplit(link).netloc != outlet.host or link in seen:
                continue
            if link.endswith(".html"):
                articles.add(link)
            elif re.search(r"/[a-z]+/(page/\d+/)?$", link):
                seen.add(link)
                queue.append(link)
    assert articles == {WEB.article(0, i).url for i in range(1200)}


def test_robots_txt_allows_articles_and_names_the_sitemap() -> None:
    base = WEB.outlet(2).base
    robots = RobotFileParser()
    robots.parse(get(f"{base}/robots.txt").decode().splitlines())
    assert robots.can_fetch("newsarchive", WEB.article(2, 5).url)
    assert not robots.can_fetch("newsarchive", f"{base}/search/?q=x")
    assert robots.site_maps() == [f"{base}/sitemap.xml"]


def test_seed_list_and_url_list_match_the_web(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.toml"
    seeds.write_text(WEB.seed_toml())
    outlets = load_seeds(seeds).outlets
    assert [o.name for o in outlets] == [o.name for o in WEB.outlet_list]
    article = WEB.article(1, 77).url
    assert outlets[1].is_article(article) and not outlets[0].is_article(article)
    assert not outlets[1].is_article(f"{WEB.outlet(1).base}/{WEB.outlet(1).sections[0]}/")
    urls = list(WEB.crawl_urls())
    assert len(urls) == len(set(urls)) == 3 * (1200 + 6)  # robots, 3 sitemaps, feed, front page
    assert all(WEB.resolve(urlsplit(u).netloc, urlsplit(u).path).status == 200 for u in urls[:20])


def test_unknown_pages_are_404() -> None:
    host = WEB.outlet(0).host
    article = WEB.article(0, 3)
    for host_, path in [
        ("www.elsewhere.example", "/"),
        (host, article.path.replace(".html", "x.html")),  # right index, wrong slug
        (host, f"/{article.section}/2019/02/28/a-b-1200.html"),  # past the last article
        (host, "/sitemaps/news-3.xml"),
        (host, f"/{WEB.outlet(0).sections[0]}/page/1/"),  # page 1 is the section's own URL
        (host, f"/{WEB.outlet(0).sections[0]}/page/99/"),
    ]:
        assert WEB.resolve(host_, path).status == 404, path


# -- the server -----------------------------------------------------------------------------
def test_proxy_and_host_header_requests_get_the_same_page(server: SynthServer) -> None:
    article = WEB.article(0, 4)  # neither gzip nor chunked
    proxied = get_once(server, article.url)
    direct = get_once(server, article.path, article.outlet.host)
    for status, headers, body in (proxied, direct):
        assert status == "HTTP/1.1 200 OK"
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert int(headers["content-length"]) == len(body)
        assert body == WEB.article_html(0, 4)


def test_every_third_article_is_gzip_encoded_when_accepted(server: SynthServer) -> None:
    url = WEB.article(1, 6).url
    _, headers, body = get_once(server, url, "x", "Accept-Encoding: gzip, deflate")
    assert headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == WEB.article_html(1, 6)
    _, headers, body = get_once(server, url, "x", "Accept-Encoding: gzip;q=0")
    assert "content-encoding" not in headers and body == WEB.article_html(1, 6)
    _, headers, _ = get_once(server, WEB.article(1, 4).url, "x", "Accept-Encoding: gzip")
    assert "content-encoding" not in headers


def test_odd_articles_and_sitemaps_are_chunked_for_http_11_only(server: SynthServer) -> None:
    for url, expected in [
        (WEB.article(2, 7).url, WEB.article_html(2, 7)),
        (WEB.sitemap_urls(2)[1], WEB.sitemap(2, 1)),
    ]:
        _, headers, raw = get_once(server, url)
        assert headers["transfer-encoding"] == "chunked" and "content-length" not in headers
        body, chunks = dechunk(raw)
        assert body == expected and chunks > 1
        _, headers, raw = raw_exchange(server, f"GET {url} HTTP/1.0\r\n\r\n".encode())
        assert "transfer-encoding" not in headers and raw == expected


def test_keep_alive_pipelining_head_and_refusals(server: SynthServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    for i in range(5):
        connection.request("GET", WEB.article(0, i).url)
        response = connection.getresponse()
        assert response.status == 200 and response.read() == WEB.article_html(0, i)
    connection.request("HEAD", WEB.article(0, 1).url)
    response = connection.getresponse()
    assert response.status == 200 and response.read() == b""
    connection.request("GET", "http://www.elsewhere.example/")
    assert connection.getresponse().status == 404
    connection.close()

    robots = [f"{o.base}/robots.txt" for o in WEB.outlet_list]
    pipelined = "".join(f"GET {u} HTTP/1.1\r\nHost: x\r\n\r\n" for u in robots[:2])
    pipelined += f"GET {robots[2]} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    _, _, rest = raw_exchange(server, pipelined.encode())
    assert all(f"Sitemap: {o.base}/sitemap.xml".encode() in rest for o in WEB.outlet_list)

    status, headers, _ = raw_exchange(server, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab")
    assert status == "HTTP/1.1 405 Method Not Allowed" and headers["connection"] == "close"
    status, _, _ = raw_exchange(server, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")  # no Host
    assert status == "HTTP/1.1 400 Bad Request"


def test_measure_server_fetches_every_url(server: SynthServer) -> None:
    urls = [WEB.article(o, i).url for o in range(3) for i in range(10)]
    result = measure_server(server.proxy_url, urls, clients=2)
    assert result.requests == 30
    assert result.bytes > 30 * PAGE_MIN // 3  # a third are gzip-encoded
    assert result.requests_per_second > 0 and result.mb_per_second > 0


def test_news_spider_fetches_exactly_the_url_list(tmp_path: Path) -> None:
    """The wget -i and bare-Scrapy baselines fetch ``crawl_urls()``: that must be what our crawl fetches."""
    web = SynthWeb(outlets=2, articles=6, seed=1)
    seeds = tmp_path / "seeds.toml"
    seeds.write_text(web.seed_toml())
    stats = tmp_path / "stats.json"
    with SynthServer(web) as running:
        settings = {
            "AUTOTHROTTLE_ENABLED": "False",
            "DOWNLOAD_DELAY": "0",
            "EXTRACTION_WORKERS": "0",
            "ARCHIVE_CONTACT_URL": "http://localhost/tests",
            "ARCHIVE_DATA_DIR": str(tmp_path / "data"),
            "TELNETCONSOLE_ENABLED": "False",
            "EXTENSIONS": json.dumps({"crawler.extensions.statsfile.StatsFile": 0}),
            "STATS_FILE": str(stats),
        }
        command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}"]
        command += [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
        env = proxy_env(running.proxy_url)
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    fetched = []
    for path in (tmp_path / "data" / "warcs").glob("*.warc.gz"):
        with path.open("rb") as f:
            fetched += [
                r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(f) if r.rec_type == "response"
            ]
    assert sorted(fetched) == sorted(web.crawl_urls())
    crawl_stats = json.loads(stats.read_text())
    assert crawl_stats["downloader/response_count"] == len(fetched)
    assert crawl_stats["extraction/articles"] == 12
