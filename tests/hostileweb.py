"""A hostile news outlet on loopback: every page is one of the ways the web breaks crawlers.

``www.hostile.example`` looks like an outlet (a front page, a feed, a
sitemap, articles) but each page holds a case that once stopped a crawl,
froze it, or blew up its memory: malformed URLs in every place a URL is
read, a gzip bomb as a sitemap and as an article, a body larger than the
archive keeps, markup that made the requisite scan quadratic, headers with
bytes that are not text. One ordinary article is there too, so a test can
tell that the crawl still does its job around them.

Like the fixture web it is a plain-HTTP forward proxy; a crawl points
``http_proxy`` at :attr:`HostileWeb.url`.
"""

from __future__ import annotations

import threading
import zlib
from functools import cache
from html import escape

from tests.fixtureweb import load_seeds
from tests.loopback import Loopback, LoopbackHandler, proxy_target

HOST = "www.hostile.example"
SITE = f"http://{HOST}"
#: What the gzip bombs inflate to.
BOMB_SIZE = 1 << 30
#: The body longer than ARCHIVE_MAX_BODY_SIZE (100 MB by default).
HUGE_SIZE = 200 * 1024 * 1024

#: Malformed URLs, by the kind of damage, as they appear in links, feeds and sitemaps.
BAD_URLS = {
    "port out of range": f"http://{HOST}:99999/news/port",
    "unclosed IPv6 bracket": "http://[::1/news/ipv6",
    "bad IPv6 address": "http://[fe80::1%zz]/news/zone",
    "10 KB long": f"{SITE}/news/{'a' * 10_000}",
    "control characters": f"{SITE}/news/con\x01trol\x7f",
    "empty host": "http:///news/nohost",
    "not http": "javascript:alert(1)",
}


@cache
def gzip_bomb(prefix: bytes = b"") -> bytes:
    """``prefix`` and then zero bytes up to BOMB_SIZE, gzipped: about 1 MB that inflates to 1 GiB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(prefix)]
    parts += [compressor.compress(block) for _ in range((BOMB_SIZE - len(prefix)) >> 20)]
    return b"".join(parts) + compressor.flush()


def _article(slug: str, title: str, body: str, head: str = "") -> bytes:
    return (
        f"<!doctype html><html lang=en><head><title>{escape(title)}</title>{head}</head>"
        f"<body><article><h1>{escape(title)}</h1>{body}</article></body></html>"
    ).encode()


def _ordinary_text() -> str:
    seed = load_seeds()[0]
    return "".join(f"<p>{escape(line)}</p>" for line in seed.body_lines)


ARTICLES = {
    "ordinary": lambda: _article("ordinary", "An ordinary article among hostile ones", _ordinary_text()),
    "canonical-port": lambda: _article(
        "canonical-port",
        "A canonical link whose port is out of range",
        _ordinary_text(),
        f'<link rel="canonical" href="{BAD_URLS["port out of range"]}">',
    ),
    "unclosed-script": lambda: _article(
        "unclosed-script", "Markup that made the requisite scan quadratic", "<script>" + "<script src=/a.js>" * 15_000
    ),
    "unclosed-comment": lambda: _article("unclosed-comment", "Comments that never end", "<!--" * 60_000),
    "bad-links": lambda: _article(
        "bad-links",
        "Links that cannot be parsed",
        _ordinary_text() + "".join(f'<a href="{escape(url)}">{escape(kind)}</a>' for kind, url in BAD_URLS.items()),
    ),
}


class _Handler(LoopbackHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        web: HostileWeb = self.server.web  # type: ignore[attr-defined]
        target = proxy_target(self.path, self.headers.get("Host"))
        path = target.path if target is not None and target.host == HOST else None
        with web.lock:
            web.requests.append(path or self.path)
        if path is None:
            self._send(404, b"not here", "text/plain")
        elif path == "/robots.txt":
            self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
        elif path == "/":
            links = "".join(f'<a href="/news/{slug}">{slug}</a>' for slug in ARTICLES)
            links += '<a href="/news/gzip-bomb">bomb</a><a href="/news/huge">huge</a>'
            links += '<a href="/news/bad-location">moved</a><a href="/news/header-bytes">headers</a>'
            self._send(200, _article("front", "Hostile front page", links), "text/html; charset=utf-8")
        elif path == "/feed.xml":
            items = "".join(f"<item><link>{escape(url)}</link></item>" for url in BAD_URLS.values())
            items += f"<item><link>{SITE}/news/ordinary</link><pubDate>Thu, 28 Feb 2019 10:00:00 GMT</pubDate></item>"
            self._send(200, f'<rss version="2.0"><channel>{items}</channel></rss>'.encode(), "application/rss+xml")
        elif path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{escape(url)}</loc></url>" for url in BAD_URLS.values())
            urls += f"<url><loc>{SITE}/news/canonical-port</loc></url>"
            # a byte that is not UTF-8, where a URL is expected
            body = f"<urlset>{urls}<url><loc>{SITE}/news/".encode() + b"\xff\xfe</loc></url></urlset>"
            self._send(200, body, "application/xml")
        elif path == "/bomb-sitemap.xml.gz":
            self._send(200, gzip_bomb(b"<urlset><url><loc>"), "application/x-gzip")
        elif path.startswith("/news/") and path[6:] in ARTICLES:
            self._send(200, ARTICLES[path[6:]](), "text/html; charset=utf-8")
        elif path == "/news/gzip-bomb":
            self._send(200, gzip_bomb(b"<html><body><p>"), "text/html", [("Content-Encoding", "gzip")])
        elif path == "/news/huge":
            self._send_huge()
        elif path == "/news/bad-location":
            self._send(302, b"", "text/plain", [("Location", "http://[bad-location/")])
        elif path == "/news/header-bytes":
            self._send(
                200,
                _article("header-bytes", "Header bytes", _ordinary_text()),
                "text/html; charset=utf-8",
                raw_headers=[b"X-Odd: \xff\xfe\x80 not text"],
            )
        else:
            self._send(404, b"not found", "text/plain")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: list[tuple[str, str]] | None = None,
        raw_headers: list[bytes] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers or []:
            self.send_header(name, value)
        for line in raw_headers or []:
            self._headers_buffer.append(line + b"\r\n")  # type: ignore[attr-defined]
        self.end_headers()
        self.wfile.write(body)

    def _send_huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(HUGE_SIZE))
        self.end_headers()
        chunk = b"<p>" + b"x" * ((1 << 20) - 3)
        try:
            for _ in range(HUGE_SIZE >> 20):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler stopped reading where the archive stops keeping


class HostileWeb(Loopback):
    """The hostile outlet; :attr:`requests` lists every path asked for."""

    name = "hostileweb"
    handler = _Handler

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def seed_toml(self) -> str:
        return f"""[[outlet]]
name = "Hostile"
homepage = "{SITE}/"
allowed_domains = ["hostile.example"]
start_urls = ["{SITE}/"]
feeds = ["{SITE}/feed.xml"]
sitemaps = ["{SITE}/sitemap.xml", "{SITE}/bomb-sitemap.xml.gz"]
article_patterns = ['^http://www\\.hostile\\.example/news/']
"""
