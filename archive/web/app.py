"""The researchers' web app: search, a URL's captures, one capture with its citation, versions and diffs, each
article's rechecks and the recheck schedule's state, stories.

Archived pages are hostile input. They are only ever shown inside an iframe
whose ``sandbox`` forbids scripts and same-origin access, loaded from the
replay's own port (another origin: pywb behind :mod:`archive.web.proxy`, which
sandboxes every answer), on a capture's page or full-window on its own
(``/replay``); every app response carries a Content-Security-Policy that
allows nothing but the app itself and frames from pywb. Files are only ever
read through :func:`archive.replay.archive_file`, which refuses names outside
the archive's folders. URL lookups use the CDXJ index; prefix and text
searches, versions and stories ask the database through :mod:`archive.queries`.

Requests are hostile input too: a malformed URL, an out-of-range id, an
oversized search or a NUL character is answered with a 4xx page, never a 500.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from flask import Flask, Response, abort, redirect, render_template, request, send_file, url_for
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from archive.config import ArchivePaths
from archive.db.models import Article
from archive.db.session import open_database, session_factory
from archive.diff import diff_versions, paragraphs
from archive.index import CdxjEntry, IndexStore, surt
from archive.queries import (
    NO_OUTLET,
    TextMatch,
    article_timeline,
    coverage,
    find_article,
    find_story,
    list_stories,
    search_text,
    timeline_data,
    urls_with_prefix,
)
from archive.queries.checks import OUTCOMES, UnknownOutlet, check_history, folded, recheck_status, schedule_of
from archive.replay import Replayed, UnsafePath, archive_file, capture_time, captures, load, nearest, page_text
from archive.warc.files import is_closed_warc
from archive.web.checkstrip import check_strip
from archive.web.pywb import COLLECTION
from archive.web.timeline import timeline_svg

__all__ = ["create_app", "security_headers"]

SEARCH_LIMIT = 200
#: The longest prefix or text search, in characters: a text search is a LIKE pattern, and SQLite refuses
#: patterns over 50,000 bytes (a character takes up to four).
MAX_SEARCH = 1000
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

    @app.get("/")
    def search() -> Any:
        q = request.args.get("q", "").strip()
        kind = request.args.get("kind", "url")
        urls: list[str] = []
        articles: list[TextMatch] = []
        if kind in ("prefix", "text") and len(q) > MAX_SEARCH:
            abort(400, f"a {kind} search is at most {MAX_SEARCH:,} characters long")
        if q and kind == "url":
            if lookup(q):
                return redirect(url_for("url_captures", url=q))
        elif q and kind == "prefix":
            with database() as session:
                urls = urls_with_prefix(session, q, SEARCH_LIMIT)
        elif q and kind == "text":
            with database() as session:
                articles = search_text(session, q, SEARCH_LIMIT)
        return render_template("search.html", q=q, kind=kind, urls=urls, articles=articles, searched=bool(q))

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
            rows = list(coverage(session, found))
            outlets: dict[str, dict[str, Any]] = {}
            for row in rows:
                entry = outlets.setdefault(
                    row.outlet or NO_OUTLET, {"articles": 0, "first_seen": row.first_seen, "versions": 0}
                )
                entry["articles"] += 1
                entry["versions"] += row.versions
                entry["first_seen"] = min(entry["first_seen"], row.first_seen)
            chart = timeline_svg(timeline_data(session, found))
            return render_template("story.html", story=found, rows=rows, outlets=outlets, chart=chart)

    @app.errorhandler(HTTPException)
    def refused(error: HTTPException) -> Any:
        page = render_template("error.html", title=error.name, message=error.description)
        return page, error.code, error.get_headers()  # (a 405's Allow among them)

    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""
    return app


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
