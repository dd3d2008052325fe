"""Indexing archived records into the database.

The crawler and ``newsarchive reindex`` both go through :class:`Ingester`,
record by record in WARC order, so a database rebuilt from the WARC files is
the database the crawl built. Ingesting a record twice is harmless: rows are
keyed by WARC-Record-ID.
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

from archive.db.models import Article, Capture, FetchError, Outlet, Url
from archive.seeds import host_in_domains
from archive.warc.records import ArchivedRecord

logger = logging.getLogger(__name__)

#: warcinfo field listing the crawl's outlets, as JSON.
OUTLETS_FIELD = "newsarchive-outlets"
#: ``newsarchive`` key of the JSON metadata records this project writes.
ARTICLE_KIND = "article/1"
FETCH_ERROR_KIND = "fetch-error/1"


@dataclass
class IngestCounts:
    captures: int = 0
    articles: int = 0
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
            Article(
                capture=capture,
                url_id=capture.url_id,
                outlet_id=capture.url.outlet_id,
                title=data.get("title"),
                author=data.get("author"),
                published=data.get("published"),
                listed_published=data.get("listed_published"),
                listed_source=data.get("listed_source"),
                sitename=data.get("sitename"),
                language=data.get("language"),
                canonical_url=data.get("canonical_url"),
                description=data.get("description"),
                text=data.get("text") or "",
                extractor=data.get("extractor") or "unknown",
                extractor_version=data.get("extractor_version") or "unknown",
                **_pointer(record),
            )
        )
        self.counts.articles += 1

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
