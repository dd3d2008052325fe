"""A generated news web for distributed crawls, served on loopback as a plain-HTTP proxy
that logs when each request started and ended being served.

A few outlets, each with a front page, section pages, an RSS feed and a sitemap that
list the same articles several times over (so the shared dupefilter has work), and
a robots.txt; with ``dated``, also articles at dated URLs, linked from the front
page first (their URL's shape says article, the sections' stories' does not).
Every request is answered after ``service_seconds``, so requests overlap and the
log shows how many were served at once per host: the per-host limit that all
workers together must keep. URLs in ``busy`` answer 429 with
``Retry-After`` the first time.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.loopback import Loopback, LoopbackHandler, LoopbackServer, proxy_target

__all__ = ["GeneratedWeb", "Hit", "max_overlap"]

WORDS = (
    "summit talks leaders sanctions nuclear envoy treaty council vote budget minister parliament "
    "election coalition reform court ruling appeal protest harbour railway bridge farmers market "
    "inflation wages union strike hospital vaccine research climate drought harvest river storm "
    "school teachers students museum archive festival league final coach season record morning "
    "evening agreement statement officials residents district province capital border trade"
).split()


@dataclass(frozen=True)
class Hit:
    """One request as served: when it started and ended (``time.monotonic()``)."""

    host: str
    path: str
    status: int
    start: float
    end: float

    @property
    def url(self) -> str:
        return f"http://{self.host}{self.path}"


@dataclass(frozen=True)
class _Page:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def max_overlap(hits: list[Hit]) -> int:
    """The most requests served at the same moment."""
    events = sorted([(h.start, 1) for h in hits] + [(h.end, -1) for h in hits], key=lambda e: (e[0], e[1]))
    current = peak = 0
    for _, change in events:
        current += change
        peak = max(peak, current)
    return peak


class _Handler(LoopbackHandler):
    """Answers every GET after ``service_seconds`` and logs it as a :class:`Hit`."""

    server: LoopbackServer[GeneratedWeb]
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        started = time.monotonic()
        target = proxy_target(self.path, self.headers.get("Host"))
        host, path = (target.host, target.path) if target else ("", self.path)
        time.sleep(self.server.web.service_seconds)
        page = self.server.web.answer(f"http://{host}{path}")
        self.server.web.record(Hit(host, path, page.status, started, time.monotonic()))
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        for name, value in page.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(page.body)


class GeneratedWeb(Loopback):
    """``outlets`` x ``sections`` x ``articles`` article pages plus their listings."""

    handler = _Handler
    name = "generatedweb"

    def __init__(
        self,
        outlets: int = 3,
        sections: int = 4,
        articles: int = 25,
        service_seconds: float = 0.02,
        busy: tuple[str, ...] = (),
        retry_after: int = 1,
        dated: int = 0,
    ) -> None:
        super().__init__()
        self.service_seconds = service_seconds
        self.retry_after = retry_after
        self.hosts = [f"www.outlet{o}.example" for o in range(outlets)]
        self.pages: dict[str, _Page] = {}
        self.articles: list[str] = []
        self.dated: list[str] = []
        self.sections: list[str] = []
        for o, host in enumerate(self.hosts):
            self._outlet(o, host, sections, articles, dated)
        self.busy = set(busy)
        self.hits: list[Hit] = []
        self._lock = threading.Lock()

    # -- the pages -------------------------------------------------------------------
    def _outlet(self, o: int, host: str, sections: int, articles: int, dated: int) -> None:
        base = f"http://{host}"
        dated_urls = [f"{base}/2019/02/{28 - d:02d}/summit-talks-end-without-a-deal-{d}" for d in range(dated)]
        for d, url in enumerate(dated_urls):
            self.pages[url] = _html(_article(random.Random(url), f"Outlet {o}", 0, d))
        self.dated += dated_urls
        story_urls: list[list[str]] = []
        for s in range(sections):
            urls = [f"{base}/section-{s}/story-{a}.html" for a in range(articles)]
            story_urls.append(urls)
            for a, url in enumerate(urls):
                self.pages[url] = _html(_article(random.Random(url), f"Outlet {o}", s, a))
            self.articles += urls
            section = f"{base}/section-{s}/"
            self.sections.append(section)
            self.pages[section] = _html(_listing(f"Section {s}", urls))
        everything = [u for urls in story_urls for u in urls]
        front = dated_urls + [f"{base}/section-{s}/" for s in range(sections)] + [urls[0] for urls in story_urls]
        self.pages[f"{base}/"] = _html(_listing(f"Outlet {o}", front))
        items = "".join(
            f"<item><title>Story {i}</title><link>{u}</link><pubDate>Thu, 28 Feb 2019 12:00:00 GMT</pubDate></item>"
            for i, u in enumerate(everything[:10])
        )
        self.pages[f"{base}/rss.xml"] = _Page(
            200,
            "application/rss+xml; charset=utf-8",
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{o}</title>{items}</channel></rss>'.encode(),
        )
        locs = "".join(f"<url><loc>{u}</loc></url>" for u in everything)
        self.pages[f"{base}/sitemap.xml"] = _Page(
            200,
            "application/xml; charset=utf-8",
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'.encode(),
        )
        self.pages[f"{base}/robots.txt"] = _Page(200, "text/plain", b"User-agent: *\nAllow: /\n")

    @property
    def crawled_urls(self) -> set[str]:
        """Every URL a complete crawl of the seed list fetches (robots.txt aside)."""
        return {u for u in self.pages if not u.endswith("/robots.txt")}

    def write_seeds(self, path: Path) -> Path:
        """The seed list of the web, as a TOML file."""
        tables = []
        for o, host in enumerate(self.hosts):
            base, pattern = f"http://{host}", re.escape(host)
            tables.append(
                "[[outlet]]\n"
                f'name = "Outlet {o}"\n'
                f'homepage = "{base}/"\n'
                f'allowed_domains = ["{host}"]\n'
                f'start_urls = ["{base}/"]\n'
                f'feeds = ["{base}/rss.xml"]\n'
                f'sitemaps = ["{base}/sitemap.xml"]\n'
                f"article_patterns = ['^http://{pattern}/section-\\d+/story-\\d+\\.html$']\n"
                f"follow_patterns = ['^http://{pattern}/section-\\d+/$']\n"
            )
        path.write_text("\n".join(tables))
        return path

    # -- serving -------------------------------------------------------------------
    def answer(self, url: str) -> _Page:
        with self._lock:
            if url in self.busy:
                self.busy.discard(url)
                return _Page(429, "text/plain", b"busy\n", (("Retry-After", str(self.retry_after)),))
        return self.pages.get(url) or _Page(404, "text/plain", b"not found\n")

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def hits_for(self, host: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.host == host]

    @property
    def proxy_url(self) -> str:
        return self.url


def _html(body: str) -> _Page:
    return _Page(200, "text/html; charset=utf-8", f"<!DOCTYPE html>\n<html lang='en'>{body}</html>\n".encode())


def _listing(title: str, urls: list[str]) -> str:
    links = "".join(f'<li><a href="{u}">{u.rsplit("/", 2)[-2]} {u.rsplit("/", 1)[-1]}</a></li>' for u in urls)
    return f"<head><title>{title}</title></head><body><h1>{title}</h1><ul>{links}</ul></body>"


def _article(rng: random.Random, outlet: str, section: int, number: int) -> str:
    title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
    paragraphs = "".join(
        "<p>" + " ".join(_sentence(rng) for _ in range(rng.randint(3, 5))) + "</p>" for _ in range(rng.randint(4, 6))
    )
    return (
        f"<head><title>{title} | {outlet}</title><meta name='author' content='Reporter {number}'></head>"
        f"<body><nav><a href='/'>{outlet}</a> <a href='/section-{section}/'>Section {section}</a></nav>"
        f"<article><h1>{title}</h1><p class='byline'>By Reporter {number}, 28 February 2019</p>{paragraphs}</article>"
        "<footer>Copyright the outlet. All rights reserved.</footer></body>"
    )


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
