"""An offline web of three news outlets, served on loopback as a plain-HTTP forward proxy.

Crawls in tests point Scrapy's ``http_proxy`` at :class:`FixtureWeb`, so every request
keeps its real address (``http://www.commondreams.org/news``) and the archived captures
carry those addresses, while nothing leaves the machine.  Most URLs are static files
under ``site/<host>/``; the few that need behaviour (redirects, errors, a slow answer,
gzip, chunked framing, a repeated header) are listed in :data:`ROUTES`.

The module is longer than most because :data:`ROUTES` and the handlers behind
it are one table that a reader checks against the tests, line by line; the
server machinery itself is :mod:`tests.loopback`.
"""

from __future__ import annotations

import gzip
import random
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import unquote

import brotli

from tests.loopback import Loopback, LoopbackHandler, LoopbackServer, proxy_target

__all__ = ["LOAD_HOST", "ROUTES", "SITE_DIR", "FixtureWeb", "Route", "ServedRequest", "load_site_pages"]

SITE_DIR: Path = Path(__file__).resolve().with_name("site")
#: Files that replace their ``site/`` namesakes while ``FixtureWeb.edition`` is 2 (an edited article).
EDITION_2_DIR: Path = Path(__file__).resolve().with_name("edition2")

#: One fixed Last-Modified for every file, so captures are the same on every checkout
#: (git does not keep file times).
LAST_MODIFIED = "Thu, 28 Feb 2019 23:00:00 GMT"
SERVER_NAME = "FixtureWeb/1.0"
CHUNK_SIZE = 1024
SLOW_STEP_SECONDS = 0.05
IDLE_TIMEOUT_SECONDS = 30.0

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "application/javascript; charset=utf-8",
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
#: Directory URLs (``/politics/``, ``/feed/atom/``) are served from the first of these.
INDEX_NAMES: tuple[str, ...] = ("index.html", "index.rss", "index.atom", "index.xml")
_HOST_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Route:
    """What one URL does beyond "serve the file at its path" (all fields optional)."""

    status: int = 200
    location: str | None = None
    #: Body file for an error status, relative to the host folder (``_errors/...``).
    body_file: str | None = None
    #: Answer only after ``FixtureWeb.slow_seconds``.
    slow: bool = False
    #: ``Content-Encoding: gzip`` when the request's Accept-Encoding allows it.
    gzip: bool = False
    #: ``Transfer-Encoding: chunked`` (HTTP/1.1 requests only; HTTP/1.0 gets Content-Length).
    chunked: bool = False
    #: 429 with ``Retry-After: 1`` on the first request, the file afterwards.
    busy_once: bool = False
    headers: Headers = ()
    #: The body itself, instead of a file (with ``headers`` giving its Content-Type).
    body: bytes | None = None
    #: A reason phrase other than the standard one.
    reason: str | None = None
    #: ``Content-Encoding: br`` whatever the request accepts, as some misconfigured servers do.
    brotli: bool = False


CD_ARTICLE = (
    "http://www.commondreams.org/news/2019/02/28/"
    "major-failure-north-korea-summit-cut-short-trump-refuses-lift-sanctions"
)
TP_ARTICLE = "http://thinkprogress.org/trump-kim-summit-ends-early-no-nuclear-deal-8f1a2c3b4d5e/"
TAC_ARTICLE = "http://www.theamericanconservative.com/larison/the-hanoi-summit-collapses/"

#: Every URL with behaviour, by absolute URL (query included where it matters).
ROUTES: dict[str, Route] = {
    CD_ARTICLE: Route(gzip=True),
    TP_ARTICLE: Route(chunked=True),
    TAC_ARTICLE: Route(
        headers=(
            (
                "Set-Cookie",
                "__cfduid=d5c0b2e9f1a4c3b7e8d6a0f2c4b6e8a1c1551366300; "
                "expires=Fri, 28-Feb-20 15:05:00 GMT; path=/; "
                "domain=.theamericanconservative.com; HttpOnly",
            ),
            ("Set-Cookie", "tac_ab=b; path=/; Max-Age=2592000"),
        )
    ),
    # A feed-proxy click-through link, then WordPress's shortlink, then the article.
    "http://feeds.thinkprogress.org/~r/thinkprogress/~3/hanoi/": Route(
        302, location="http://thinkprogress.org/?p=1234567"
    ),
    "http://thinkprogress.org/?p=1234567": Route(301, location=TP_ARTICLE),
    "http://thinkprogress.org/trump-kim-summit-live-updates-2d7e9b0a6c14/": Route(slow=True),
    "http://www.theamericanconservative.com/larison/what-the-hanoi-failure-means/": Route(
        500, body_file="_errors/database-error.html"
    ),
    "http://www.theamericanconservative.com/busy/": Route(busy_once=True),
}

#: Answers that exist to test archival fidelity; linked from nowhere, crawled from a seed
#: list of their own (``tests/crawler/test_fidelity.py``).
FIDELITY_HOST = "fidelity.fixture.test"
FIDELITY_ROUTES: dict[str, Route] = {
    # header names in odd case, a header repeated in two cases, a connection header, a
    # latin-1 byte in a value (Twisted refuses one in a name), and a reason phrase of the server's own
    f"http://{FIDELITY_HOST}/odd-headers": Route(
        reason="Fine Thanks",
        body=b"<html><head><title>Odd headers</title></head><body><p>odd</p></body></html>\n",
        headers=(
            ("content-TYPE", "text/html; charset=utf-8"),
            ("X-Dup", "one"),
            ("x-dup", "two"),
            ("Keep-Alive", "timeout=5, max=100"),
            ("X-Cafe-Name", "caf\u00e9"),
        ),
    ),
    # a page in windows-1252: its bytes are not UTF-8
    f"http://{FIDELITY_HOST}/latin": Route(
        body=(
            '<html><head><meta charset="windows-1252"><title>Caf\u00e9 \u201cna\u00efve\u201d</title>'
            "</head><body><p>Dj\u00e9 \u2013 \u00a3 \u20ac</p></body></html>\n"
        ).encode("cp1252"),
        headers=(("Content-Type", "text/html; charset=windows-1252"),),
    ),
    f"http://{FIDELITY_HOST}/empty": Route(body=b"", headers=(("Content-Type", "text/plain"),)),
    # about 3 MB of incompressible-looking bytes, for the archive's body size limit
    f"http://{FIDELITY_HOST}/large.bin": Route(
        body=b"".join(i.to_bytes(4, "big") * 64 for i in range(12_000)),
        headers=(("Content-Type", "application/octet-stream"),),
    ),
    f"http://{FIDELITY_HOST}/brotli": Route(
        brotli=True,
        body=b"<html><head><title>Brotli</title></head><body><p>" + b"squeeze " * 200 + b"</p></body></html>\n",
        headers=(("Content-Type", "text/html; charset=utf-8"),),
    ),
}
ROUTES.update(FIDELITY_ROUTES)

#: A generated outlet for crash and load tests: ``/`` links to ``LOAD_SECTIONS`` section
#: pages, each linking to ``LOAD_STORIES`` article pages of some 40 KB; articles answer after
#: ``LOAD_DELAY`` seconds so a crawl of it lasts long enough to be interrupted.
LOAD_HOST = "load.fixture.test"
LOAD_SECTIONS = 10
LOAD_STORIES = 12
LOAD_DELAY = 0.05
#: Also ``/files/<n>.bin`` for n < LOAD_FILES: 2 MB of random bytes each, records big enough
#: to be written in many pieces (so a crawler killed while writing one leaves it torn).
LOAD_FILES = 5
LOAD_FILE_SIZE = 2_000_000

REASONS: dict[int, str] = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def _status_page(status: int, detail: str) -> bytes:
    """A minimal HTML body for statuses that have no file of their own."""
    reason = REASONS.get(status, "Error")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{status} {reason}</title></head>\n"
        f"<body><h1>{reason}</h1><p>{detail}</p></body>\n</html>\n"
    ).encode()


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (``gzip;q=0`` and absence do not)."""
    if not accept_encoding:
        return False
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        weights[coding.strip().lower()] = weight
    for name in ("gzip", "x-gzip"):
        if name in weights:
            return weights[name] > 0
    return weights.get("*", 0.0) > 0


def content_type_for(path: Path, body: bytes) -> str:
    """The Content-Type of a site file: by suffix, and for ``.xml`` by root element,
    because ``/rss.xml`` is a feed while ``/sitemap.xml`` is not."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        head = body[:512]
        if b"<rss" in head:
            return CONTENT_TYPES[".rss"]
        if b"<feed" in head:
            return CONTENT_TYPES[".atom"]
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


@dataclass(frozen=True)
class ServedRequest:
    """One request as the fixture answered it; ``body`` is the exact payload written
    (after gzip, before chunk framing; empty for HEAD)."""

    method: str
    url: str
    headers: Headers
    status: int
    response_headers: Headers
    body: bytes
    chunked: bool = False

    def header(self, name: str) -> str | None:
        """First value of a request header, case-insensitively."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def response_header_values(self, name: str) -> list[str]:
        """Every value of a response header, in order (Set-Cookie may repeat)."""
        return [v for k, v in self.response_headers if k.lower() == name.lower()]


@dataclass
class _Response:
    """A response being built before it is logged and written."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    chunked: bool = False
    reason: str | None = None


def load_site_pages() -> dict[str, bytes]:
    """The pages of the generated outlet (``LOAD_HOST``), by path."""
    base = f"http://{LOAD_HOST}"
    sections = [f"/section/{n}" for n in range(LOAD_SECTIONS)]
    pages = {"/": _load_page("Load Test front page", [f'<a href="{base}{path}">{path}</a>' for path in sections])}
    pages.update({f"/files/{n}.bin": random.Random(n).randbytes(LOAD_FILE_SIZE) for n in range(LOAD_FILES)})
    for n, section in enumerate(sections):
        stories = [f"/story/{n * LOAD_STORIES + k}" for k in range(LOAD_STORIES)]
        pages[section] = _load_page(f"Section {n}", [f'<a href="{base}{path}">{path}</a>' for path in stories])
        for path in stories:
            number = int(path.rsplit("/", 1)[1])
            words = random.Random(number)  # the same text on every run, different in every story
            paragraphs = [
                f"Paragraph {p} of story {number}: "
                + " ".join(f"{word} {words.randrange(10**6)}" for word in words.choices(_LOAD_WORDS, k=40))
                + "."
                for p in range(60)
            ]
            pages[path] = _load_page(f"Story number {number}", [f"<p>{text}</p>" for text in paragraphs], article=True)
    return pages


_LOAD_WORDS = (
    "summit talks leaders Hanoi sanctions nuclear deal delegation hotel statement press agreement officials "
    "weapons missile negotiations diplomats president chairman meeting lunch cancelled early reporters sources "
    "embassy analysts region security council treaty inspection facility enrichment program concessions demands"
).split()


def _load_page(title: str, parts: list[str], article: bool = False) -> bytes:
    body = "\n".join(parts)
    if article:
        body = f"<article><h1>{title}</h1>\n{body}\n</article>"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>\n'
        f"<body>\n{body}\n</body></html>\n"
    ).encode()


class _Handler(LoopbackHandler):
    """Answers proxy-form and origin-form GET/HEAD requests from the site folder."""

    server: LoopbackServer[FixtureWeb]
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_SECONDS

    def version_string(self) -> str:
        """The Server header value."""
        return SERVER_NAME

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve(head=False)

    def do_HEAD(self) -> None:
        """Serve a HEAD: GET's headers without the body."""
        self._serve(head=True)

    def _not_allowed(self) -> None:
        """Refuse other methods; the connection closes because a body may be unread."""
        self.close_connection = True
        target = proxy_target(self.path, self.headers.get("Host"))
        url = target.url if target else self.path
        resp = _Response(405, _status_page(405, "Only GET and HEAD are served."))
        resp.headers.append(("Allow", "GET, HEAD"))
        resp.headers.append(("Content-Type", CONTENT_TYPES[".html"]))
        self._send(url, resp, head=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_CONNECT = _not_allowed

    def _serve(self, head: bool) -> None:
        """Build, log and write the answer to one request."""
        target = proxy_target(self.path, self.headers.get("Host"))
        if target is None:
            resp = _Response(400, _status_page(400, "Send an absolute URL or a Host header."))
            resp.headers.append(("Content-Type", CONTENT_TYPES[".html"]))
            self.close_connection = True
            self._send(self.path, resp, head)
            return
        web, url, host, path = self.server.web, target.url, target.host, target.path
        if web.route_for(host, path).slow and not web.wait_slow():
            self.close_connection = True  # stopping: drop the connection unanswered
            return
        resp = web.respond(host, path, self.headers.get("Accept-Encoding"), self.request_version)
        self._send(url, resp, head)

    def _send(self, url: str, resp: _Response, head: bool) -> None:
        """Log the response, then write its status line, headers and (framed) body."""
        headers: list[tuple[str, str]] = [
            ("Server", self.version_string()),
            ("Date", self.date_time_string()),
        ]
        headers.extend(resp.headers)
        if resp.chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Content-Length", str(len(resp.body))))
        if self.close_connection:
            headers.append(("Connection", "close"))
        elif self.request_version == "HTTP/1.0":
            headers.append(("Connection", "keep-alive"))
        body = b"" if head else resp.body
        self.server.web.record(
            ServedRequest(
                method=self.command,
                url=url,
                headers=tuple(self.headers.items()),
                status=resp.status,
                response_headers=tuple(headers),
                body=body,
                chunked=resp.chunked,
            )
        )
        self.send_response_only(resp.status, resp.reason or REASONS.get(resp.status))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if head:
            return
        if resp.chunked:
            for start in range(0, len(body), CHUNK_SIZE):
                chunk = body[start : start + CHUNK_SIZE]
                self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)
        self.wfile.flush()


class FixtureWeb(Loopback):
    """The fixture web on a free loopback port; use as a context manager.

    ``slow_seconds`` is how long the slow page waits before answering; tests use a
    fraction of a second, crawls keep the default to provoke a download timeout.
    Setting ``edition = 2`` between two crawls serves the files of ``edition2/``
    instead of their ``site/`` namesakes: one article with a changed headline and
    a corrected paragraph, so the second crawl archives a new version of it.
    """

    handler = _Handler
    name = "fixtureweb"

    def __init__(
        self,
        slow_seconds: float = 10.0,
        host: str = "127.0.0.1",
        port: int = 0,
        site_dir: Path = SITE_DIR,
    ) -> None:
        super().__init__(host, port)
        self.slow_seconds = slow_seconds
        self.site_dir = site_dir.resolve()
        self.edition = 1
        self._stopping = threading.Event()
        #: Set once a request for the slow page is being answered, that is, in flight.
        self.slow_waiting = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[ServedRequest] = []
        self._busy_seen: set[str] = set()
        self._load_pages = load_site_pages()

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> Self:
        """Bind the port and serve in a background thread."""
        if self._server is None:
            self._stopping = threading.Event()
        return super().start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, wake the slow page, end open connections, close the port."""
        if self._server is not None:
            self._stopping.set()
        super().stop(timeout)

    @property
    def proxy_url(self) -> str:
        """What to put in ``http_proxy``."""
        return self.url

    # -- request log ----------------------------------------------------------------
    @property
    def requests(self) -> list[ServedRequest]:
        """A snapshot of the requests answered so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, url: str) -> list[ServedRequest]:
        """The logged requests for one absolute URL."""
        return [r for r in self.requests if r.url == url]

    def clear_requests(self) -> None:
        """Forget the request log (the 429 route keeps its state)."""
        with self._lock:
            self._requests.clear()

    def record(self, served: ServedRequest) -> None:
        """Append to the log; called just before the response is written, so a client
        that has read a response always finds it logged."""
        with self._lock:
            self._requests.append(served)

    # -- routing --------------------------------------------------------------------
    @staticmethod
    def route_for(host: str, path: str) -> Route:
        """The behaviour of a URL: exact match first, then without its query."""
        url = f"http://{host}{path}"
        route = ROUTES.get(url) or ROUTES.get(url.partition("?")[0])
        return route or Route()

    def wait_slow(self) -> bool:
        """Sleep ``slow_seconds`` in short steps; False if the server is stopping."""
        self.slow_waiting.set()
        deadline = time.monotonic() + self.slow_seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if self._stopping.wait(min(SLOW_STEP_SECONDS, remaining)):
                return False
        return True

    def find_file(self, host: str, path: str) -> Path | None:
        """The site file for a host and path, or None; refuses anything outside the
        host folder and ``_``-prefixed internals such as error bodies."""
        if not _HOST_RE.match(host):
            return None
        host_dir = self.site_dir / host
        if not host_dir.is_dir():
            return None
        raw_path = path.partition("?")[0]
        segments = [s for s in unquote(raw_path).split("/") if s]
        if any(s in (".", "..") or s.startswith("_") or "\\" in s or "\0" in s for s in segments):
            return None
        candidate = host_dir.joinpath(*segments)
        if self.edition == 2:
            edited = EDITION_2_DIR.joinpath(host, *segments)
            edited = edited / "index.html" if edited.is_dir() else edited
            if edited.is_file():
                return edited
        if candidate.is_file():
            return None if raw_path.endswith("/") else candidate
        if candidate.is_dir():
            for name in INDEX_NAMES:
                if (candidate / name).is_file():
                    return candidate / name
        return None

    def respond(self, host: str, path: str, accept_encoding: str | None, request_version: str) -> _Response:
        """The response for a GET of ``http://{host}{path}`` (before Server, Date and
        framing headers, which the handler adds)."""
        route = self.route_for(host, path)
        url = f"http://{host}{path}"
        if host == LOAD_HOST:
            return self._load_page(path)
        if route.body is not None:
            resp = _Response(route.status, route.body, list(route.headers), reason=route.reason)
            if route.brotli:
                resp.body = brotli.compress(route.body)
                resp.headers.append(("Content-Encoding", "br"))
            return resp
        if route.location is not None:
            body = (
                f"<html><head><title>{route.status} {REASONS[route.status]}</title></head>"
                f'<body><a href="{route.location}">{REASONS[route.status]}</a></body></html>\n'
            ).encode()
            return _Response(
                route.status,
                body,
                [("Content-Type", CONTENT_TYPES[".html"]), ("Location", route.location)],
            )
        if route.body_file is not None:
            body = (self.site_dir / host / route.body_file).read_bytes()
            return _Response(route.status, body, [("Content-Type", CONTENT_TYPES[".html"])])
        if route.busy_once and self._first_visit(url):
            resp = _Response(429, _status_page(429, "Please retry in a second."))
            resp.headers += [("Content-Type", CONTENT_TYPES[".html"]), ("Retry-After", "1")]
            return resp
        found = self.find_file(host, path)
        if found is None:
            resp = _Response(404, _status_page(404, "The requested URL was not found on this server."))
            resp.headers.append(("Content-Type", CONTENT_TYPES[".html"]))
            return resp
        body = found.read_bytes()
        resp = _Response(
            200,
            body,
            [("Content-Type", content_type_for(found, body)), ("Last-Modified", LAST_MODIFIED)],
        )
        if route.gzip:
            resp.headers.append(("Vary", "Accept-Encoding"))
            if accepts_gzip(accept_encoding):
                resp.body = gzip.compress(body, compresslevel=6, mtime=0)
                resp.headers.append(("Content-Encoding", "gzip"))
        resp.chunked = route.chunked and request_version == "HTTP/1.1"
        resp.headers.extend(route.headers)
        return resp

    def _load_page(self, path: str) -> _Response:
        """A page of the generated outlet; stories answer after ``LOAD_DELAY``."""
        body = self._load_pages.get(path.partition("?")[0])
        if body is None:
            return _Response(404, _status_page(404, "No such page."), [("Content-Type", CONTENT_TYPES[".html"])])
        if path.startswith("/story/"):
            self._stopping.wait(LOAD_DELAY)
        content_type = "application/octet-stream" if path.endswith(".bin") else CONTENT_TYPES[".html"]
        return _Response(200, body, [("Content-Type", content_type)])

    def _first_visit(self, url: str) -> bool:
        """True exactly once per URL and server instance (for the 429 route)."""
        with self._lock:
            if url in self._busy_seen:
                return False
            self._busy_seen.add(url)
            return True
