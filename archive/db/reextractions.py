"""Re-extractions in the database: their own chain of versions, and which captures are still to do.

A ``reextraction/1`` record (:mod:`archive.format`) is indexed beside the
crawl-time rows, never into them: its text becomes a version of the
article its capture showed at crawl time, in ``reextracted_versions``, keyed
by extractor version and content hash, so that versions are only ever told
apart and compared within one extractor version. The crawl-time versions,
their observations (one per capture) and everything read from them (the
views, search, reprints, the recheck schedule) stay as the crawl made them.

One re-extraction counts per capture and extractor version: the first
record indexed. A record for a pair already done (a run started again after
its records were written but before they were indexed) is skipped, so a
rebuild reading files in name order keeps the same one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, insert, select

from archive.db.identity import content_hash, extend_span, version_values
from archive.db.models import (
    Article,
    ArticleVersion,
    Capture,
    Observation,
    Outlet,
    ReextractedVersion,
    Reextraction,
    Url,
)
from archive.format import ReextractionRecord

__all__ = ["Candidate", "ReextractionKeeper", "candidates_query"]

logger = logging.getLogger(__name__)


class ReextractionKeeper:
    """Indexes ``reextraction/1`` records, in the ingester's transaction."""

    def __init__(self, run: Callable[..., Any]) -> None:
        self._run = run

    def add(
        self,
        meta: ReextractionRecord,
        record_id: str,
        refers_to: str | None,
        at: datetime,
        canonical_url: str | None,
        pointer: dict[str, object],
    ) -> bool:
        """Index one record (``at``: its naive UTC date; ``canonical_url``: the extraction's, parsed);
        False when it is skipped: indexed already, its capture unknown, or its capture and version done."""
        if self._run(_BY_RECORD, record_id=record_id).scalar() is not None:
            return False
        capture = self._run(_CAPTURE, record_id=refers_to).first()
        if capture is None or capture.article_id is None:
            logger.warning(
                "re-extraction record %s refers to %s, which is not indexed as an article's capture; skipped",
                record_id,
                refers_to,
            )
            return False
        if self._run(_DONE, capture_id=capture.id, extractor_version=meta.extractor_version).scalar() is not None:
            return False
        version_id = None
        if meta.extraction is not None:
            version_id = self._version(capture, meta, canonical_url)
        self._run(
            insert(_reextractions),
            capture_id=capture.id,
            version_id=version_id,
            run=meta.run,
            original_record_id=meta.original,
            extractor=meta.extractor,
            extractor_version=meta.extractor_version,
            reextracted_at=at,
            **pointer,
        )
        return True

    def _version(self, capture: Any, meta: ReextractionRecord, canonical_url: str | None) -> int:
        """The re-extracted version showing the extraction's text (added if new), its span widened to the capture."""
        extraction = meta.extraction
        assert extraction is not None
        digest = content_hash(extraction.title, extraction.text)
        found = self._run(
            _VERSION, article_id=capture.article_id, extractor_version=meta.extractor_version, content_hash=digest
        ).scalar()
        if found is not None:
            self._run(_EXTEND_SPAN, version_id=found, capture_id=capture.id, seen_at=capture.fetched_at)
            return int(found)
        values = version_values(capture.article_id, extraction, canonical_url, capture.id, capture.fetched_at)
        return int(
            self._run(
                _INSERT_VERSION,
                **{**values, "extractor": meta.extractor, "extractor_version": meta.extractor_version},
            ).scalar_one()
        )


@dataclass(frozen=True)
class Candidate:
    """A capture whose crawl-time extraction may be done again: where its response is, and what it showed."""

    capture_id: int
    response_record_id: str
    warc_filename: str
    warc_offset: int
    url: str
    fetched_at: datetime
    content_type: str | None
    original_record_id: str
    original_hash: str
    outlet: str | None


def candidates_query(
    extractor_version: str,
    *,
    outlet: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    force: bool = False,
) -> Select[Any]:
    """The captures with a crawl-time extraction that ``extractor_version`` has not re-extracted yet, by id.

    Without ``force``, only those whose version was read by another extractor version. Times are naive UTC.
    Page through with ``.where(Capture.id > last).limit(n)``: the rows follow :class:`Candidate`'s fields.
    """
    query = (
        select(
            Capture.id.label("capture_id"),
            Capture.record_id.label("response_record_id"),
            Capture.warc_filename,
            Capture.warc_offset,
            Url.url,
            Capture.fetched_at,
            Capture.content_type,
            Observation.record_id.label("original_record_id"),
            ArticleVersion.content_hash.label("original_hash"),
            Outlet.name.label("outlet"),
        )
        .join(Observation, Observation.capture_id == Capture.id)
        .join(ArticleVersion, ArticleVersion.id == Observation.version_id)
        .join(Article, Article.id == ArticleVersion.article_id)
        .join(Url, Url.id == Capture.url_id)
        .outerjoin(Outlet, Outlet.id == Article.outlet_id)
        .where(
            Observation.record_id.is_not(None),
            ~exists().where(Reextraction.capture_id == Capture.id, Reextraction.extractor_version == extractor_version),
        )
        .order_by(Capture.id)
    )
    if not force:
        query = query.where(ArticleVersion.extractor_version != extractor_version)
    if outlet is not None:
        query = query.where(Outlet.name == outlet)
    if since is not None:
        query = query.where(Capture.fetched_at >= since)
    if until is not None:
        query = query.where(Capture.fetched_at <= until)
    return query


_captures = Capture.__table__
_observations = Observation.__table__
_versions = ArticleVersion.__table__
_rversions = ReextractedVersion.__table__
_reextractions = Reextraction.__table__

_BY_RECORD = select(_reextractions.c.id).where(_reextractions.c.record_id == bindparam("record_id"))
# the article a capture showed at crawl time: its re-extracted versions are that article's
_CAPTURE = (
    select(_captures.c.id, _captures.c.fetched_at, _versions.c.article_id)
    .outerjoin(_observations, _observations.c.capture_id == _captures.c.id)
    .outerjoin(_versions, _versions.c.id == _observations.c.version_id)
    .where(_captures.c.record_id == bindparam("record_id"))
)
_DONE = select(_reextractions.c.id).where(
    _reextractions.c.capture_id == bindparam("capture_id"),
    _reextractions.c.extractor_version == bindparam("extractor_version"),
)
_VERSION = select(_rversions.c.id).where(
    _rversions.c.article_id == bindparam("article_id"),
    _rversions.c.extractor_version == bindparam("extractor_version"),
    _rversions.c.content_hash == bindparam("content_hash"),
)
_INSERT_VERSION = insert(_rversions).returning(_rversions.c.id)
_EXTEND_SPAN = extend_span(_rversions)
