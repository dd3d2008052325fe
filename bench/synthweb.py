"""A synthetic news web for benchmarks: N outlets x M articles, generated on demand.

Every page is a pure function of ``(seed, outlet, index)``: nothing is held in
memory but a little per-outlet chrome, so a web of a million articles costs no
more to serve than one of ten. Article pages are 50-150 KB, the way real news
pages are: a few KB of article text (paragraphs of the labelled seed texts in
``tests/fixtureweb/seeds/``, mixed and repeated) inside navigation, related
links, ad slots, a footer, inline CSS and a large inline JSON state blob. Each
outlet also has a front page, paginated section pages that reach every
article (for recursive crawlers such as ``wget -r``), an RSS feed of its latest
articles, a sitemap index of news sitemaps listing every article (for the
project's spider), and a robots.txt.

Transport varies the way it does on the web: every third article (and the
front, section and feed pages) is gzip-encoded when the client accepts it,
every second article and every sitemap is sent with chunked framing.
Article pages carry a strong ETag (one per representation: the gzip-encoded
one has its own) and Last-Modified (the publication time), and answer a
matching ``If-None-Match`` or ``If-Modified-Since`` with ``304 Not Modified``
(without making the page), as news sites' servers and CDNs do; the
``--ignore-conditionals`` switch makes the server answer 200 with the whole,
byte-identical page instead, as servers that ignore validators do.

:class:`SynthServer` serves it on 127.0.0.1 from an asyncio protocol (much
faster than ``http.server``; :func:`measure_server` shows by how much the
server outruns its clients). Like the fixture web it is a plain-HTTP proxy:
a proxy-form request (``GET http://www.host.example/path``) is routed by its
host, so captures keep realistic addresses; an origin-form request is routed
by its Host header.

    python -m bench.synthweb serve --outlets 10 --articles 500   # prints the proxy URL
    python -m bench.synthweb serve ... --ignore-conditionals     # 200 to If-None-Match / If-Modified-Since
    python -m bench.synthweb seeds --outlets 10 --articles 500   # the crawler's seed list
    python -m bench.synthweb urls --outlets 10 --articles 500    # every URL the spider fetches
    python -m bench.synthweb measure --outlets 10 --articles 500 # the server's own throughput

It is one long module on purpose: the benchmarks start it as one program,
and the page generator, the listings and the server all rest on the same
pure functions of ``(seed, outlet, index)``, which split across modules
would have to be kept in step.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gzip
import http.client
import json
import multiprocessing
import random
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, formatdate
from functools import cached_property, lru_cache
from html import escape
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from werkzeug.sansio.http import is_resource_modified

__all__ = ["Page", "SynthServer", "SynthWeb", "Validators", "measure_server"]

SERVER_NAME = "SynthWeb/1.0"
#: The labelled seed texts that article pages are made of: ``NAME.txt`` and ``NAME.labels``
#: (one label per line), the documents the fixture web of the tests was rebuilt from. Read
#: here as data, so that the benchmarks import nothing from ``tests/``.
SEED_TEXTS_DIR = Path(__file__).resolve().parents[1] / "tests" / "fixtureweb" / "seeds"
#: The newest article's publication time; article ``i`` is ``i`` hours older.
NEWEST = datetime(2019, 2, 28, 23, 0, tzinfo=timezone.utc)
PAGE_MIN = 50_000
PAGE_MAX = 150_000
SECTION_PAGE_SIZE = 30
FRONT_SIZE = 40
FEED_SIZE = 50
SITEMAP_SIZE = 1000
RELATED_LINKS = 12
GZIP_LEVEL = 1  # nginx's default (gzip_comp_level 1); cheap enough to keep the server out of the way
CHUNK_SIZE = 16 * 1024
MAX_REQUEST_HEAD = 64 * 1024

ARTICLE_CACHE_CONTROL = ("Cache-Control", "public, max-age=300")

#: /section/yyyy/mm/dd/slug-index.html
ARTICLE_PATH = re.compile(r"/[a-z]+/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-(\d+)\.html")

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

ADJECTIVES = (
    "Daily Evening Morning Weekly National Northern Southern Coastal Valley Metro Capital Harbor "
    "Independent Free Republic Union Central Western Eastern Prairie Mountain River Lake City"
).split()
NOUNS = (
    "Herald Courier Ledger Gazette Tribune Chronicle Observer Sentinel Dispatch Register Post "
    "Examiner Monitor Bulletin Journal Record Times Star Mirror Beacon Review Report Press Globe"
).split()
SECTIONS = ("world", "politics", "business", "science", "culture", "opinion", "health", "tech")
FIRST_NAMES = "Ana Ben Chloe Daniel Elena Farid Grace Hiro Ines Jamal Kofi Lena Mateo Nadia Omar Priya".split()
LAST_NAMES = "Abbott Baptiste Chen Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Larsen Moreau".split()


@dataclass(frozen=True)
class Page:
    """One answer: status, Content-Type and body before any content or transfer coding."""

    status: int
    content_type: str
    body: bytes
    #: Sent gzip-encoded when the request's Accept-Encoding allows it.
    gzip: bool = False
    #: Sent with chunked framing (HTTP/1.1 only).
    chunked: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    #: What a conditional request for it is compared with (article pages only).
    validators: Validators | None = None


@dataclass(frozen=True)
class Validators:
    """An article page's validators, known without making the page: every page is a pure
    function of ``(seed, outlet, index)``, so that triple names its version."""

    etag: str  # strong, quoted, of the identity representation
    last_modified: datetime
    gzip: bool  # the page is sent gzip-encoded to a client that accepts it

    def etag_for(self, gzipped: bool) -> str:
        """The ETag of the representation sent: a gzip-encoded body is other bytes, so another
        strong ETag (Apache's ``-gzip`` suffix)."""
        return f'{self.etag[:-1]}-gzip"' if gzipped else self.etag

    @property
    def last_modified_header(self) -> str:
        return format_datetime(self.last_modified, usegmt=True)

    def not_modified(self, headers: dict[str, str], gzipped: bool) -> bool:
        """Whether a request's If-None-Match (which wins when present) or If-Modified-Since
        says the client holds this representation (RFC 9110, section 13.2.2)."""
        if "if-none-match" not in headers and "if-modified-since" not in headers:
            return False
        return not is_resource_modified(
            http_if_modified_since=headers.get("if-modified-since"),
            http_if_none_match=headers.get("if-none-match"),
            etag=self.etag_for(gzipped),
            last_modified=self.last_modified,
        )


@dataclass(frozen=True)
class Outlet:
    index: int
    name: str
    host: str
    sections: tuple[str, ...]

    @property
    def base(self) -> str:
        return f"http://{self.host}"


@dataclass(frozen=True)
class Article:
    outlet: Outlet
    index: int
    title: str
    section: str
    author: str
    published: datetime
    path: str

    @property
    def url(self) -> str:
        return self.outlet.base + self.path


@dataclass(frozen=True)
class _Material:
    """The seed texts cut into what pages are made of."""

    paragraphs: tuple[str, ...]
    captions: tuple[str, ...]
    words: tuple[str, ...]


def _labelled_lines() -> Iterator[tuple[str, str]]:
    """(label, line) for every line of the seed texts, in file-name order."""
    for labels in sorted(SEED_TEXTS_DIR.glob("*.labels")):
        lines = labels.with_suffix(".txt").read_text(encoding="utf-8").splitlines()
        yield from zip(labels.read_text(encoding="utf-8").splitlines(), lines, strict=True)


@lru_cache(maxsize=1)
def _material() -> _Material:
    labelled = list(_labelled_lines())
    paragraphs = tuple(line for label, line in labelled if label == "body")
    captions = tuple(line for label, line in labelled if label == "boilerplate" and 40 < len(line) < 300)
    words = tuple(
        sorted({w for p in paragraphs for w in re.findall(r"[A-Za-z][a-z]{3,}", p)} - {"that", "this", "with"})
    )
    return _Material(paragraphs, captions, words)


def _slug(text: str, words: int = 8) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower())[:words])


@dataclass(frozen=True)
class SynthWeb:
    """The web's shape; every page is derived from it and the seed."""

    outlets: int
    articles: int  # per outlet
    seed: int = 0

    # -- the shape ----------------------------------------------------------------
    @cached_property
    def outlet_list(self) -> tuple[Outlet, ...]:
        outlets = []
        for o in range(self.outlets):
            rng = random.Random(f"{self.seed}:outlet:{o}")
            adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
            sections = tuple(sorted(rng.sample(SECTIONS, 4), key=SECTIONS.index))
            host = f"www.{adjective.lower()}{noun.lower()}{o}.example"
            outlets.append(Outlet(o, f"The {adjective} {noun} {o}", host, sections))
        return tuple(outlets)

    @cached_property
    def _by_host(self) -> dict[str, Outlet]:
        return {o.host: o for o in self.outlet_list}

    def outlet(self, o: int) -> Outlet:
        return self.outlet_list[o]

    def article(self, o: int, i: int) -> Article:
        """Article ``i`` of outlet ``o`` (0 is the newest)."""
        return _article(self, o, i)

    def _make_article(self, o: int, i: int) -> Article:
        outlet = self.outlet_list[o]
        rng = random.Random(f"{self.seed}:title:{o}:{i}")
        words = rng.sample(_material().words, rng.randint(5, 9))
        title = " ".join(words).capitalize()
        section = outlet.sections[i % len(outlet.sections)]
        published = NEWEST - timedelta(hours=i)
        author = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        path = f"/{section}/{published:%Y/%m/%d}/{_slug(title)}-{i}.html"
        return Article(outlet, i, title, section, author, published, path)

    def article_urls(self) -> Iterator[str]:
        for o in range(self.outlets):
            for i in range(self.articles):
                yield self.article(o, i).url

    def sitemap_urls(self, o: int) -> list[str]:
        """The sitemap index and the news sitemaps it lists."""
        base = self.outlet_list[o].base
        pages = max(1, -(-self.articles // SITEMAP_SIZE))
        return [f"{base}/sitemap.xml"] + [f"{base}/sitemaps/news-{k}.xml" for k in range(1, pages + 1)]

    def crawl_urls(self) -> Iterator[str]:
        """Every URL the project's spider fetches from :meth:`seed_toml` (robots.txt included):
        the URL list for ``wget -i`` and the bare Scrapy crawl."""
        for outlet in self.outlet_list:
            yield f"{outlet.base}/robots.txt"
            yield from self.sitemap_urls(outlet.index)
            yield f"{outlet.base}/feed.xml"
            yield f"{outlet.base}/"
            for i in range(self.articles):
                yield self.article(outlet.index, i).url

    def seed_toml(self) -> str:
        """A seed list for ``scrapy crawl news``: each outlet's sitemap, feed and front page."""
        lines = ["# Generated by bench.synthweb: the synthetic news web.", ""]
        for outlet in self.outlet_list:
            host = re.escape(outlet.host)
            sections = "|".join(outlet.sections)
            lines += [
                "[[outlet]]",
                f'name = "{outlet.name}"',
                f'homepage = "{outlet.base}/"',
                f'allowed_domains = ["{outlet.host}"]',
                f'start_urls = ["{outlet.base}/"]',
                f'feeds = ["{outlet.base}/feed.xml"]',
                f'sitemaps = ["{outlet.base}/sitemap.xml"]',
                f"article_patterns = ['^https?://{host}/({sections})/\\d{{4}}/\\d{{2}}/\\d{{2}}/[a-z0-9-]+-\\d+\\.html$']",
                "",
            ]
        return "\n".join(lines)

    # -- routing --------------------------------------------------------------------
    def resolve(self, host: str, path: str) -> Page:
        """The page at ``http://{host}{path}`` (a 404 page when there is none)."""
        outlet = self._by_host.get(host.lower().split(":")[0])
        path = path.split("?", 1)[0]
        if outlet is None:
            return _not_found()
        o = outlet.index
        if path == "/":
            return Page(200, HTML, self.front_html(o), gzip=True)
        if path == "/robots.txt":
            return Page(200, TEXT, self.robots_txt(o))
        if path == "/feed.xml":
            return Page(200, RSS, self.feed_xml(o), gzip=True)
        if path == "/sitemap.xml":
            return Page(200, XML, self.sitemap_index(o), chunked=True)
        if m := re.fullmatch(r"/sitemaps/news-(\d+)\.xml", path):
            k = int(m.group(1))
            if 1 <= k <= len(self.sitemap_urls(o)) - 1:
                return Page(200, XML, self.sitemap(o, k), chunked=True)
            return _not_found()
        if m := re.fullmatch(r"/([a-z]+)/(?:page/(\d+)/)?", path):
            section, k = m.group(1), int(m.group(2) or 1)
            if section in outlet.sections and m.group(2) != "1" and k <= self._section_pages(o, section):
                return Page(200, HTML, self.section_html(o, section, k), gzip=True)
            return _not_found()
        if (m := ARTICLE_PATH.fullmatch(path)) and (validators := self.validators(host, path)) is not None:
            i = int(m.group(1))
            return Page(
                200,
                HTML,
                self.article_html(o, i),
                gzip=validators.gzip,
                chunked=i % 2 == 1,
                headers=(ARTICLE_CACHE_CONTROL,),
                validators=validators,
            )
        return _not_found()

    def validators(self, host: str, path: str) -> Validators | None:
        """The ETag and Last-Modified of the article page at ``http://{host}{path}``
        (None for any other page): what a conditional request is answered from."""
        outlet = self._by_host.get(host.lower().split(":")[0])
        m = ARTICLE_PATH.fullmatch(path.split("?", 1)[0])
        if outlet is None or m is None:
            return None
        i = int(m.group(1))
        if i >= self.articles or (article := self.article(outlet.index, i)).path != path.split("?", 1)[0]:
            return None
        return Validators(f'"synth-{self.seed}-{outlet.index}-{i}"', article.published, gzip=i % 3 == 0)

    def _section_articles(self, o: int, section: str) -> range:
        """Indexes of the section's articles, newest first."""
        sections = self.outlet_list[o].sections
        return range(sections.index(section), self.articles, len(sections))

    def _section_pages(self, o: int, section: str) -> int:
        return max(1, -(-len(self._section_articles(o, section)) // SECTION_PAGE_SIZE))

    # -- pages ------------------------------------------------------------------------
    def article_html(self, o: int, i: int) -> bytes:
        """An article page of 50-150 KB: the article inside realistic chrome."""
        article = self.article(o, i)
        outlet = article.outlet
        material = _material()
        rng = random.Random(f"{self.seed}:page:{o}:{i}")
        target = rng.randint(PAGE_MIN + 500, PAGE_MAX)
        paragraphs = rng.choices(material.paragraphs, k=rng.randint(8, 24))
        standfirst = paragraphs[0].split(". ")[0][:240]
        date_iso = article.published.isoformat()
        body: list[str] = []
        for n, text in enumerate(paragraphs):
            body.append(f"<p>{escape(text)}</p>")
            if n % 5 == 2:
                body.append(_ad_slot(n))
            if n == 6:
                body.append(self._read_more(o, rng))
        related = "".join(
            f'<li><a href="{r.path}">{escape(r.title)}</a></li>' for r in self._others(o, i, rng, RELATED_LINKS)
        )
        jsonld = json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": article.title,
                "datePublished": date_iso,
                "author": {"@type": "Person", "name": article.author},
                "publisher": {"@type": "Organization", "name": outlet.name},
                "mainEntityOfPage": article.url,
            }
        )
        head = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(article.title)} | {escape(outlet.name)}</title>\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="description" content="{escape(standfirst)}">\n'
            f'<meta name="author" content="{escape(article.author)}">\n'
            f'<meta property="og:title" content="{escape(article.title)}">\n'
            f'<meta property="og:type" content="article">\n<meta property="og:url" content="{article.url}">\n'
            f'<meta property="og:site_name" content="{escape(outlet.name)}">\n'
            f'<meta property="article:published_time" content="{date_iso}">\n'
            f'<meta property="article:section" content="{article.section}">\n'
            f'<link rel="canonical" href="{article.url}">\n'
            f'<script type="application/ld+json">{jsonld}</script>\n'
        )
        caption = rng.choice(material.captions)
        main = (
            f'<main id="content"><article class="story story--{article.section}">\n'
            f'<nav class="breadcrumb"><a href="/">Home</a> / <a href="/{article.section}/">'
            f"{article.section.title()}</a></nav>\n"
            f'<h1 class="story__title">{escape(article.title)}</h1>\n'
            f'<p class="story__standfirst">{escape(standfirst)}</p>\n'
            f'<div class="story__meta"><span class="byline">By <span class="author">{escape(article.author)}</span>'
            "</span> "
            f'<time datetime="{date_iso}">{article.published:%B %-d, %Y %H:%M} UTC</time></div>\n'
            f'<figure class="story__image"><img src="http://img.synthcdn.example/{o}/{i}.jpg" '
            f'alt="{escape(caption[:120])}" width="1200" height="675"><figcaption>{escape(caption)}</figcaption>'
            "</figure>\n"
            f'<div class="story__body">\n{chr(10).join(body)}\n</div>\n'
            '<div class="story__share"><a href="#" class="share share--tw">Share</a> '
            '<a href="#" class="share share--fb">Share</a> <a href="#" class="share share--mail">Email</a></div>\n'
            f'<aside class="related"><h2>More from {escape(outlet.name)}</h2><ul>{related}</ul></aside>\n'
            "</article></main>\n"
        )
        chrome_head, chrome_top, chrome_bottom = self._chrome(o)
        page = "".join((head, chrome_head, "</head>\n<body>\n", chrome_top, main, self._comments(rng))).encode()
        bottom = chrome_bottom.encode() + b'<script id="__STATE__">'
        tail = b"</script>\n</body>\n</html>\n"
        # the rest of the size, as on real pages: recommendation widgets (markup) and app state (script)
        room = target - len(page) - len(bottom) - len(tail) - len(WIDGET_OPEN) - len(WIDGET_CLOSE)
        cards = _prefix(*_outlet_filler(self.seed, outlet.host, "cards"), int(room * 0.7))
        state = _prefix(*_outlet_filler(self.seed, outlet.host, "state"), room - len(cards))
        return b"".join((page, WIDGET_OPEN, cards, WIDGET_CLOSE, bottom, state, tail))

    def section_html(self, o: int, section: str, k: int) -> bytes:
        """Page ``k`` of a section: teasers of 30 articles and a link to older ones."""
        outlet = self.outlet_list[o]
        indexes = self._section_articles(o, section)[(k - 1) * SECTION_PAGE_SIZE : k * SECTION_PAGE_SIZE]
        older = (
            f'<a class="pager__next" href="/{section}/page/{k + 1}/">Older stories</a>'
            if k < self._section_pages(o, section)
            else ""
        )
        title = f"{section.title()} | {outlet.name}" + (f" | Page {k}" if k > 1 else "")
        return self._listing_page(o, title, f"/{section}/", indexes, older)

    def front_html(self, o: int) -> bytes:
        """The front page: the latest articles and the sections."""
        outlet = self.outlet_list[o]
        return self._listing_page(o, outlet.name, "/", range(min(FRONT_SIZE, self.articles)), "")

    def _listing_page(self, o: int, title: str, path: str, indexes: Sequence[int], pager: str) -> bytes:
        material = _material()
        teasers = []
        for i in indexes:
            article = self.article(o, i)
            teaser = material.paragraphs[(i * 7 + o) % len(material.paragraphs)][:180]
            teasers.append(
                f'<article class="teaser"><h3><a href="{article.path}">{escape(article.title)}</a></h3>'
                f"<p>{escape(teaser)}</p>"
                f'<time datetime="{article.published.isoformat()}">{article.published:%b %-d, %Y}</time></article>'
            )
        chrome_head, chrome_top, chrome_bottom = self._chrome(o)
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(title)}</title>\n"
            f'<link rel="canonical" href="{self.outlet_list[o].base}{path}">\n'
            f"{chrome_head}</head>\n<body>\n{chrome_top}"
            f'<main id="content"><h1>{escape(title)}</h1>\n<div class="river">\n{chr(10).join(teasers)}\n</div>\n'
            f'<nav class="pager">{pager}</nav></main>\n{chrome_bottom}</body>\n</html>\n'
        ).encode()

    def feed_xml(self, o: int) -> bytes:
        """RSS 2.0 with the latest 50 articles."""
        outlet = self.outlet_list[o]
        items = []
        for i in range(min(FEED_SIZE, self.articles)):
            article = self.article(o, i)
            items.append(
                f"<item><title>{escape(article.title)}</title><link>{article.url}</link>"
                f'<guid isPermaLink="true">{article.url}</guid>'
                f"<pubDate>{format_datetime(article.published, usegmt=True)}</pubDate>"
                f"<dc:creator>{escape(article.author)}</dc:creator>"
                f"<category>{article.section}</category></item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
            f"<title>{escape(outlet.name)}</title><link>{outlet.base}/</link>"
            f"<description>Latest stories from {escape(outlet.name)}</description><language>en</language>\n"
            + "\n".join(items)
            + "\n</channel>\n</rss>\n"
        ).encode()

    def sitemap_index(self, o: int) -> bytes:
        """A sitemap index of the outlet's news sitemaps (1,000 articles each)."""
        entries = "".join(f"<sitemap><loc>{url}</loc></sitemap>\n" for url in self.sitemap_urls(o)[1:])
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</sitemapindex>\n'
        ).encode()

    def sitemap(self, o: int, k: int) -> bytes:
        """News sitemap ``k``: articles ``(k-1)*1000`` to ``k*1000 - 1``, with their dates."""
        outlet = self.outlet_list[o]
        entries = []
        for i in range((k - 1) * SITEMAP_SIZE, min(k * SITEMAP_SIZE, self.articles)):
            article = self.article(o, i)
            entries.append(
                f"<url><loc>{article.url}</loc><lastmod>{article.published.isoformat()}</lastmod>"
                f"<news:news><news:publication><news:name>{escape(outlet.name)}</news:name>"
                "<news:language>en</news:language></news:publication>"
                f"<news:publication_date>{article.published.isoformat()}</news:publication_date>"
                f"<news:title>{escape(article.title)}</news:title></news:news></url>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + "\n".join(entries) + "\n</urlset>\n"
        ).encode()

    def robots_txt(self, o: int) -> bytes:
        sitemap = f"{self.outlet_list[o].base}/sitemap.xml"
        return f"User-agent: *\nDisallow: /search/\nDisallow: /account/\n\nSitemap: {sitemap}\n".encode()

    # -- building blocks ------------------------------------------------------------
    def _others(self, o: int, i: int, rng: random.Random, n: int) -> list[Article]:
        """Up to ``n`` other articles of the outlet, mostly recent ones."""
        if self.articles < 2:
            return []
        picks = {rng.randrange(min(self.articles, i + 200)) for _ in range(n)} - {i}
        return [self.article(o, j) for j in sorted(picks)]

    def _read_more(self, o: int, rng: random.Random) -> str:
        others = self._others(o, -1, rng, 3)
        links = "".join(f'<li><a href="{a.path}">{escape(a.title)}</a></li>' for a in others)
        return f'<aside class="inline-related"><h4>Read more</h4><ul>{links}</ul></aside>'

    def _chrome(self, o: int) -> tuple[str, str, str]:
        return _outlet_chrome(self.seed, self.outlet_list[o])

    def _comments(self, rng: random.Random) -> str:
        """A reader comment thread: text the extractor must leave out."""
        sentences = [s for p in rng.sample(_material().paragraphs, 6) for s in p.split(". ") if len(s) > 30]
        items = []
        for n in range(rng.randint(2, 12)):
            name = f"{rng.choice(FIRST_NAMES)}{rng.randint(1, 99)}"
            items.append(
                f'<li class="comment" id="comment-{n}"><div class="comment__meta"><span class="comment__author">'
                f"{name}</span> <time>{rng.randint(1, 23)} hours ago</time></div>"
                f"<p>{escape(rng.choice(sentences))}.</p>"
                '<div class="comment__actions"><a href="#reply">Reply</a> <a href="#like">Like</a> '
                '<a href="#report">Report</a></div></li>'
            )
        return f'<section class="comments"><h3>{len(items)} Comments</h3><ol>{"".join(items)}</ol></section>\n'


@lru_cache(maxsize=1 << 16)
def _article(web: SynthWeb, o: int, i: int) -> Article:
    """Article metadata, cached: every page links a dozen others."""
    return web._make_article(o, i)


def _not_found() -> Page:
    body = (
        b'<!DOCTYPE html>\n<html lang="en"><head><title>Page not found</title></head><body><h1>404</h1></body></html>\n'
    )
    return Page(404, HTML, body)


def _ad_slot(n: int) -> str:
    return (
        f'<div class="ad ad--inline" id="ad-slot-{n}" data-ad-unit="/1234/news/inline" data-sizes="300x250,728x90">'
        '<span class="ad__label">Advertisement</span></div>'
    )


@lru_cache(maxsize=64)
def _outlet_chrome(seed: int, outlet: Outlet) -> tuple[str, str, str]:
    """The outlet's stylesheet, header and footer (the same on every page, as on real sites)."""
    rng = random.Random(f"{seed}:chrome:{outlet.index}")
    material = _material()
    rules = []
    for n in range(160):
        selector = f".{rng.choice(('story', 'teaser', 'nav', 'ad', 'site'))}__{rng.choice(material.words).lower()}"
        rules.append(
            f"{selector}-{n}{{margin:{rng.randint(0, 24)}px {rng.randint(0, 24)}px;color:#{rng.randrange(16**6):06x};"
            f"font-size:{rng.randint(12, 22)}px;line-height:1.{rng.randint(2, 6)}}}"
        )
    head = f'<style>{"".join(rules)}</style>\n<link rel="alternate" type="application/rss+xml" href="/feed.xml">\n'
    menu = []
    for section in outlet.sections:
        topics = "".join(
            f'<li><a href="/{section}/">{rng.choice(material.words)} {rng.choice(material.words).lower()}</a></li>'
            for _ in range(12)
        )
        menu.append(f'<li class="menu__item"><a href="/{section}/">{section.title()}</a><ul>{topics}</ul></li>')
    top = (
        f'<a class="skip" href="#content">Skip to main content</a>\n<header class="site-header">'
        f'<a class="logo" href="/">{escape(outlet.name)}</a>\n'
        f'<nav class="menu"><ul>{"".join(menu)}</ul></nav>\n'
        '<form class="newsletter" action="/account/newsletter"><p>Sign up for our newsletter. The day\'s top '
        'stories, direct to your inbox.</p><input type="email" name="email"><button>Sign up</button></form>\n'
        '<form class="search" action="/search/"><input type="search" name="q"><button>Search</button></form>\n'
        "</header>\n"
    )
    columns = []
    for heading in ("About us", "Sections", "Services", "Follow us"):
        links = "".join(f'<li><a href="/">{rng.choice(material.words)}</a></li>' for _ in range(10))
        columns.append(f'<div class="footer__col"><h4>{heading}</h4><ul>{links}</ul></div>')
    bottom = (
        f'<footer class="site-footer">{"".join(columns)}\n'
        f"<p>&copy; 2019 {escape(outlet.name)}. All rights reserved. Reproduction without permission is "
        "prohibited.</p><p>Our journalism depends on readers like you. Support independent reporting.</p>"
        "</footer>\n"
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        "gtag('js',new Date());gtag('config','UA-000000-1');</script>\n"
    )
    return head, top, bottom


WIDGET_OPEN = b'<section class="recommended"><h3>Recommended for you</h3><div class="rec-grid">\n'
WIDGET_CLOSE = b"</div></section>\n"


def _prefix(blob: bytes, ends: list[int], size: int) -> bytes:
    """The longest run of whole items of ``blob`` (ending at ``ends``) that fits in ``size`` bytes."""
    if size <= 0:
        return b""
    return blob[: ends[max(0, bisect.bisect_right(ends, size) - 1)]]


@lru_cache(maxsize=128)
def _outlet_filler(seed: int, host: str, kind: str) -> tuple[bytes, list[int]]:
    """More filler than any page needs, and the offsets where its items end: sponsored
    recommendation cards (``cards``) or an inline JSON app state (``state``)."""
    rng = random.Random(f"{seed}:{kind}:{host}")
    words = _material().words
    parts = [b'window.__PRELOADED_STATE__={"stories":[' if kind == "state" else b""]
    ends = [len(parts[0])]
    while ends[-1] < PAGE_MAX:
        headline = escape(" ".join(rng.sample(words, 7)).capitalize())
        image = f"http://img.synthcdn.example/{rng.getrandbits(32):08x}.jpg"
        if kind == "state":
            item = (
                json.dumps(
                    {
                        "id": f"{rng.getrandbits(64):016x}",
                        "headline": headline,
                        "url": f"http://{host}/{rng.choice(SECTIONS)}/{len(ends)}",
                        "image": {"src": image, "w": 640, "h": 360},
                        "tracking": {"slot": len(ends), "variant": rng.choice("abcd")},
                    },
                    separators=(",", ":"),
                )
                + ","
            )
        else:
            brand = rng.choice(NOUNS)
            item = (
                f'<div class="rec-card"><a class="rec-card__link" href="http://ads.synthcdn.example/c/'
                f'{rng.getrandbits(48):012x}"><img class="rec-card__img" src="{image}" alt="" loading="lazy">'
                f'<h4 class="rec-card__title">{headline}</h4></a><p class="rec-card__source">'
                f'<span class="rec-card__label">Sponsored</span> <span>{brand} Partners</span></p></div>\n'
            )
        parts.append(item.encode())
        ends.append(ends[-1] + len(parts[-1]))
    return b"".join(parts), ends


# -- the server ---------------------------------------------------------------------------
REASONS = {
    200: "OK",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Too Large",
}


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value allows gzip (``gzip;q=0`` does not)."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        if coding.strip() in ("gzip", "x-gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class _Connection(asyncio.Protocol):
    """One client connection: HTTP/1.1 keep-alive and pipelining, GET and HEAD."""

    def __init__(self, server: SynthServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._drain()

    def pause_writing(self) -> None:
        # A client that does not read stops getting answers: no unbounded buffering.
        self.paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused = False
        if self.transport is not None:
            self.transport.resume_reading()
        self._drain()

    def _drain(self) -> None:
        while not self.paused and self.transport is not None and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_REQUEST_HEAD:
                    self._answer("GET", "HTTP/1.1", Page(431, HTML, b"request head too large\n"), False, False)
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[: end + 4]
            self._handle(head)

    def _handle(self, head: str) -> None:
        request_line, *header_lines = head.split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self._answer("GET", "HTTP/1.0", Page(400, HTML, b"bad request line\n"), False, False)
            return
        method, target, version = parts
        connection = headers.get("connection", "").lower()
        keep = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
        if method not in ("GET", "HEAD") or "content-length" in headers or "transfer-encoding" in headers:
            # a request body would have to be read; this server has no use for one
            self._answer(method, version, Page(405, HTML, b"only GET and HEAD\n"), False, False)
            return
        if target.startswith("http://"):
            parts_ = urlsplit(target)
            host, path = parts_.netloc, (parts_.path or "/") + (f"?{parts_.query}" if parts_.query else "")
        elif target.startswith("/") and headers.get("host"):
            host, path = headers["host"], target
        else:
            self._answer(method, version, Page(400, HTML, b"send an absolute URL or a Host header\n"), False, False)
            return
        gzip_ok = accepts_gzip(headers.get("accept-encoding", ""))
        if self.server.conditionals and (validators := self.server.web.validators(host, path)) is not None:
            if validators.not_modified(headers, gzip_ok and validators.gzip):
                # answered from the validators alone: the page is not made
                page = Page(
                    304, HTML, b"", gzip=validators.gzip, headers=(ARTICLE_CACHE_CONTROL,), validators=validators
                )
                self._answer(method, version, page, keep, gzip_ok)
                return
        page = self.server.web.resolve(host, path)
        self._answer(method, version, page, keep, gzip_ok)

    def _answer(self, method: str, version: str, page: Page, keep: bool, gzip_ok: bool) -> None:
        assert self.transport is not None
        body = page.body
        lines = [
            f"HTTP/1.1 {page.status} {REASONS.get(page.status, 'Unknown')}",
            f"Server: {SERVER_NAME}",
            f"Date: {_http_date()}",
            f"Content-Type: {page.content_type}",
        ]
        lines += [f"{name}: {value}" for name, value in page.headers]
        gzipped = page.gzip and gzip_ok
        if page.validators is not None:
            lines.append(f"ETag: {page.validators.etag_for(gzipped)}")
            lines.append(f"Last-Modified: {page.validators.last_modified_header}")
        if page.gzip:
            lines.append("Vary: Accept-Encoding")
            if gzipped and page.status != 304:
                body = gzip.compress(body, GZIP_LEVEL, mtime=0)
                lines.append("Content-Encoding: gzip")
        chunked = page.chunked and version == "HTTP/1.1"
        if page.status != 304:  # a 304 has no body, so no framing (RFC 9112, section 6.3)
            lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}")
        if not keep:
            lines.append("Connection: close")
        elif version == "HTTP/1.0":
            lines.append("Connection: keep-alive")
        out = ["\r\n".join(lines).encode("latin-1"), b"\r\n\r\n"]
        if method != "HEAD" and page.status != 304:
            if chunked:
                for start in range(0, len(body), CHUNK_SIZE):
                    chunk = body[start : start + CHUNK_SIZE]
                    out += [b"%X\r\n" % len(chunk), chunk, b"\r\n"]
                out.append(b"0\r\n\r\n")
            else:
                out.append(body)
        data = b"".join(out)
        self.server.requests_served += 1
        self.server.bytes_served += len(data)
        self.transport.write(data)
        if not keep:
            self.transport.close()


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


class SynthServer:
    """The synthetic web on a loopback port, served from an asyncio loop.

    ``start()``/``stop()`` (or ``with``) run it in a background thread, for
    tests; :meth:`serve_forever` runs it in the calling thread, for a server
    process of its own (``python -m bench.synthweb serve``).
    """

    def __init__(self, web: SynthWeb, host: str = "127.0.0.1", port: int = 0, conditionals: bool = True) -> None:
        self.web = web
        #: Whether article pages answer 304 to a matching conditional request (else always 200).
        self.conditionals = conditionals
        self.host = host
        self.requested_port = port
        self.requests_served = 0
        self.bytes_served = 0
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    async def _open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._server = await self._loop.create_server(
            lambda: _Connection(self), self.host, self.requested_port, backlog=1024, reuse_address=True
        )

    async def _run(self, ready: threading.Event | None = None, announce: bool = False) -> None:
        await self._open()
        assert self._server is not None and self._stop is not None
        if announce:
            print(self.proxy_url, flush=True)
        if ready is not None:
            ready.set()
        await self._stop.wait()
        self._server.close()
        for connection in list(self._connections):
            if connection.transport is not None:
                connection.transport.close()
        await self._server.wait_closed()

    def serve_forever(self, announce: bool = True) -> None:
        """Serve in this thread until SIGINT or SIGTERM, printing the proxy URL first."""

        async def main() -> None:
            task = asyncio.ensure_future(self._run(announce=announce))
            while self._stop is None:
                await asyncio.sleep(0)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, self._stop.set)
            await task

        asyncio.run(main())

    def start(self) -> SynthServer:
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run(ready)), name="synthweb", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the synthetic web did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        self._thread = None

    def __enter__(self) -> SynthServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not running")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.port}"


# -- measuring the server -----------------------------------------------------------------
@dataclass(frozen=True)
class ServerThroughput:
    clients: int
    requests: int
    bytes: int
    seconds: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def mb_per_second(self) -> float:
        return self.bytes / self.seconds / 1e6


def _fetch_all(proxy_url: str, urls: Sequence[str], start_at: float) -> tuple[int, int, float]:
    """Fetch every URL over one keep-alive connection, proxy-form, as a crawler would."""
    proxy = urlsplit(proxy_url)
    connection = http.client.HTTPConnection(proxy.hostname or "127.0.0.1", proxy.port, timeout=30)
    while time.time() < start_at:  # all clients start together
        time.sleep(0.001)
    began = time.perf_counter()
    received = 0
    for url in urls:
        connection.request("GET", url, headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        received += len(response.read())
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    connection.close()
    return len(urls), received, time.perf_counter() - began


def measure_server(proxy_url: str, urls: Sequence[str], clients: int = 4) -> ServerThroughput:
    """Requests/s and MB/s (body bytes, as sent) of ``clients`` processes fetching ``urls``
    over keep-alive connections. The clients share the machine with the server, so this
    is a lower bound of what the server can do."""
    shares = [list(urls[n::clients]) for n in range(clients)]
    start_at = time.time() + 0.5
    with ProcessPoolExecutor(clients, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_fetch_all, [proxy_url] * clients, shares, [start_at] * clients))
    return ServerThroughput(
        clients=clients,
        requests=sum(r[0] for r in results),
        bytes=sum(r[1] for r in results),
        seconds=max(r[2] for r in results),
    )


# -- command line ---------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.synthweb", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "serve until interrupted, printing the proxy URL"),
        ("seeds", "print the seed list for scrapy crawl news"),
        ("urls", "print every URL the spider fetches"),
        ("measure", "measure the server's throughput with concurrent clients"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("--outlets", type=int, default=10)
        command.add_argument("--articles", type=int, default=100, help="articles per outlet")
        command.add_argument("--seed", type=int, default=0)
        if name == "serve":
            command.add_argument("--port", type=int, default=0)
            command.add_argument(
                "--ignore-conditionals",
                action="store_true",
                help="answer 200 with the whole page to conditional requests",
            )
        if name == "measure":
            command.add_argument("--clients", type=int, default=4)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    web = SynthWeb(args.outlets, args.articles, args.seed)
    if args.command == "serve":
        SynthServer(web, port=args.port, conditionals=not args.ignore_conditionals).serve_forever()
    elif args.command == "seeds":
        print(web.seed_toml())
    elif args.command == "urls":
        print("\n".join(web.crawl_urls()))
    else:
        with SynthServer(web) as server:
            result = measure_server(server.proxy_url, list(web.article_urls()), args.clients)
        print(
            f"{result.requests} requests by {result.clients} clients in {result.seconds:.2f} s: "
            f"{result.requests_per_second:.0f} requests/s, {result.mb_per_second:.1f} MB/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
