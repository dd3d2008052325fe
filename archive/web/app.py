"""The researchers' web app: search (the query language of :mod:`archive.search.query`, or a URL), a URL's
captures, one capture with its citation, versions and diffs, each article's rechecks and the recheck schedule's
state, stories. As in ``newsarchive versions``, a version read by another extractor version than the one before it
is said to be a change of extractor and not compared with it: the difference may be the extractor's, not the outlet's.

Archived pages are hostile input. They are only ever shown inside an iframe
whose ``sandbox`` forbids scripts and same-origin access, loaded from the
replay's own port (another origin: pywb behind :mod:`archive.web.proxy`, which
sandboxes every answer), on a capture's page or full-window on its own
(``/replay``); every app response carries a Content-Security-Policy that
allows nothing but the app itself and frames from pywb. Files are only ever
read through :func:`archive.replay.archive_file`, which refuses names outside
the archive's folders. URL lookups use the CDXJ index; word searches the
full-text index (:mod:`archive.search`); prefix searches, versions and stories
ask the database through :mod:`archive.queries`.

Requests are hostile input too: a malformed URL, an out-of-range id, an
oversized search, a malformed query, bytes that are not UTF-8 or a NUL character
is answered with a 4xx page, never a 500.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, Response, abort, redirect, render_template, request, send_file, url_for
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from archive.config import ArchivePaths
from archive.db.models import Article
from archive.db.session import open_database, session_factory
from archive.diff import diff_versions, paragraphs
from archive.index import CdxjEntry, IndexStore, surt
from archive.queries import (
    NO_OUTLET,
    article_timeline,
    coverage,
    find_article,
    find_story,
    list_stories,
    timeline_data,
    urls_with_prefix,
)
from archive.queries.checks import OUTCOMES, UnknownOutlet, check_history, folded, recheck_status, schedule_of
from archive.queries.versions import reextraction_counts
from archive.replay import Replayed, UnsafePath, archive_file, capture_time, captures, load, nearest, page_text
from archive.reprints import collapse_reprints
from archive.search.query import QueryError, parse_query
from archive.search.results import attention, count_by, count_matches, search
from archive.warc.files import is_closed_warc
from archive.web.attention import attention_svg
from archive.web.checkstrip import check_strip
from archive.web.pywb import COLLECTION
from archive.web.timeline import timeline_svg

__all__ = ["create_app", "security_headers"]

SEARCH_LIMIT = 200
#: The longest URL prefix searched, in characters: it is a LIKE pattern, and SQLite refuses patterns over
#: 50,000 bytes (a character takes up to four). Word queries have their bounds in :mod:`archive.search.query`.
MAX_SEARCH = 1000
#: Matches per page of a word search, and the last page one may ask for (deep offsets cost a scan each).
PAGE_SIZE = 20
MAX_PAGE = 500
#: What a typed query is taken as: a URL when it starts like one, else words.
_URL_START = ("http://", "https://")
#: Marks around matched words in snippets: private-use characters, never in a page's extracted text.
_MARKS = ("\ue000", "\ue001")
#: The largest row id the databases store (a signed 64-bit integer); larger ids cannot name an article.
MAX_ID = 2**63 - 1


def security_headers(pywb_origin: str | None) -> dict[str, str]:
    """Headers on every app response: nothing but the app itself, frames only from pywb."""
    frames = pywb_origin or "'none'"
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-src {frames}; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def create_app(paths: ArchivePaths, pywb_url: str | None = None) -> Flask:
    """The app over one archive; ``pywb_url`` is where its pywb listens (no replay frame without it)."""
    app = Flask(__name__)
    engine = open_database(paths.database_url)
    sessions = session_factory(engine)
    store = IndexStore(paths.index_dir)
    headers = security_headers(pywb_url)
    app.extensions["newsarchive.engine"] = engine

    @contextmanager
    def database() -> Iterator[Session]:
        with sessions() as session:
            yield session

    @app.before_request
    def refuse_nul() -> None:
        # PostgreSQL cannot hold a NUL in text, and no URL, name or search has one
        if "\0" in request.path or any("\0" in value for value in request.args.values()):
            abort(400, "a NUL character is not allowed in a request")

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers.update(headers)
        return response

    def lookup(url: str) -> list[CdxjEntry]:
        """The captures of ``url``; a string that is not a URL (a port out of range, a broken IPv6 host) is a 400."""
        try:
            surt(url)  # the index's key: what fails for a URL that cannot be parsed
        except ValueError as e:
            abort(400, f"not a URL that can be looked up: {url[:200]!r} ({e})")
        return captures(store, url)

    def entry_or_404(url: str, timestamp: str | None) -> CdxjEntry:
        found = lookup(url)
        if timestamp:
            found = [e for e in found if e.timestamp == timestamp]
        entry = nearest(found)
        if entry is None:
            abort(404, f"no capture of {url}" + (f" at {timestamp}" if timestamp else ""))
        return entry

    @app.get("/", endpoint="search")
    def search_page() -> Any:
        q = _query_text().strip()
        kind = request.args.get("kind") or ("url" if q.startswith(_URL_START) else "words")
        if kind == "text":  # the old substring search's links: now the query language
            kind = "words"
        if kind not in ("words", "url", "prefix"):
            abort(400, f"unknown kind of search {kind[:40]!r} (words, url or prefix)")
        if kind == "prefix" and len(q) > MAX_SEARCH:
            abort(400, f"a prefix search is at most {MAX_SEARCH:,} characters long")
        page: dict[str, Any] = {"q": q, "kind": kind, "searched": bool(q)}
        if q and kind == "url":
            if lookup(q):
                return redirect(url_for("url_captures", url=q))
        elif q and kind == "prefix":
            with database() as session:
                page["urls"] = urls_with_prefix(session, q, SEARCH_LIMIT)
        elif q:
            page.update(words(q))
        return render_template("search.html", **page)

    def words(q: str) -> dict[str, Any]:
        """A word search's page: the count, counts by outlet, the attention chart and one page of matches."""
        number = request.args.get("page", default=1, type=int)
        if not 1 <= number <= MAX_PAGE:
            abort(400, f"pages are numbered 1 to {MAX_PAGE}")
        options = {
            "all_versions": request.args.get("versions") == "all",
            "collapse_reprints": request.args.get("reprints") == "collapse",
        }
        try:
            query = parse_query(q)
            with database() as session:
                total = count_matches(session, query, **options)
                outlets = count_by(session, query, "outlet", **options) if total else []
                chart = attention_svg(attention(session, query, **options)) if total else None
                matches = list(
                    search(session, query, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, marks=_MARKS, **options)
                )
        except QueryError as e:
            abort(400, str(e))
        return {
            "total": total,
            "outlets": outlets,
            "chart": chart,
            "matches": matches,
            "page": number,
            "page_size": PAGE_SIZE,
            "pages": min(MAX_PAGE, -(-total // PAGE_SIZE)),
            "options": {key: value for key, value in request.args.items() if key in ("versions", "reprints")},
        }

    @app.get("/captures")
    def url_captures() -> Any:
        url = request.args.get("url", "")
        found = lookup(url)
        if not found:
            abort(404, f"no capture of {url}")
        by_month: dict[str, dict[int, list[CdxjEntry]]] = defaultdict(lambda: defaultdict(list))
        for entry in found:
            moment = capture_time(entry)
            by_month[moment.strftime("%Y-%m")][moment.day].append(entry)
        with database() as session:
            article = find_article(session, url)
            article_id = article.id if article else None
        return render_template(
            "captures.html",
            url=url,
            captures=found,
            months=_calendar(by_month),
            article_id=article_id,
            when=capture_time,
        )

    def loaded_or_404(entry: CdxjEntry) -> Replayed:
        try:
            return load(store, paths.warc_dir, entry)
        except (LookupError, UnsafePath, OSError) as e:
            abort(404, str(e))

    def replay_url(entry: CdxjEntry) -> str | None:
        return f"{pywb_url}/{COLLECTION}/{entry.timestamp}/{entry.url}" if pywb_url else None

    @app.get("/capture")
    def capture() -> Any:
        url = request.args.get("url", "")
        entry = entry_or_404(url, request.args.get("ts"))
        replayed = loaded_or_404(entry)
        try:
            text = page_text(replayed)
        except ValueError:
            text = ""
        return render_template(
            "capture.html",
            entry=entry,
            replayed=replayed,
            citation=replayed.citation(),
            text=text,
            replay=replay_url(entry),
        )

    @app.get("/replay")
    def replay_alone() -> Any:
        """The replay full-window, still in the sandboxed frame: archived scripts never run at any top level."""
        entry = entry_or_404(request.args.get("url", ""), request.args.get("ts"))
        replay = replay_url(entry)
        if replay is None:
            abort(404, "replay is off (pywb is not running)")
        return render_template("replay.html", entry=entry, when=capture_time(entry), replay=replay)

    @app.get("/raw")
    def raw() -> Any:
        entry = entry_or_404(request.args.get("url", ""), request.args.get("ts"))
        replayed = loaded_or_404(entry)
        response = Response(replayed.body, mimetype="application/octet-stream")
        response.headers["Content-Disposition"] = f'attachment; filename="{entry.timestamp}.body"'
        response.headers["Content-Security-Policy"] = "sandbox"
        return response

    @app.get("/warc/<path:name>")
    def warc_file(name: str) -> Any:
        try:
            path = archive_file(paths.warc_dir, name)
        except UnsafePath:
            abort(404)
        if not is_closed_warc(path):
            abort(404)
        return send_file(path, mimetype="application/warc", as_attachment=True)

    @app.get("/articles/<int:article_id>")
    def article_versions(article_id: int) -> Any:
        if article_id > MAX_ID:
            abort(404, f"no article {article_id}")
        with database() as session:
            article = session.get(Article, article_id)
            if article is None:
                abort(404)
            timeline = article_timeline(session, article)
            versions = article.versions
            count = len(versions)
            old = request.args.get("old", type=int) or max(count - 1, 1)
            new = request.args.get("new", type=int) or count
            if not (1 <= old <= count and 1 <= new <= count):
                abort(404)
            change = diff_versions(versions[old - 1], versions[new - 1], old, new) if count > 1 else None
            checks = check_history(session, article.id)
            return render_template(
                "article.html",
                article=article,
                url=article.url.url,
                timeline=timeline,
                change=change,
                old=old,
                new=new,
                # two texts read by different extractor versions: their difference may be the extractor's
                extractors=(versions[old - 1].extractor_version, versions[new - 1].extractor_version),
                reextracted=reextraction_counts(session, article),
                schedule=schedule_of(session, article.id),
                checks=checks,
                runs=folded(checks),
                strip=check_strip(checks),
                outcomes=OUTCOMES,
            )

    @app.get("/rechecks")
    def rechecks() -> Any:
        """How the recheck schedule stands per outlet (or for one: ``?outlet=NAME``), and the rate achieved."""
        with database() as session:
            try:
                report = recheck_status(session, datetime.now(timezone.utc), request.args.get("outlet") or None)
            except UnknownOutlet as e:
                abort(404, str(e))
            return render_template("rechecks.html", report=report)

    @app.get("/stories")
    def stories() -> Any:
        with database() as session:
            return render_template("stories.html", stories=list_stories(session))

    @app.get("/stories/<name>")
    def story(name: str) -> Any:
        with database() as session:
            found = find_story(session, name)
            if found is None:
                abort(404)
            collapse = request.args.get("reprints") == "collapse"
            rows = list(coverage(session, found))
            copies = {row.article_id: 1 for row in rows}
            if collapse:  # a syndicated story once, under its earliest capture's outlet
                kept = collapse_reprints(session.connection(), rows, lambda r: (r.article_id, r.first_seen))
                rows = [row for row, _ in kept]
                copies = {row.article_id: n for row, n in kept}
            outlets: dict[str, dict[str, Any]] = {}
            for row in rows:
                entry = outlets.setdefault(
                    row.outlet or NO_OUTLET, {"articles": 0, "first_seen": row.first_seen, "versions": 0, "copies": 0}
                )
                entry["articles"] += 1
                entry["copies"] += copies[row.article_id] - 1
                entry["versions"] += row.versions
                entry["first_seen"] = min(entry["first_seen"], row.first_seen)
            chart = timeline_svg(timeline_data(session, found))
            return render_template(
                "story.html", story=found, rows=rows, outlets=outlets, chart=chart, collapse=collapse, copies=copies
            )

    @app.errorhandler(HTTPException)
    def refused(error: HTTPException) -> Any:
        page = render_template("error.html", title=error.name, message=error.description)
        return page, error.code, error.get_headers()  # (a 405's Allow among them)

    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.filters["marked"] = _marked
    app.jinja_env.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""
    return app


def _query_text() -> str:
    """The ``q`` parameter as sent; bytes in it that are not UTF-8 are a 400 saying so (Werkzeug would
    quietly replace them, and a query would then look for something the researcher never typed)."""
    for key, value in parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
        if key == "q":
            try:
                return value.encode("latin-1").decode("utf-8")
            except UnicodeDecodeError as e:
                abort(400, f"the query is not valid text: byte {e.start + 1} is not UTF-8")
    return ""


def _marked(snippet: str) -> Markup:
    """A snippet escaped, its matched words in ``<mark>``."""
    text = str(escape(" ".join(snippet.split())))
    opened = text.count(_MARKS[0]) == text.count(_MARKS[1])
    if not opened:
        text = text.replace(_MARKS[0], "").replace(_MARKS[1], "")
    return Markup(text.replace(_MARKS[0], "<mark>").replace(_MARKS[1], "</mark>"))


def _calendar(by_month: dict[str, dict[int, list[CdxjEntry]]]) -> list[dict[str, Any]]:
    """Month grids (weeks of seven days, Monday first) with each day's captures."""
    months = []
    for month in sorted(by_month):
        year, number = (int(part) for part in month.split("-"))
        weeks = [
            [(day, by_month[month].get(day, [])) if day else (0, []) for day in week]
            for week in calendar.Calendar().monthdayscalendar(year, number)
        ]
        months.append({"label": datetime(year, number, 1).strftime("%B %Y"), "weeks": weeks})
    return months
