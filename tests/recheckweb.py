"""A news outlet on loopback whose articles change while a test watches: the other end of rechecks.

``recheck.fixture.test`` serves five articles built from the seed texts, a
front page and an RSS feed linking them, on a clock the test sets
(:attr:`RecheckWeb.now` gives ``Date`` and ``Last-Modified``). Between two
crawls a test edits an article's text, changes only its chrome (the "most
read" box and the ad slot), deletes it, redirects it, or drops it from the
listings, and then asserts on what the crawler asked for and was answered
(:attr:`RecheckWeb.requests`).

Articles answer conditional requests as a real server does: a strong ETag
(a hash of the page) and Last-Modified, the time of the latest edit of the
text on the clock (a chrome change does not move it, as CMSs date the post,
not the page); ``If-None-Match`` wins over ``If-Modified-Since``, and either
gives a ``304``. Three misbehaviours seen on real servers can be switched on
for one article or all (:meth:`RecheckWeb.misbehave`). Like the fixture web
it is a plain-HTTP forward proxy; a crawl points ``http_proxy`` at
:attr:`RecheckWeb.url`.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from functools import cache
from html import escape
from typing import Literal, get_args
from urllib.parse import urlsplit

from werkzeug.http import http_date, quote_etag
from werkzeug.sansio.http import is_resource_modified

from tests.fixtureweb import ServedRequest, load_seeds
from tests.loopback import Loopback, LoopbackHandler, proxy_target

__all__ = ["HOST", "SITE", "SLUGS", "START", "MISBEHAVIOURS", "Article", "Misbehaviour", "RecheckWeb"]

HOST = "recheck.fixture.test"
SITE = f"http://{HOST}"
SITENAME = "The Recheck Courier"
SERVER = "RecheckWeb/1.0"
#: The clock's default start: the evening of the Hanoi summit, when the articles are a few hours old.
START = datetime(2019, 2, 28, 18, 0, tzinfo=UTC)
HTML = "text/html; charset=utf-8"

#: ``ignores_conditionals``: always 200 with the whole page; ``unstable_etag``: a new ETag on every
#: answer for the same bytes; ``wrong_304``: 304 to every request, conditional or not, matching or not.
Misbehaviour = Literal["ignores_conditionals", "unstable_etag", "wrong_304"]
MISBEHAVIOURS: tuple[str, ...] = get_args(Misbehaviour)

#: slug: (seed index, body paragraphs taken, headline and standfirst or None for the seed's, hours before START)
_SPECS: dict[str, tuple[int, slice, str | None, str | None, float]] = {
    "summit-cut-short": (0, slice(None, 8), None, None, 4),
    "peace-advocates-react": (
        0,
        slice(8, None),
        "Peace Advocates After Hanoi: 'The Groundwork Has Been Laid'",
        "Disappointed peace groups urge Congress to back an end to the Korean War.",
        3.5,
    ),
    "summit-ends-early": (1, slice(None, 11), None, None, 3),
    "koreans-missed-opportunity": (
        1,
        slice(11, None),
        "In Hanoi, Koreans Feel a Huge Opportunity Was Missed",
        "Those who live on the Korean Peninsula had hoped for a declaration ending the war.",
        2,
    ),
    "hanoi-summit-collapses": (2, slice(None), None, "A diplomatic process badly flawed from the start.", 1),
}
SLUGS: tuple[str, ...] = tuple(_SPECS)


@dataclass(frozen=True)
class Article:
    """One article as the outlet holds it now; ``modified`` is its Last-Modified (whole seconds)."""

    slug: str
    headline: str
    standfirst: str
    byline: str
    published: datetime
    paragraphs: tuple[str, ...]
    modified: datetime
    edits: int = 0
    #: How often its own chrome changed (the outlet-wide count is added to it).
    chrome: int = 0
    #: 200, or 404/410 once deleted, or a redirect status with ``location``.
    status: int = 200
    location: str | None = None
    #: Whether the front page and the feed list it.
    listed: bool = True
    modes: frozenset[str] = frozenset()

    @property
    def url(self) -> str:
        return f"{SITE}/news/{self.slug}"


def _initial_articles(now: datetime) -> dict[str, Article]:
    seeds = load_seeds()
    articles = {}
    for slug, (index, part, headline, standfirst, hours) in _SPECS.items():
        seed = seeds[index]
        published = (now - timedelta(hours=hours)).astimezone(UTC).replace(microsecond=0)
        articles[slug] = Article(
            slug=slug,
            headline=headline or seed.title,
            standfirst=standfirst or seed.description or "",
            byline=seed.author or f"{SITENAME} staff",
            published=published,
            paragraphs=tuple(seed.body_lines[part]),
            modified=published,
        )
    return articles


def _when(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f'<time datetime="{moment.isoformat()}">{moment:%d %B %Y, %H:%M} UTC</time>'


def _page(title: str, main: str, aside: str = "", head: str = "") -> bytes:
    """The outlet's template: a head, a masthead with navigation, the main part, an aside, a footer."""
    nav = "".join(f'<li><a href="/#{s.lower()}">{s}</a></li>' for s in ("World", "Politics", "Opinion"))
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{escape(title)}</title>\n'
        f'<link rel="alternate" type="application/rss+xml" title="{SITENAME}" href="/feed.xml">{head}</head>\n'
        f'<body>\n<header><a class="masthead" href="/">{SITENAME}</a>\n'
        f'<nav><ul><li><a href="/">Home</a></li>{nav}<li><a href="/feed.xml">RSS</a></li></ul></nav></header>\n'
        f"<main>\n{main}\n</main>\n{aside}\n"
        f"<footer><p>&copy; 2019 {SITENAME}. A fixture outlet for tests.</p></footer>\n</body>\n</html>\n"
    ).encode()


def _render_article(article: Article, chrome: int) -> bytes:
    """The article page; ``chrome`` picks the ad slot and the order of the "most read" box,
    which lists the original headlines so that editing one article leaves the others' bytes alone."""
    others = [slug for slug in SLUGS if slug != article.slug]
    shift = chrome % len(others)
    most_read = "".join(
        f'<li><a href="/news/{slug}">{escape(_original_headlines()[slug])}</a></li>'
        for slug in others[shift:] + others[:shift]
    )
    updated = f'<p class="updated">Updated {_when(article.modified)}</p>' if article.edits else ""
    paragraphs = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    main = (
        f'<div class="ad" id="ad-slot-{chrome}" data-slot="leaderboard-{chrome}">Advertisement</div>\n'
        f'<article>\n<h1>{escape(article.headline)}</h1>\n<p class="standfirst">{escape(article.standfirst)}</p>\n'
        f'<p class="byline">By <span class="author">{escape(article.byline)}</span></p>\n'
        f'<p class="dateline">{_when(article.published)}</p>{updated}\n{paragraphs}\n</article>'
    )
    aside = f'<aside class="most-read"><h2>Most read</h2><ol>{most_read}</ol></aside>'
    head = (
        f'\n<link rel="canonical" href="{article.url}"><meta name="author" content="{escape(article.byline)}">'
        f'<meta name="description" content="{escape(article.standfirst)}">'
        f'<meta property="og:site_name" content="{SITENAME}">'
        f'<meta property="article:published_time" content="{article.published.isoformat()}">'
    )
    return _page(f"{article.headline} | {SITENAME}", main, aside, head)


def _render_front(articles: list[Article]) -> bytes:
    teasers = "\n".join(
        f'<article class="teaser"><h2><a href="/news/{a.slug}">{escape(a.headline)}</a></h2>'
        f"<p>{escape(a.standfirst)}</p>{_when(a.published)}</article>"
        for a in articles
    )
    return _page(f"{SITENAME}: news", f"<h1>Latest news</h1>\n{teasers}")


def _render_feed(articles: list[Article]) -> bytes:
    items = "".join(
        f"<item><title>{escape(a.headline)}</title><link>{a.url}</link>"
        f'<guid isPermaLink="true">{a.url}</guid><pubDate>{http_date(a.published)}</pubDate>'
        f"<dc:creator>{escape(a.byline)}</dc:creator><description>{escape(a.standfirst)}</description></item>\n"
        for a in articles
    )
    built = max((a.modified for a in articles), default=START)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>\n'
        f"<title>{SITENAME}</title><link>{SITE}/</link><description>Latest news</description>"
        f"<lastBuildDate>{http_date(built)}</lastBuildDate>\n{items}</channel></rss>\n"
    ).encode()


def _status_page(status: int, text: str) -> bytes:
    return _page(f"{status} | {SITENAME}", f"<h1>{escape(text)}</h1>")


@cache
def _original_headlines() -> dict[str, str]:
    return {slug: article.headline for slug, article in _initial_articles(START).items()}


#: Status, headers and body of one answer.
Reply = tuple[int, list[tuple[str, str]], bytes]


class _Handler(LoopbackHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        web: RecheckWeb = self.server.web  # type: ignore[attr-defined]
        status, headers, body = web.answer(self.command, self.path, self.headers)
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815 (stdlib name); answer() leaves the body out


class RecheckWeb(Loopback):
    """The outlet, its clock and its request log; every method may be called while it serves."""

    name = "recheckweb"
    handler = _Handler

    def __init__(self, now: datetime = START) -> None:
        super().__init__()
        _check_aware(now)
        self.lock = threading.RLock()
        self._now = now
        self._articles = _initial_articles(now)
        self._chrome = 0
        self._modes: frozenset[str] = frozenset()
        self._answers = 0
        self._log: list[ServedRequest] = []

    # -- the clock ------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """The server's time: its ``Date`` header, and the Last-Modified an edit gets."""
        with self.lock:
            return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        _check_aware(value)
        with self.lock:
            if value < self._now:
                raise ValueError(f"the clock only moves forward: {value.isoformat()} < {self._now.isoformat()}")
            self._now = value

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; the new time."""
        with self.lock:
            self.now = self._now + delta
            return self._now

    # -- what the outlet holds ------------------------------------------------------------
    def article(self, slug: str) -> Article:
        with self.lock:
            return self._find(slug)

    def page(self, slug: str) -> bytes:
        """The bytes a 200 for the article carries now."""
        with self.lock:
            article = self._find(slug)
            return _render_article(article, self._chrome + article.chrome)

    def etag(self, slug: str) -> str:
        """The article's ETag now (as sent unless ``unstable_etag`` is on)."""
        return quote_etag(_digest(self.page(slug)))

    # -- changes between crawls -----------------------------------------------------------
    def edit(
        self,
        slug: str,
        *,
        replace_text: tuple[str, str] | None = None,
        append: str | None = None,
        headline: str | None = None,
    ) -> Article:
        """Change the article's text: replace the first occurrence of ``old`` in its paragraphs
        (``replace_text=(old, new)``), add a paragraph, and/or change the headline; with none of
        them, add a numbered correction. Last-Modified becomes :attr:`now` in whole seconds: advance
        the clock between two edits, or a client that sends only If-Modified-Since sees no change."""
        with self.lock:
            article = self._find(slug)
            paragraphs = list(article.paragraphs)
            if replace_text is not None:
                old, new = replace_text
                at = next((i for i, p in enumerate(paragraphs) if old and old in p), None)
                if at is None:
                    raise ValueError(f"{slug}: no paragraph contains {old!r}")
                paragraphs[at] = paragraphs[at].replace(old, new, 1)
            if append is None and replace_text is None and headline is None:
                append = f"Correction {article.edits + 1}: an earlier version of this article misstated a detail."
            if append is not None:
                paragraphs.append(append)
            edited = replace(
                article,
                headline=headline or article.headline,
                paragraphs=tuple(paragraphs),
                modified=self._now.astimezone(UTC).replace(microsecond=0),
                edits=article.edits + 1,
            )
            if (edited.headline, edited.paragraphs) == (article.headline, article.paragraphs):
                raise ValueError(f"{slug}: the edit changes nothing")
            return self._put(edited)

    def touch_chrome(self, slug: str | None = None) -> None:
        """Change the chrome (ad slot, "most read" order) of one article's page, or of every page:
        new bytes and ETag, the same text and Last-Modified."""
        with self.lock:
            if slug is None:
                self._chrome += 1
            else:
                article = self._find(slug)
                self._put(replace(article, chrome=article.chrome + 1))

    def delete(self, slug: str, status: Literal[404, 410] = 410) -> Article:
        """The article answers ``status`` from now on and leaves the front page and the feed."""
        if status not in (404, 410):
            raise ValueError(f"a deleted article answers 404 or 410, not {status}")
        with self.lock:
            return self._put(replace(self._find(slug), status=status, location=None, listed=False))

    def redirect(self, slug: str, to: str, status: Literal[301, 302, 307, 308] = 301) -> Article:
        """The article answers a redirect to another article (a slug) or to an absolute URL,
        and leaves the front page and the feed."""
        if status not in (301, 302, 307, 308):
            raise ValueError(f"a redirect is 301, 302, 307 or 308, not {status}")
        with self.lock:
            if to in self._articles:
                location = self._articles[to].url
            elif urlsplit(to).scheme in ("http", "https") and urlsplit(to).hostname:
                location = to
            else:
                raise ValueError(f"{to!r} is neither an article slug nor an absolute http(s) URL")
            return self._put(replace(self._find(slug), status=status, location=location, listed=False))

    def drop_from_feed(self, slug: str) -> Article:
        """Neither the feed nor the front page lists the article any more (as outlets drop
        articles after hours), so only a recheck finds it; the article itself still answers."""
        with self.lock:
            return self._put(replace(self._find(slug), listed=False))

    def misbehave(self, *modes: Misbehaviour, slug: str | None = None) -> None:
        """Set the misbehaviours of one article, or of every article (listings always behave);
        none clears them. An article has its own and the outlet-wide ones."""
        unknown = set(modes) - set(MISBEHAVIOURS)
        if unknown:
            raise ValueError(f"unknown misbehaviour {sorted(unknown)[0]!r} (known: {', '.join(MISBEHAVIOURS)})")
        with self.lock:
            if slug is None:
                self._modes = frozenset(modes)
            else:
                self._put(replace(self._find(slug), modes=frozenset(modes)))

    # -- the request log ------------------------------------------------------------------
    @property
    def requests(self) -> list[ServedRequest]:
        """Every request answered so far, oldest first (a copy)."""
        with self.lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self.lock:
            self._log.clear()

    def article_gets(self) -> Counter[str]:
        """How many GETs each article's URL got since the log was cleared, by slug (0 for none)."""
        counts: Counter[str] = Counter()
        for served in self.requests:
            parts = urlsplit(served.url)
            if served.method == "GET" and parts.hostname == HOST and parts.path.startswith("/news/"):
                counts[parts.path.removeprefix("/news/")] += 1
        return counts

    # -- serving --------------------------------------------------------------------------
    def answer(self, method: str, request_target: str, headers: Message) -> Reply:
        """Status, headers and body for one request (the body empty for HEAD), logged before it is sent."""
        target = proxy_target(request_target, headers.get("Host"))
        with self.lock:
            path = target.path.partition("?")[0] if target is not None and target.host == HOST else None
            status, extra, body = self._route(path, headers)
            response = [("Date", http_date(self._now)), ("Server", SERVER), *extra]
            if status != 304:
                response.append(("Content-Length", str(len(body))))
            body = b"" if method == "HEAD" else body
            self._log.append(
                ServedRequest(
                    method=method,
                    url=target.url if target is not None else request_target,
                    headers=tuple(headers.items()),
                    status=status,
                    response_headers=tuple(response),
                    body=body,
                )
            )
        return status, response, body

    def _route(self, path: str | None, headers: Message) -> Reply:
        if path == "/robots.txt":
            return 200, [("Content-Type", "text/plain; charset=utf-8")], b"User-agent: *\nAllow: /\n"
        listed = sorted((a for a in self._articles.values() if a.listed), key=lambda a: a.published, reverse=True)
        if path == "/":
            return self._conditional(_render_front(listed), None, headers, frozenset(), HTML)
        if path == "/feed.xml":
            return self._conditional(_render_feed(listed), None, headers, frozenset(), "application/rss+xml")
        article = self._articles.get(path.removeprefix("/news/")) if path and path.startswith("/news/") else None
        if article is None:
            return 404, [("Content-Type", HTML)], _status_page(404, "Page not found")
        if article.location is not None:
            links = f'<p>Moved to <a href="{escape(article.location)}">{escape(article.location)}</a></p>'
            return article.status, [("Location", article.location), ("Content-Type", HTML)], _page("Moved", links)
        if article.status != 200:
            return article.status, [("Content-Type", HTML)], _status_page(article.status, "This article was removed")
        body = _render_article(article, self._chrome + article.chrome)
        return self._conditional(body, article.modified, headers, self._modes | article.modes, HTML)

    def _conditional(
        self, body: bytes, modified: datetime | None, headers: Message, modes: frozenset[str], content_type: str
    ) -> Reply:
        """200 with validators, or 304 when the request's validators still hold (RFC 9110 13.2.2),
        unless a misbehaviour says otherwise."""
        self._answers += 1
        etag = quote_etag(_digest(body) + (f"-{self._answers}" if "unstable_etag" in modes else ""))
        validators = [("ETag", etag)] + ([("Last-Modified", http_date(modified))] if modified else [])
        if "wrong_304" in modes:
            unchanged = True
        elif "ignores_conditionals" in modes:
            unchanged = False
        else:
            unchanged = not is_resource_modified(
                http_if_modified_since=headers.get("If-Modified-Since"),
                http_if_none_match=headers.get("If-None-Match"),
                etag=etag,
                last_modified=modified,
            )
        if unchanged:
            return 304, validators, b""
        return 200, [("Content-Type", content_type), *validators], body

    def _find(self, slug: str) -> Article:
        if slug not in self._articles:
            raise ValueError(f"no article {slug!r} (known: {', '.join(self._articles)})")
        return self._articles[slug]

    def _put(self, article: Article) -> Article:
        self._articles[article.slug] = article
        return article

    def seed_toml(self, extra: str = "") -> str:
        """A seed list for the outlet; ``extra`` is added to its table (``[outlet.recheck]`` and the like)."""
        return f"""[[outlet]]
name = "{SITENAME}"
homepage = "{SITE}/"
allowed_domains = ["{HOST}"]
start_urls = ["{SITE}/"]
feeds = ["{SITE}/feed.xml"]
article_patterns = ['^http://recheck\\.fixture\\.test/news/[a-z0-9-]+$']
{extra}"""


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def _check_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the clock needs a timezone-aware datetime, not {moment!r}")
