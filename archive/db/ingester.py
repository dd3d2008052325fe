"""Indexing archived records into the database.

The crawler and ``newsarchive reindex`` both go through :class:`Ingester`,
record by record in WARC order, so a database rebuilt from the WARC files is
the database the crawl built. Ingesting a record twice is harmless: rows are
keyed by WARC-Record-ID.

Each batch also keeps the full-text index (:mod:`archive.search.index`) and
the reprint groups (:mod:`archive.reprints`) current with the versions and
articles it created, in its transaction.

An ``article/1`` record makes its capture an observation of an article
version: the article is found by its story URL
(:func:`archive.db.identity.story_url`), the version by the hash of headline
and text, so a recrawl of an unchanged page adds a capture and an
observation but no version. A revisit record (an unchanged body stored by
reference) shows whatever version its original showed.

Nothing here assumes the records arrive in time order: several crawlers may
share a WARC folder, and a rebuild reads files in name order. Spans of
versions are kept by capture time, a revisit indexed before its original is
linked when the original arrives, and an article's listed date (from a feed
or news sitemap, possibly listing an address that only redirects to it) is
recomputed whenever a listing or an alias appears. The captures leading to an
article before its ``article/1`` record (or before its alias is known) become
its checks when that record arrives (:meth:`ScheduleKeeper.caught_up
<archive.db.schedule.ScheduleKeeper.caught_up>`).

Every URL a record brings (its target, a redirect's ``Location``, a page's
canonical link, a listed URL) goes through :func:`archive.urls.split_url`.
One that cannot be parsed stays in the WARC as received; here it is counted
(``IngestCounts.unparseable``) and logged with the record's id, and the
record is indexed without it: a capture or fetch error whose own URL is
unparseable is not indexed at all, a redirect keeps no target, an article
falls back to the URL it was captured at, a listing drops that entry. A
rebuild meets the same URLs and makes the same choices.

Each URL belongs to the outlet whose domains own its host most
specifically, then whose path prefix its path starts with
(:func:`archive.seeds.owner`), the rule the crawler names outlets by in the
metadata records, so the two agree. A ``decision/1`` record (whether a
candidate page was counted as an article, and why) is kept with its capture,
with the URL's shape, from which outlets learn (:mod:`archive.db.shapes`).
A ``reextraction/1`` record (a newer extractor's reading of an archived
response) goes into a chain of versions of its own
(:mod:`archive.db.reextractions`), never into the crawl-time versions.

What the metadata records hold is read through :mod:`archive.format`.
The module is longer than most because the Ingester's prepared statements
(built once, run millions of times in a rebuild) sit beside it: each is
read with the method that runs it in mind, and nothing else uses them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from archive.db.identity import content_hash, extend_span, make_alias, story_url, version_values
from archive.db.models import (
    Article,
    ArticleVersion,
    Capture,
    CaptureDecision,
    FetchError,
    Listing,
    Observation,
    Outlet,
    Url,
)
from archive.db.reextractions import ReextractionKeeper
from archive.db.schedule import CAPTURE_FACT_COLUMNS, CaptureFacts, ScheduleKeeper
from archive.extract import not_after
from archive.format import (
    ArticleRecord,
    DecisionRecord,
    FetchErrorRecord,
    ListingRecord,
    ReextractionRecord,
    described_url,
    outlets_in,
    parse_metadata,
)
from archive.reprints import add_articles
from archive.search.index import index_versions, refresh_articles, unindex_versions
from archive.seeds import owner
from archive.urls import UnparseableUrl, split_url
from archive.urlshape import url_shape
from archive.warc.records import ArchivedRecord

__all__ = ["IngestCounts", "Ingester"]

logger = logging.getLogger(__name__)

#: PostgreSQL errors from another process indexing the same rows at once: unique
#: violation, deadlock, serialization failure. The batch is retried up to CONFLICT_RETRIES times.
CONFLICT_SQLSTATES = {"23505", "40P01", "40001"}
CONFLICT_RETRIES = 5
#: Errors that say the database, not the record, is at fault: they end an indexing run.
UNAVAILABLE = (OperationalError, InterfaceError)
#: Records indexed per transaction when reading whole files.
DEFAULT_BATCH = 500


@dataclass(frozen=True)
class _Original:
    """The capture holding a revisit's body, and the version it shows (None: not extracted, or not yet)."""

    id: int
    version_id: int | None


@dataclass
class IngestCounts:
    captures: int = 0
    revisits: int = 0
    articles: int = 0  # new articles
    versions: int = 0  # new versions, first versions included
    observations: int = 0
    listings: int = 0
    fetch_errors: int = 0
    decisions: int = 0  # candidate pages decided (counted as articles or not)
    reextractions: int = 0  # captures extracted again by a newer extractor (``reextraction/1`` records)
    skipped: int = 0
    unparseable: int = 0  # URLs in records that could not be parsed, left out of the index


class Ingester:
    """Turns archived records into rows: outlets, URLs, captures, articles and their versions.

    Rows are written with Core statements on the batch's connection, not ORM
    objects: an index of a million captures is written record by record, and
    a unit of work per record would cost more than the database does.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self.counts = IngestCounts()
        self._db: Connection | None = None
        self._outlets: dict[int, tuple[list[str], str | None]] | None = None
        self._url_ids: dict[str, int] = {}
        #: Record ids that revisits name but that were not indexed when they were: a revisit waits
        #: for its original only when files are read out of order (a rebuild of a folder shared by
        #: several crawlers), so this set spares every other capture a query.
        self._awaited: set[str] | None = None
        self._schedule = ScheduleKeeper(self._run)
        self._reextractions = ReextractionKeeper(self._run)
        #: What the batch created, for the full-text index and reprint detection at its end.
        self._new_versions: list[int] = []
        self._new_articles: list[int] = []
        #: Articles whose search facts (day, newest version) may have changed in the batch.
        self._touched_articles: set[int] = set()

    def ingest(self, records: Iterable[ArchivedRecord]) -> None:
        """Index a batch of records in one transaction.

        Crawler processes sharing a database (a distributed crawl) may add the
        same URL or outlet at the same instant: one transaction then fails on
        the unique key, or is chosen as a deadlock victim. The batch is then
        indexed again, finding what the other process added; records already
        indexed are skipped, so this is safe.
        """
        batch = list(records)
        for attempt in range(1, CONFLICT_RETRIES + 1):
            # what was read in another transaction may be stale, or rolled back
            self._outlets, self._url_ids = None, {}
            self._schedule.start_batch()
            self._new_versions, self._new_articles, self._touched_articles = [], [], set()
            counts = replace(self.counts)
            try:
                with self._sessions.begin() as session:
                    self._db = session.connection()
                    if self._awaited is None:
                        self._awaited = set(self._run(_AWAITED_RECORDS).scalars())
                    for record in batch:
                        self._ingest_one(record)
                    self._schedule.end_batch(self._db.dialect.name)
                    index_versions(self._db, self._new_versions)
                    refresh_articles(self._db, sorted(self._touched_articles))
                    add_articles(self._db, self._new_articles)
                return
            except DBAPIError as e:
                self.counts = counts
                if attempt == CONFLICT_RETRIES or getattr(e.orig, "sqlstate", None) not in CONFLICT_SQLSTATES:
                    raise
                logger.info("indexing conflicted with another process (%s); retrying the batch", e.orig.sqlstate)
                time.sleep(random.uniform(0, 0.05 * attempt))
            except BaseException:
                self.counts = counts  # the transaction was rolled back: so is what it counted
                raise
            finally:
                self._db = None

    def ingest_all(
        self,
        records: Iterable[ArchivedRecord],
        batch_size: int = DEFAULT_BATCH,
        after_batch: Callable[[int], None] | None = None,
        bad_record: Callable[[ArchivedRecord, Exception], None] | None = None,
    ) -> None:
        """Index a stream of records (a file) in transactions of ``batch_size`` records.

        ``after_batch`` hears how many records each transaction indexed. If the
        stream fails (a damaged file), the records read before the failure are
        indexed before its error goes on. With ``bad_record``, a batch that
        fails is indexed again one record per transaction, and each record that
        still fails is handed to ``bad_record`` with its error and left out;
        a database that cannot be reached fails the whole call all the same.
        """
        batch: list[ArchivedRecord] = []

        def flush() -> None:
            nonlocal batch
            pending, batch = batch, []
            try:
                self.ingest(pending)
            except Exception as e:
                if bad_record is None or isinstance(e, UNAVAILABLE):
                    raise
                for record in pending:
                    try:
                        self.ingest([record])
                    except Exception as e:
                        if isinstance(e, UNAVAILABLE):
                            raise
                        bad_record(record, e)
            if after_batch is not None:
                after_batch(len(pending))

        try:
            for record in records:
                batch.append(record)
                if len(batch) >= batch_size:
                    flush()
        finally:
            if batch:
                flush()

    def _ingest_one(self, record: ArchivedRecord) -> None:
        if record.rec_type == "warcinfo":
            self._outlets_from(record)
        elif record.rec_type in ("response", "revisit"):
            self._capture(record)
        elif record.rec_type == "metadata":
            meta = parse_metadata(record.data)
            if isinstance(meta, ArticleRecord):
                self._article(record, meta)
            elif isinstance(meta, ListingRecord):
                self._listing(record, meta)
            elif isinstance(meta, FetchErrorRecord):
                self._fetch_error(record, meta)
            elif isinstance(meta, DecisionRecord):
                self._decision(record, meta)
            elif isinstance(meta, ReextractionRecord):
                self._reextraction(record, meta)

    def _run(self, statement: Any, **params: Any) -> Any:
        assert self._db is not None, "only within ingest()"
        return self._db.execute(statement, params)

    # -- outlets and URLs ---------------------------------------------------------

    def _outlets_from(self, record: ArchivedRecord) -> None:
        described_outlets = outlets_in(record.data)
        if not described_outlets:
            return
        for described in described_outlets:
            found = self._run(_OUTLET_BY_NAME, name=described["name"]).first()
            domains = sorted(set(found.domains if found else []) | set(described.get("allowed_domains", [])))
            fields = {
                "homepage": described.get("homepage"),
                "domains": domains,
                "recheck": described.get("recheck"),
                "path_prefix": described.get("path_prefix"),
            }
            if found is None:
                self._run(insert(_outlets), name=described["name"], **fields)
            else:
                self._run(_UPDATE_OUTLET, id_=found.id, **fields)
        self._outlets = None
        self._schedule.forget_policies()

    def _parsed(self, url: str | None, record: ArchivedRecord, what: str) -> str | None:
        """The URL if it can be parsed; else None, counted and logged (the WARC keeps it as received)."""
        if url is None:
            return None
        try:
            return split_url(url).url
        except UnparseableUrl as e:
            logger.warning("%s record %s: %s left out: %s", record.rec_type, record.record_id, what, e)
            self.counts.unparseable += 1
            return None

    def _url(self, url: str) -> int:
        """The id of a URL's row, added if new (``url``: one :meth:`_parsed` let through)."""
        found = self._url_ids.get(url)
        if found is None:
            found = self._run(_URL_ID, url=url).scalar()
            if found is None:
                parts = split_url(url)
                # another process may be adding the same URL (a distributed crawl): wait for it, then use its row
                insert_url = _INSERT_URL[self._db_connection.dialect.name]
                outlet_id = self._outlet_id_for(parts.host, parts.path)
                found = self._run(insert_url, url=url, host=parts.host, outlet_id=outlet_id).scalar()
                if found is None:
                    found = self._run(_URL_ID, url=url).scalar_one()
            self._url_ids[url] = found
        return int(found)

    def _outlet_claims(self) -> dict[int, tuple[list[str], str | None]]:
        """Each outlet's domains and path prefix, by id (in id order: a tie goes to the older outlet)."""
        if self._outlets is None:
            self._outlets = {row.id: (row.domains or [], row.path_prefix) for row in self._run(_ALL_OUTLETS)}
        return self._outlets

    def _outlet_domains(self, outlet_id: int) -> list[str]:
        return self._outlet_claims()[outlet_id][0]

    def _outlet_id_for(self, host: str, path: str) -> int | None:
        """The outlet owning the URL most specifically (:func:`archive.seeds.owner`)."""
        return owner(host, path, ((i, domains, prefix) for i, (domains, prefix) in self._outlet_claims().items()))

    # -- captures -----------------------------------------------------------------

    def _capture(self, record: ArchivedRecord) -> None:
        target = self._parsed(record.target_uri, record, "capture (target URI)")
        if target is None:
            return
        url_id = self._url(target)
        redirect_url = self._parsed(record.redirect_url, record, "redirect target (Location)")
        revisit = record.rec_type == "revisit"
        fetched_at = _naive_utc(record.date)
        # the capture holding a revisit's body, found before the revisit is inserted, to be inserted with it
        original = self._original_of(record, url_id, fetched_at) if revisit else None
        original_id = original.id if original is not None else None
        # None if the record is indexed already (its id is the captures' unique key): indexing twice is harmless
        capture_id = self._run(
            _INSERT_CAPTURE[self._db_connection.dialect.name],
            url_id=url_id,
            original_id=original_id,
            fetched_at=fetched_at,
            status=record.status,
            content_type=record.content_type,
            payload_digest=record.payload_digest,
            ip_address=record.ip_address,
            redirect_url=redirect_url,
            truncated=record.truncated,
            is_revisit=revisit,
            revisit_profile=record.profile if revisit else None,
            refers_to_record_id=record.refers_to if revisit else None,
            refers_to_uri=record.refers_to_target_uri if revisit else None,
            refers_to_date=_naive_utc(record.refers_to_date) if revisit and record.refers_to_date else None,
            etag=record.etag,
            last_modified=record.last_modified,
            **_pointer(record),
        ).scalar()
        if capture_id is None:
            self.counts.skipped += 1
            return
        self.counts.captures += 1
        # looked up before a redirect makes the URL an alias of its target: a moved article's own address
        checked = self._run(_ARTICLE_LED_TO, url_id=url_id).first()
        if redirect_url:
            make_alias(self._db_connection, url_id, self._url(redirect_url))
            self._refresh_listed_dates_near(url_id)
        if revisit:
            self._revisit(record, capture_id, original, fetched_at)
        elif self._awaited and record.record_id in self._awaited:
            self._run(_ADOPT_REVISITS, original=capture_id, referred=record.record_id)
        # a redirect from another address (a feed's click-through link) is the way to the article, not a check
        if checked is not None and not (redirect_url and url_id != checked.url_id):
            known = CaptureFacts(
                id=capture_id,
                fetched_at=fetched_at,
                status=record.status,
                etag=record.etag,
                last_modified=record.last_modified,
                original_id=original_id,
                record_id=record.record_id,
                payload_digest=record.payload_digest,
                url=target,
            )
            self._schedule.checked(checked.id, known)
            if fetched_at > checked.first_seen_at:  # the rule of ScheduleKeeper.caught_up, which counts the rest
                self._schedule.counted(checked.outlet_id, fetched_at)

    def _revisit(
        self, record: ArchivedRecord, capture_id: int, original: _Original | None, fetched_at: datetime
    ) -> None:
        """A revisit inserted with the capture holding its body (``original``): show that capture's version.
        One whose original is not indexed yet waits for it (:data:`_ADOPT_REVISITS`)."""
        self.counts.revisits += 1
        if original is None:
            if record.refers_to and self._awaited is not None:
                self._awaited.add(record.refers_to)
            return
        if original.version_id is not None:
            self._observe(original.version_id, capture_id, fetched_at, None, None)

    def _original_of(self, record: ArchivedRecord, url_id: int, fetched_at: datetime) -> _Original | None:
        """The capture holding a revisit's body, with the version it shows: by WARC-Refers-To, else by
        the referred URI and date, else the latest earlier capture of the same payload (at the same URL if any)."""
        found = None
        if record.refers_to:
            found = self._run(_ORIGINAL_BY_RECORD, record_id=record.refers_to).first()
        if found is None and record.refers_to_target_uri and record.refers_to_date:
            found = self._run(
                _ORIGINAL_BY_URI_AND_DATE, url=record.refers_to_target_uri, fetched_at=_naive_utc(record.refers_to_date)
            ).first()
        if found is None and record.payload_digest and not record.refers_to:
            found = self._run(
                _ORIGINAL_BY_DIGEST, digest=record.payload_digest, url_id=url_id, fetched_at=fetched_at
            ).first()
        if found is None:
            return None
        return _Original(int(found.body_id), found.version_id)

    # -- articles and versions ----------------------------------------------------

    def _article(self, record: ArchivedRecord, meta: ArticleRecord) -> None:
        capture = self._run(_CAPTURE_FOR_ARTICLE, record_id=record.refers_to).first()
        if capture is None:
            logger.warning(
                "article record %s refers to %s, which is not indexed; skipped",
                record.record_id,
                record.refers_to,
            )
            self.counts.skipped += 1
            return
        seen = self._run(_OBSERVATION_OF_CAPTURE, capture_id=capture.id).first()
        if seen is not None and seen.record_id == record.record_id:
            self.counts.skipped += 1
            return
        extraction = meta.extraction
        domains = self._outlet_domains(capture.outlet_id) if capture.outlet_id else None
        canonical_url = self._parsed(extraction.canonical_url or None, record, "canonical URL")
        key_id = self._url(story_url(canonical_url, capture.url, domains))
        new_alias = key_id != capture.url_id
        joined: list[int] = []  # URLs leading to the article from this record on: their captures become checks of it
        if new_alias:
            if capture.canonical_id != key_id:
                joined = list(self._run(_URL_AND_ALIASES, url_id=capture.url_id).scalars())
            make_alias(self._db_connection, capture.url_id, key_id)
        article = self._run(_ARTICLE_BY_URL, url_id=key_id).first()
        if article is None:
            article_id = self._run(
                _INSERT_ARTICLE, url_id=key_id, outlet_id=capture.outlet_id, first_seen_at=capture.fetched_at
            ).scalar_one()
            self.counts.articles += 1
            self._new_articles.append(article_id)
        else:
            article_id = article.id
        digest = content_hash(extraction.title, extraction.text)
        version_id = self._run(_VERSION_BY_HASH, article_id=article_id, content_hash=digest).scalar()
        new_version = version_id is None
        if version_id is None:
            version_id = self._run(
                _INSERT_VERSION, **version_values(article_id, extraction, canonical_url, capture.id, capture.fetched_at)
            ).scalar_one()
            self.counts.versions += 1
            self._new_versions.append(version_id)
        self._observe(version_id, capture.id, capture.fetched_at, record, seen, extend=not new_version)
        for revisit in self._run(_UNOBSERVED_REVISITS, original_id=capture.id).all():
            self._observe(version_id, revisit.id, revisit.fetched_at, None, None)
        # the first sighting and page date change only with a new version or an earlier capture
        if new_version or article is None or capture.fetched_at < article.first_seen_at or seen is not None:
            self._run(_REFRESH_ARTICLE, article_id=article_id)
        if new_alias or article is None:
            self._refresh_listed_date(article_id, key_id)
        self._touched_articles.add(article_id)
        before = article.first_seen_at if article is not None else None
        if not self._schedule.caught_up(article_id, before, joined):
            self._schedule.checked(article_id, CaptureFacts.of(capture))

    def _observe(
        self,
        version_id: int,
        capture_id: int,
        fetched_at: datetime,
        record: ArchivedRecord | None,
        seen: Row[Any] | None,
        extend: bool = True,
    ) -> None:
        """Record that the capture showed the version (``record``: its ``article/1`` record, if any;
        ``seen``: the capture's observation so far). ``extend``: the capture may widen the version's span."""
        pointer = _pointer(record) if record is not None else {}
        if seen is None:
            self._run(insert(_observations), capture_id=capture_id, version_id=version_id, **pointer)
            self.counts.observations += 1
        else:
            self._run(update(_observations).where(_observations.c.id == seen.id), version_id=version_id, **pointer)
        if extend:
            self._run(_EXTEND_SPAN, version_id=version_id, capture_id=capture_id, seen_at=fetched_at)
        if seen is not None and seen.version_id != version_id:
            # extracted again (a newer extractor) and found different: it left its old version
            self._refresh_span(seen.version_id)

    def _refresh_span(self, version_id: int) -> None:
        """First and last capture of a version recomputed from its observations."""
        first = self._run(_FIRST_OBSERVED, version_id=version_id).first()
        last = self._run(_LAST_OBSERVED, version_id=version_id).first()
        if first is None or last is None:  # it has no capture left
            article_id = self._run(_ARTICLE_OF_VERSION, version_id=version_id).scalar_one()
            unindex_versions(self._db_connection, [version_id])  # while the text it was indexed with is there
            self._run(delete(_versions).where(_versions.c.id == version_id))
            self._run(_REFRESH_ARTICLE, article_id=article_id)
            self._touched_articles.add(article_id)
            return
        self._run(
            _SET_SPAN,
            version_id=version_id,
            first_capture_id=first.id,
            first_seen_at=first.fetched_at,
            last_capture_id=last.id,
            last_seen_at=last.fetched_at,
        )

    # -- listings -----------------------------------------------------------------

    def _listing(self, record: ArchivedRecord, meta: ListingRecord) -> None:
        feed = self._run(_CAPTURE_BY_RECORD, record_id=record.refers_to).first()
        if feed is None:
            logger.warning(
                "listing record %s refers to %s, which is not indexed; skipped", record.record_id, record.refers_to
            )
            self.counts.skipped += 1
            return
        for entry in meta.entries:
            listed = self._parsed(entry.url, record, "listed URL")
            if listed is None:
                continue
            url_id = self._url(listed)
            if self._run(_LISTING_ID, url_id=url_id, listed_in_id=feed.id).scalar() is not None:
                continue
            self._run(
                insert(_listings),
                url_id=url_id,
                listed_in_id=feed.id,
                # a feed cannot announce a publication later than the moment we read it
                published=not_after(entry.published, feed.fetched_at.date()),
                source=meta.source,
            )
            self._refresh_listed_dates_near(url_id)
            self.counts.listings += 1

    def _refresh_listed_dates_near(self, url_id: int) -> None:
        """Refresh the listed date of the article a URL leads to, if any."""
        article = self._run(_ARTICLE_LED_TO, url_id=url_id).first()
        if article is not None:
            self._refresh_listed_date(article.id, article.url_id)

    def _refresh_listed_date(self, article_id: int, url_id: int) -> None:
        """The earliest date any feed or sitemap gave the article's URL or one of its aliases."""
        earliest = self._run(_EARLIEST_LISTING, url_id=url_id).first()
        if earliest is not None:
            self._run(_SET_LISTED, article_id=article_id, date=earliest.published, source=earliest.source)
            self._touched_articles.add(article_id)

    # -- decisions ----------------------------------------------------------------

    def _decision(self, record: ArchivedRecord, meta: DecisionRecord) -> None:
        """Keep why a candidate page was or was not counted; the capture's latest decision stands."""
        if self._run(_DECISION_ID, record_id=record.record_id).scalar() is not None:
            self.counts.skipped += 1
            return
        capture = self._run(_CAPTURE_FOR_ARTICLE, record_id=record.refers_to).first()
        if capture is None:
            logger.warning(
                "decision record %s refers to %s, which is not indexed; skipped", record.record_id, record.refers_to
            )
            self.counts.skipped += 1
            return
        fields = {
            "url_id": capture.url_id,
            "is_article": meta.is_article,
            "rule": meta.rule,
            "reasons": meta.reasons,
            "evidence": meta.evidence,
            "shape": url_shape(capture.url),
            **_pointer(record),
        }
        earlier = self._run(_DECISION_OF_CAPTURE, capture_id=capture.id).scalar()
        if earlier is None:
            self._run(insert(_decisions), capture_id=capture.id, **fields)
        else:
            self._run(update(_decisions).where(_decisions.c.id == earlier), **fields)
        self.counts.decisions += 1

    # -- re-extractions -----------------------------------------------------------

    def _reextraction(self, record: ArchivedRecord, meta: ReextractionRecord) -> None:
        canonical = meta.extraction.canonical_url if meta.extraction is not None else None
        indexed = self._reextractions.add(
            meta,
            record.record_id,
            record.refers_to,
            _naive_utc(record.date),
            self._parsed(canonical or None, record, "canonical URL"),
            _pointer(record),
        )
        if indexed:
            self.counts.reextractions += 1
        else:
            self.counts.skipped += 1

    # -- fetch errors -------------------------------------------------------------

    def _fetch_error(self, record: ArchivedRecord, meta: FetchErrorRecord) -> None:
        if self._run(_FETCH_ERROR_ID, record_id=record.record_id).scalar() is not None:
            self.counts.skipped += 1
            return
        url = self._parsed(described_url(record.target_uri), record, "URL that failed")
        if url is None:
            return
        self._run(
            insert(_fetch_errors),
            url_id=self._url(url),
            at=_naive_utc(record.date),
            error=meta.error,
            **_pointer(record),
        )
        self.counts.fetch_errors += 1

    @property
    def _db_connection(self) -> Connection:
        assert self._db is not None, "only within ingest()"
        return self._db


# Statements, built once (the ingester runs them millions of times).
_outlets = Outlet.__table__
_urls = Url.__table__
_captures = Capture.__table__
_articles = Article.__table__
_versions = ArticleVersion.__table__
_observations = Observation.__table__
_listings = Listing.__table__
_fetch_errors = FetchError.__table__
_decisions = CaptureDecision.__table__

_ALL_OUTLETS = select(_outlets.c.id, _outlets.c.domains, _outlets.c.path_prefix).order_by(_outlets.c.id)
_OUTLET_BY_NAME = select(_outlets.c.id, _outlets.c.domains).where(_outlets.c.name == bindparam("name"))
_UPDATE_OUTLET = update(_outlets).where(_outlets.c.id == bindparam("id_"))
_URL_ID = select(_urls.c.id).where(_urls.c.url == bindparam("url"))
_INSERT_URL = {
    name: dialect.insert(_urls).on_conflict_do_nothing(index_elements=[_urls.c.url]).returning(_urls.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_CAPTURE_BY_RECORD = select(_captures.c.id, _captures.c.fetched_at).where(
    _captures.c.record_id == bindparam("record_id")
)
# A revisit's original, found by the three statements below: the capture holding the body (a revisit of a
# revisit: the first one's original) and the version that body shows, in one statement.
_body_id = func.coalesce(_captures.c.original_id, _captures.c.id)
_ORIGINAL = select(
    _body_id.label("body_id"),
    select(_observations.c.version_id)
    .where(_observations.c.capture_id == _body_id)
    .scalar_subquery()
    .label("version_id"),
)
_ORIGINAL_BY_RECORD = _ORIGINAL.where(_captures.c.record_id == bindparam("record_id"))
_ORIGINAL_BY_URI_AND_DATE = (
    _ORIGINAL.join(_urls, _urls.c.id == _captures.c.url_id)
    .where(_urls.c.url == bindparam("url"), _captures.c.fetched_at == bindparam("fetched_at"))
    .order_by(_captures.c.id)
    .limit(1)
)
_ORIGINAL_BY_DIGEST = (
    _ORIGINAL.where(
        _captures.c.payload_digest == bindparam("digest"),
        _captures.c.is_revisit.is_(False),
        _captures.c.fetched_at <= bindparam("fetched_at"),
    )
    .order_by((_captures.c.url_id == bindparam("url_id")).desc(), _captures.c.fetched_at.desc(), _captures.c.id.desc())
    .limit(1)
)
_INSERT_CAPTURE = {
    name: dialect.insert(_captures)
    .on_conflict_do_nothing(index_elements=[_captures.c.record_id])
    .returning(_captures.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_AWAITED_RECORDS = select(_captures.c.refers_to_record_id).where(
    _captures.c.is_revisit.is_(True), _captures.c.original_id.is_(None), _captures.c.refers_to_record_id.is_not(None)
)
_ADOPT_REVISITS = (
    update(_captures)
    .where(_captures.c.refers_to_record_id == bindparam("referred"), _captures.c.original_id.is_(None))
    .values(original_id=bindparam("original"))
)
_CAPTURE_FOR_ARTICLE = (
    # its CaptureFacts, for the check of the article it makes, and where it leads
    select(*CAPTURE_FACT_COLUMNS, _captures.c.url_id, _urls.c.outlet_id, _urls.c.canonical_id)
    .join(_urls, _urls.c.id == _captures.c.url_id)
    .where(_captures.c.record_id == bindparam("record_id"))
)
_UNOBSERVED_REVISITS = (
    select(_captures.c.id, _captures.c.fetched_at)
    .outerjoin(_observations, _observations.c.capture_id == _captures.c.id)
    .where(_captures.c.original_id == bindparam("original_id"), _observations.c.id.is_(None))
    .order_by(_captures.c.id)
)
_ARTICLE_BY_URL = select(_articles.c.id, _articles.c.first_seen_at).where(_articles.c.url_id == bindparam("url_id"))
_INSERT_ARTICLE = insert(_articles).returning(_articles.c.id)
_VERSION_BY_HASH = select(_versions.c.id).where(
    _versions.c.article_id == bindparam("article_id"), _versions.c.content_hash == bindparam("content_hash")
)
_INSERT_VERSION = insert(_versions).returning(_versions.c.id)
_ARTICLE_OF_VERSION = select(_versions.c.article_id).where(_versions.c.id == bindparam("version_id"))
_OBSERVATION_OF_CAPTURE = select(_observations.c.id, _observations.c.version_id, _observations.c.record_id).where(
    _observations.c.capture_id == bindparam("capture_id")
)
_EXTEND_SPAN = extend_span(_versions)
_OBSERVED = (
    select(_captures.c.id, _captures.c.fetched_at)
    .join(_observations, _observations.c.capture_id == _captures.c.id)
    .where(_observations.c.version_id == bindparam("version_id"))
)
_FIRST_OBSERVED = _OBSERVED.order_by(_captures.c.fetched_at, _captures.c.id).limit(1)
_LAST_OBSERVED = _OBSERVED.order_by(_captures.c.fetched_at.desc(), _captures.c.id.desc()).limit(1)
_SET_SPAN = update(_versions).where(_versions.c.id == bindparam("version_id"))
# An article's first sighting and page date (from the earliest version stating one), from its versions.
_REFRESH_ARTICLE = (
    update(_articles)
    .where(_articles.c.id == bindparam("article_id"))
    .values(
        first_seen_at=select(func.min(_versions.c.first_seen_at))
        .where(_versions.c.article_id == _articles.c.id)
        .scalar_subquery(),
        published=select(_versions.c.published)
        .where(_versions.c.article_id == _articles.c.id, _versions.c.published.is_not(None))
        .order_by(_versions.c.first_seen_at, _versions.c.id)
        .limit(1)
        .scalar_subquery(),
    )
)
_ARTICLE_LED_TO = select(_articles.c.id, _articles.c.url_id, _articles.c.outlet_id, _articles.c.first_seen_at).where(
    _articles.c.url_id
    == func.coalesce(
        select(_urls.c.canonical_id).where(_urls.c.id == bindparam("url_id")).scalar_subquery(), bindparam("url_id")
    )
)
_URL_AND_ALIASES = select(_urls.c.id).where(
    or_(_urls.c.id == bindparam("url_id"), _urls.c.canonical_id == bindparam("url_id"))
)
_EARLIEST_LISTING = (
    select(_listings.c.published, _listings.c.source)
    .where(
        _listings.c.url_id.in_(
            select(_urls.c.id).where(
                or_(_urls.c.id == bindparam("url_id"), _urls.c.canonical_id == bindparam("url_id"))
            )
        ),
        _listings.c.published.is_not(None),
    )
    .order_by(_listings.c.published, _listings.c.id)
    .limit(1)
)
_SET_LISTED = (
    update(_articles)
    .where(_articles.c.id == bindparam("article_id"))
    .values(listed_published=bindparam("date"), listed_source=bindparam("source"))
)
_LISTING_ID = select(_listings.c.id).where(
    _listings.c.url_id == bindparam("url_id"), _listings.c.listed_in_id == bindparam("listed_in_id")
)
_FETCH_ERROR_ID = select(_fetch_errors.c.id).where(_fetch_errors.c.record_id == bindparam("record_id"))
_DECISION_ID = select(_decisions.c.id).where(_decisions.c.record_id == bindparam("record_id"))
_DECISION_OF_CAPTURE = select(_decisions.c.id).where(_decisions.c.capture_id == bindparam("capture_id"))


def _naive_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def _pointer(record: ArchivedRecord) -> dict[str, object]:
    return {
        "record_id": record.record_id,
        "warc_filename": record.location.filename,
        "warc_offset": record.location.offset,
        "warc_length": record.location.length,
    }
