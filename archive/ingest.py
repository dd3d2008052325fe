"""Indexing archived records into the database.

The crawler and ``newsarchive reindex`` both go through :class:`Ingester`,
record by record in WARC order, so a database rebuilt from the WARC files is
the database the crawl built. Ingesting a record twice is harmless: rows are
keyed by WARC-Record-ID.

An article's listed date (from a feed or news sitemap) is derived from the
listings, whichever of the two was archived first: a feed may be parsed
after the article it lists was fetched, and may list an address that only
redirects to the article.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Article, Capture, FetchError, Listing, Outlet, Url
from archive.extract import not_after
from archive.seeds import host_in_domains
from archive.warc.records import ArchivedRecord

logger = logging.getLogger(__name__)

#: warcinfo field listing the crawl's outlets, as JSON.
OUTLETS_FIELD = "newsarchive-outlets"
#: ``newsarchive`` key of the JSON metadata records this project writes.
ARTICLE_KIND = "article/1"
LISTING_KIND = "listing/1"
FETCH_ERROR_KIND = "fetch-error/1"
#: Longest redirect chain followed from a listed URL to its article.
MAX_REDIRECTS = 10


@dataclass
class IngestCounts:
    captures: int = 0
    articles: int = 0
    listings: int = 0
    fetch_errors: int = 0
    skipped: int = 0


class Ingester:
    """Turns archived records into rows: outlets, URLs, captures, fetch errors, articles."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.counts = IngestCounts()

    def ingest(self, records: Iterable[ArchivedRecord]) -> None:
        """Index a batch of records in one transaction."""
        with self._sessions.begin() as session:
            for record in records:
                self._ingest_one(session, record)

    def _ingest_one(self, session: Session, record: ArchivedRecord) -> None:
        if record.rec_type == "warcinfo":
            self._outlets(session, record)
        elif record.rec_type in ("response", "revisit"):
            self._capture(session, record)
        elif record.rec_type == "metadata" and record.data:
            kind = record.data.get("newsarchive")
            if kind == ARTICLE_KIND:
                self._article(session, record)
            elif kind == LISTING_KIND:
                self._listing(session, record)
            elif kind == FETCH_ERROR_KIND:
                self._fetch_error(session, record)

    def _outlets(self, session: Session, record: ArchivedRecord) -> None:
        raw = (record.data or {}).get(OUTLETS_FIELD)
        if not raw:
            return
        for described in json.loads(raw):
            outlet = session.scalar(select(Outlet).where(Outlet.name == described["name"]))
            if outlet is None:
                outlet = Outlet(name=described["name"])
                session.add(outlet)
            outlet.homepage = described.get("homepage")
            outlet.domains = sorted(set(outlet.domains or []) | set(described.get("allowed_domains", [])))
        session.flush()

    def _url(self, session: Session, url: str) -> Url:
        row = session.scalar(select(Url).where(Url.url == url))
        if row is None:
            host = (urlsplit(url).hostname or "").lower()
            row = Url(url=url, host=host, outlet_id=self._outlet_id_for(session, host))
            session.add(row)
            session.flush()
        return row

    def _outlet_id_for(self, session: Session, host: str) -> int | None:
        for outlet_id, domains in session.execute(select(Outlet.id, Outlet.domains)):
            if host_in_domains(host, domains):
                return outlet_id
        return None

    def _exists(self, session: Session, model: type[Capture | Article | FetchError], record_id: str) -> bool:
        if session.scalar(select(model.id).where(model.record_id == record_id)) is not None:
            self.counts.skipped += 1
            return True
        return False

    def _capture(self, session: Session, record: ArchivedRecord) -> None:
        if self._exists(session, Capture, record.record_id):
            return
        session.add(
            Capture(
                url=self._url(session, record.target_uri),
                fetched_at=_naive_utc(record),
                status=record.status,
                content_type=record.content_type,
                payload_digest=record.payload_digest,
                ip_address=record.ip_address,
                redirect_url=record.redirect_url,
                **_pointer(record),
            )
        )
        self.counts.captures += 1

    def _article(self, session: Session, record: ArchivedRecord) -> None:
        if self._exists(session, Article, record.record_id):
            return
        capture = session.scalar(select(Capture).where(Capture.record_id == record.refers_to))
        if capture is None:
            logger.warning(
                "article record %s refers to %s, which is not indexed; skipped",
                record.record_id,
                record.refers_to,
            )
            self.counts.skipped += 1
            return
        data = record.data or {}
        session.add(
            article := Article(
                capture=capture,
                url_id=capture.url_id,
                outlet_id=capture.url.outlet_id,
                title=data.get("title"),
                author=data.get("author"),
                published=data.get("published"),
                sitename=data.get("sitename"),
                language=data.get("language"),
                canonical_url=data.get("canonical_url"),
                description=data.get("description"),
                license=data.get("license"),
                text=data.get("text") or "",
                extractor=data.get("extractor") or "unknown",
                extractor_version=data.get("extractor_version") or "unknown",
                **_pointer(record),
            )
        )
        session.flush()
        self._date_from_listings(session, article.url_id)
        self.counts.articles += 1

    def _listing(self, session: Session, record: ArchivedRecord) -> None:
        feed = session.scalar(select(Capture).where(Capture.record_id == record.refers_to))
        if feed is None:
            logger.warning(
                "listing record %s refers to %s, which is not indexed; skipped", record.record_id, record.refers_to
            )
            self.counts.skipped += 1
            return
        data = record.data or {}
        for entry in data.get("entries", []):
            url = self._url(session, entry["url"])
            if session.scalar(select(Listing.id).where(Listing.url_id == url.id, Listing.listed_in_id == feed.id)):
                continue
            session.add(
                Listing(
                    url=url,
                    listed_in=feed,
                    # a feed cannot announce a publication later than the moment we read it
                    published=not_after(entry.get("published"), feed.fetched_at.date()),
                    source=str(data.get("source") or "feed"),
                )
            )
            session.flush()
            self._date_from_listings(session, self._redirect_target(session, url.id))
            self.counts.listings += 1

    def _redirect_target(self, session: Session, url_id: int) -> int:
        """The URL a listed URL finally redirected to, as far as captures show."""
        for _ in range(MAX_REDIRECTS):
            target = session.scalar(
                select(Capture.redirect_url)
                .where(Capture.url_id == url_id, Capture.redirect_url.is_not(None))
                .order_by(Capture.fetched_at.desc())
                .limit(1)
            )
            target_id = target and session.scalar(select(Url.id).where(Url.url == target))
            if not target_id:
                break
            url_id = target_id
        return url_id

    def _date_from_listings(self, session: Session, url_id: int) -> None:
        """Give the URL's articles the earliest date any listing gave it or an address redirecting to it."""
        aliases, frontier = {url_id}, {url_id}
        for _ in range(MAX_REDIRECTS):
            targets = select(Url.url).where(Url.id.in_(frontier))
            frontier = set(session.scalars(select(Capture.url_id).where(Capture.redirect_url.in_(targets)))) - aliases
            if not frontier:
                break
            aliases |= frontier
        earliest = session.execute(
            select(Listing.published, Listing.source)
            .where(Listing.url_id.in_(aliases), Listing.published.is_not(None))
            .order_by(Listing.published, Listing.id)
            .limit(1)
        ).first()
        if earliest is None:
            return
        for article in session.scalars(select(Article).where(Article.url_id == url_id)):
            article.listed_published, article.listed_source = earliest

    def _fetch_error(self, session: Session, record: ArchivedRecord) -> None:
        if self._exists(session, FetchError, record.record_id):
            return
        session.add(
            FetchError(
                url=self._url(session, record.target_uri),
                at=_naive_utc(record),
                error=str((record.data or {}).get("error") or "unknown error"),
                **_pointer(record),
            )
        )
        self.counts.fetch_errors += 1


def _naive_utc(record: ArchivedRecord) -> datetime:
    return record.date.replace(tzinfo=None)


def _pointer(record: ArchivedRecord) -> dict[str, object]:
    return {
        "record_id": record.record_id,
        "warc_filename": record.location.filename,
        "warc_offset": record.location.offset,
        "warc_length": record.location.length,
    }
