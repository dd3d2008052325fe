"""Deduplication: an unchanged page is archived as a revisit record, not a second copy.

When a response's payload digest equals that of an earlier capture of the
same URL, the writer stores a ``revisit`` record with the identical-payload-
digest profile: the new HTTP headers, no body, and ``WARC-Refers-To`` (plus
``-Target-URI`` and ``-Date``) naming the record that holds the body, as
Heritrix and warcprox do. Only complete 200 answers with a body are
deduplicated; a truncated body is never the original of anything. A recheck's
``304 Not Modified`` is a revisit too, with the server-not-modified profile.

The index of earlier payloads is the database (captures with their digests),
so deduplication works across crawls and across crawler processes sharing a
database; a bounded in-memory map covers records written but not yet indexed.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import timezone

from sqlalchemy import Engine, bindparam, select

from archive.db.models import Capture, Url
from archive.warc.records import IDENTICAL_PAYLOAD_DIGEST, SERVER_NOT_MODIFIED, HttpExchange, RevisitOf


def payload_digest(body: bytes) -> str:
    """The WARC payload digest of a body (``sha1:`` + base32), as warcio writes it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


#: The earliest original capture of a URL with a given payload. One statement built once and
#: run on a plain connection: every 200 answer of a crawl asks it, and an ORM session per
#: question cost ten times the query (a tenth of an archive-only crawl's CPU).
_ORIGINAL = (
    select(Capture.record_id, Capture.fetched_at)
    .join(Url, Capture.url_id == Url.id)
    .where(
        Url.url == bindparam("url"),
        Capture.payload_digest == bindparam("digest"),
        Capture.status == 200,
        Capture.is_revisit.is_(False),
        Capture.truncated.is_(None),
    )
    .order_by(Capture.fetched_at)
    .limit(1)
)


def not_modified(exchange: HttpExchange) -> RevisitOf | None:
    """The capture a 304 answer says is unchanged: the one whose validators the request sent, if any."""
    if exchange.status != 304 or exchange.previous is None:
        return None
    return replace(exchange.previous, profile=SERVER_NOT_MODIFIED)


class DigestIndex:
    """Finds the original record of a URL's payload, in recent writes or the database.

    Used from the archiver's writer thread only, before each response is written.
    """

    def __init__(self, engine: Engine | None, recent: int = 10_000) -> None:
        self._engine = engine
        # Covers what the indexer has not stored yet (a few batches of ARCHIVE_INDEX_BATCH behind the
        # writer), with room to spare; a bigger map only made memory grow with the crawl.
        self._recent: OrderedDict[tuple[str, str], RevisitOf] = OrderedDict()
        self._limit = recent
        self._lock = threading.Lock()

    def revisit_of(self, exchange: HttpExchange) -> RevisitOf | None:
        """The record an exchange would repeat, or ``None`` (then it becomes an original).

        A 304 answer to a conditional request repeats the capture whose validators the
        request sent (server-not-modified); a 304 to an unconditional request is kept
        as a response record, as received. A 200 answer whose body is the one of the
        capture a recheck compared against repeats it without asking the database.
        """
        if exchange.status == 304:
            return not_modified(exchange)
        previous = exchange.previous
        if exchange.status != 200 or not exchange.body or exchange.truncated:
            return None
        digest = payload_digest(exchange.body)
        if previous is not None and previous.payload_digest == digest:
            return replace(previous, profile=IDENTICAL_PAYLOAD_DIGEST)
        original = self._lookup(exchange.url, digest)
        if original is None:
            self._remember(
                (exchange.url, digest),
                RevisitOf(exchange.response_record_id, exchange.url, exchange.fetched_at, digest),
            )
        return original

    def _lookup(self, url: str, digest: str) -> RevisitOf | None:
        with self._lock:
            original = self._recent.get((url, digest))
        if original is not None or self._engine is None:
            return original
        with self._engine.connect() as connection:
            row = connection.execute(_ORIGINAL, {"url": url, "digest": digest}).first()
        if row is None:
            return None
        return RevisitOf(row.record_id, url, row.fetched_at.replace(tzinfo=timezone.utc), digest)

    def _remember(self, key: tuple[str, str], original: RevisitOf) -> None:
        with self._lock:
            self._recent.setdefault(key, original)
            while len(self._recent) > self._limit:
                self._recent.popitem(last=False)
