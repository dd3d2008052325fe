"""Archives whose articles were checked again and again, written as WARC records and indexed by the real Ingester.

The schedule rows of :func:`schedule_scenario` are written directly: they
state the case under test (due, overdue, settled...) whatever schedule the
ingester would have made from the captures.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.ingester import Ingester
from archive.db.models import Article, Capture, RecheckSchedule, Url
from archive.format import fetch_error_payload, metadata_target
from archive.warc.records import SERVER_NOT_MODIFIED, HttpExchange, RevisitOf, exchange_records, metadata_record
from tests.archive.recording import Recording

STORY = "http://www.example.com/news/story"
CLICK = "http://feeds.example.com/~r/story"  # a feed's link, redirecting to the story
SHORT = "http://www.example.com/a1-short"  # a short link, redirecting to a1
RENAMED = "http://www.example.com/news/story-renamed"
ELSEWHERE = "http://other.example.org/news/piece"  # on no outlet of the seed list

#: What each check of STORY found, in time order: (hours after the first capture, outcome, detail, version).
EXPECTED = [
    (0, "first", None, 1),
    (1, "unchanged", "not modified", 1),
    (2, "unchanged", "same bytes", 1),
    (3, "unchanged", "page changed, text unchanged", 1),
    (4, "changed", None, 2),
    (5, "checked", "no article read", None),
    (6, "error", "500", None),
    (7, "failed", "connection refused", None),
    (8, "moved", RENAMED, None),
    (9, "gone", None, None),
]


def not_modified(rec: Recording, url: str, when: datetime, original: str) -> str:
    """A 304 answer to a conditional request, archived as a server-not-modified revisit of ``original``."""
    held = rec.response(original)
    exchange = HttpExchange(
        url=url,
        method="GET",
        request_headers=[(b"Host", url.split("/")[2].encode()), (b"If-None-Match", b'"v1"')],
        status=304,
        response_headers=[(b"ETag", b'"v1"')],
        body=b"",
        fetched_at=when,
    )
    revisit_of = RevisitOf(held.record_id, held.target_uri, held.date, held.payload_digest, SERVER_NOT_MODIFIED)
    rec._write(list(exchange_records(exchange, rec.writer.builder, revisit_of)))
    return exchange.response_record_id


def fetch_error(rec: Recording, url: str, when: datetime, error: str) -> None:
    payload = fetch_error_payload(None, error)
    rec._write([metadata_record(rec.writer.builder, metadata_target(payload, url), None, payload, when)])


def checked_article(folder: Path, sessions: sessionmaker[Session], start: datetime) -> None:
    """STORY, reached first through CLICK, then checked every hour with each finding of EXPECTED."""

    def at(hours: float) -> datetime:
        return start + timedelta(hours=hours)

    rec = Recording(folder)
    rec.page(CLICK, "moved", at(0) - timedelta(minutes=1), status=302, location=STORY)
    first = rec.page(STORY, "<html>Summit ends. Talks collapsed.</html>", at(0))
    rec.article(first, STORY, "Summit ends", "Talks collapsed.", at(0))
    not_modified(rec, STORY, at(1), first)
    rec.revisit(STORY, at(2), rec.response(first))
    reshuffled = rec.page(STORY, "<html>Summit ends. Talks collapsed. <aside>Most read</aside></html>", at(3))
    rec.article(reshuffled, STORY, "Summit ends", "Talks collapsed.", at(3))
    edited = rec.page(STORY, "<html>Summit ends early. Talks collapsed.</html>", at(4))
    rec.article(edited, STORY, "Summit ends early", "Talks collapsed.", at(4))
    rec.page(STORY, "<html>Please accept our cookies</html>", at(5))  # nothing extracted
    rec.page(STORY, "Internal Server Error", at(6), status=500)
    fetch_error(rec, STORY, at(7), "connection refused")
    rec.page(STORY, "moved", at(8), status=301, location=RENAMED)
    rec.page(STORY, "not found", at(9), status=404)
    rec.close()
    Ingester(sessions).ingest(rec.records)


def schedule_scenario(folder: Path, sessions: sessionmaker[Session], now: datetime) -> dict[str, int]:
    """Six articles of Example News and one of no outlet, in every schedule state, checked lately;
    returns the article ids by their URL's last path segment (a1 ... a6, b1)."""

    def ago(hours: float) -> datetime:
        return now - timedelta(hours=hours)

    rec = Recording(folder)
    firsts = {f"a{n}": ago(30) for n in range(1, 7)} | {"a2": ago(2 / 3), "b1": ago(3)}
    for name, first_seen in firsts.items():
        url = _article_url(name)
        response = rec.page(url, f"<html>{name}</html>", first_seen)
        rec.article(response, url, name, f"The text of {name}.", first_seen)
    a1 = _article_url("a1")
    original = rec.response(next(r.record_id for r in rec.records if r.target_uri == a1 and r.rec_type == "response"))
    rec.revisit(a1, ago(20), original)  # a check of the last day
    rec.page(SHORT, "moved", ago(2), status=302, location=a1)  # the way to it: no check
    rec.revisit(a1, ago(2), original)
    not_modified(rec, a1, ago(0.5), original.record_id)  # a check of the last hour
    not_modified(rec, a1, now + timedelta(hours=1), original.record_id)  # after "now": not counted
    rec.page("http://www.example.com/feed", "<rss/>", ago(0.2))  # no article's: not a check
    b1 = _article_url("b1")
    rec.revisit(b1, ago(1 / 6), rec.response(next(r.record_id for r in rec.records if r.target_uri == b1)))
    rec.close()
    Ingester(sessions).ingest(rec.records)
    states = {
        "a1": ("watching", ago(1 / 6)),  # due 10 minutes ago
        "a2": ("watching", ago(3)),  # overdue
        "a3": ("watching", now + timedelta(hours=1)),
        "a4": ("settled", None),
        "a5": ("gone", None),
        "a6": ("moved", None),
        "b1": ("watching", now + timedelta(hours=2)),
    }
    with sessions() as session:
        known = select(Article.id, Article.outlet_id, Article.first_seen_at, Url.url).join(Article.url)
        articles = {
            url.rsplit("/", 1)[1]: (article_id, outlet_id, first_seen, url)
            for article_id, outlet_id, first_seen, url in session.execute(known)
        }
        first_capture = {
            url_id: capture_id
            for capture_id, url_id in session.execute(select(Capture.id, Capture.url_id).order_by(Capture.id.desc()))
        }
        session.execute(delete(RecheckSchedule))  # whatever the ingester made: the rows below are the case
        rows = []
        for name, (state, due) in states.items():
            article_id, outlet_id, first_seen, url = articles[name]
            url_id = session.get(Article, article_id).url_id
            rows.append(
                {
                    "article_id": article_id,
                    "outlet_id": outlet_id,
                    "state": state,
                    "next_check_at": due.replace(tzinfo=None) if due else None,
                    "last_checked_at": first_seen,
                    "last_changed_at": first_seen,
                    "last_capture_id": first_capture[url_id],
                    "body_capture_id": first_capture[url_id],
                    "url": url,
                }
            )
        session.execute(insert(RecheckSchedule), rows)
        session.commit()
    return {name: ids[0] for name, ids in articles.items()}


def _article_url(name: str) -> str:
    return f"http://other.example.org/news/{name}" if name.startswith("b") else f"http://www.example.com/news/{name}"


class AtNoon(datetime):
    """A clock stopped on the hour, for the commands and pages that read the time themselves:
    the recheck rate is over complete clock hours, so the checks counted depend on the minute."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return datetime(2019, 3, 5, 12, 0, tzinfo=timezone.utc)
