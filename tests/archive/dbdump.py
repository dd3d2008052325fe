"""The content of an archive database by natural keys (URLs, record ids), not row ids.

Two databases built from the same WARC records hold the same content even
when their row ids differ (another backend, another order of files). Every
table :data:`archive.db.maintenance.INDEX_TABLES` names is here, with every
column but row ids, so a rebuild that loses a table or a column is caught.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from archive.db.models import (
    Article,
    ArticleVersion,
    Capture,
    CaptureDecision,
    FetchError,
    Listing,
    Observation,
    Outlet,
    RecheckCount,
    RecheckSchedule,
    ReextractedVersion,
    Reextraction,
    Story,
    StoryArticle,
    Url,
)

#: The trailing columns of the versions' rows that say how each was made (migration 0008): a database
#: migrated from before it has them empty, one rebuilt from the WARCs has them filled.
PROVENANCE_COLUMNS = 3
#: The tables of re-extraction's own chain of versions (:mod:`archive.db.reextractions`).
REEXTRACTION_TABLES = ("reextracted_versions", "reextractions")


def dump(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every WARC-derived row (and story membership), as sorted tuples of natural values."""
    canonical = aliased(Url)
    original = aliased(Capture)
    first, last = aliased(Capture), aliased(Capture)
    body = aliased(Capture)
    tables: dict[str, Any] = {
        "outlets": select(Outlet.name, Outlet.homepage, Outlet.domains, Outlet.recheck, Outlet.path_prefix),
        "urls": select(Url.url, Url.host, Outlet.name, canonical.url)
        .outerjoin(Outlet, Outlet.id == Url.outlet_id)
        .outerjoin(canonical, canonical.id == Url.canonical_id),
        "captures": select(
            Capture.record_id,
            Url.url,
            Capture.fetched_at,
            Capture.status,
            Capture.content_type,
            Capture.payload_digest,
            Capture.ip_address,
            Capture.redirect_url,
            Capture.truncated,
            Capture.is_revisit,
            Capture.revisit_profile,
            Capture.refers_to_record_id,
            Capture.refers_to_uri,
            Capture.refers_to_date,
            Capture.etag,
            Capture.last_modified,
            original.record_id,
            Capture.warc_filename,
            Capture.warc_offset,
            Capture.warc_length,
        )
        .join(Url, Url.id == Capture.url_id)
        .outerjoin(original, original.id == Capture.original_id),
        "listings": select(Url.url, Capture.record_id, Listing.published, Listing.source)
        .join(Url, Url.id == Listing.url_id)
        .join(Capture, Capture.id == Listing.listed_in_id),
        "fetch_errors": select(
            FetchError.record_id,
            Url.url,
            FetchError.at,
            FetchError.error,
            FetchError.warc_filename,
            FetchError.warc_offset,
            FetchError.warc_length,
        ).join(Url, Url.id == FetchError.url_id),
        "articles": select(
            Url.url,
            Outlet.name,
            Article.first_seen_at,
            Article.published,
            Article.listed_published,
            Article.listed_source,
        )
        .join(Url, Url.id == Article.url_id)
        .outerjoin(Outlet, Outlet.id == Article.outlet_id),
        "versions": select(
            Url.url,
            ArticleVersion.content_hash,
            ArticleVersion.title,
            ArticleVersion.author,
            ArticleVersion.published,
            ArticleVersion.sitename,
            ArticleVersion.language,
            ArticleVersion.canonical_url,
            ArticleVersion.description,
            ArticleVersion.license,
            ArticleVersion.text,
            ArticleVersion.extractor,
            ArticleVersion.extractor_version,
            first.record_id,
            last.record_id,
            ArticleVersion.first_seen_at,
            ArticleVersion.last_seen_at,
            # last: what migration 0008 added (PROVENANCE_COLUMNS)
            ArticleVersion.method,
            ArticleVersion.og_type,
            ArticleVersion.schema_types,
        )
        .join(Article, Article.id == ArticleVersion.article_id)
        .join(Url, Url.id == Article.url_id)
        .join(first, first.id == ArticleVersion.first_capture_id)
        .join(last, last.id == ArticleVersion.last_capture_id),
        "observations": select(
            Capture.record_id,
            Url.url,
            ArticleVersion.content_hash,
            Observation.record_id,
            Observation.warc_filename,
            Observation.warc_offset,
            Observation.warc_length,
        )
        .join(Capture, Capture.id == Observation.capture_id)
        .join(ArticleVersion, ArticleVersion.id == Observation.version_id)
        .join(Article, Article.id == ArticleVersion.article_id)
        .join(Url, Url.id == Article.url_id),
        "reextracted_versions": select(
            Url.url,
            ReextractedVersion.extractor_version,
            ReextractedVersion.content_hash,
            ReextractedVersion.title,
            ReextractedVersion.author,
            ReextractedVersion.published,
            ReextractedVersion.sitename,
            ReextractedVersion.language,
            ReextractedVersion.canonical_url,
            ReextractedVersion.description,
            ReextractedVersion.license,
            ReextractedVersion.text,
            ReextractedVersion.extractor,
            ReextractedVersion.method,
            ReextractedVersion.og_type,
            ReextractedVersion.schema_types,
            first.record_id,
            last.record_id,
            ReextractedVersion.first_seen_at,
            ReextractedVersion.last_seen_at,
        )
        .join(Article, Article.id == ReextractedVersion.article_id)
        .join(Url, Url.id == Article.url_id)
        .join(first, first.id == ReextractedVersion.first_capture_id)
        .join(last, last.id == ReextractedVersion.last_capture_id),
        "reextractions": select(
            Capture.record_id,
            ReextractedVersion.content_hash,
            Reextraction.run,
            Reextraction.original_record_id,
            Reextraction.extractor,
            Reextraction.extractor_version,
            Reextraction.reextracted_at,
            Reextraction.record_id,
            Reextraction.warc_filename,
            Reextraction.warc_offset,
            Reextraction.warc_length,
        )
        .join(Capture, Capture.id == Reextraction.capture_id)
        .outerjoin(ReextractedVersion, ReextractedVersion.id == Reextraction.version_id),
        "capture_decisions": select(
            Capture.record_id,
            Url.url,
            CaptureDecision.is_article,
            CaptureDecision.rule,
            CaptureDecision.reasons,
            CaptureDecision.evidence,
            CaptureDecision.shape,
            CaptureDecision.record_id,
            CaptureDecision.warc_filename,
            CaptureDecision.warc_offset,
            CaptureDecision.warc_length,
        )
        .join(Capture, Capture.id == CaptureDecision.capture_id)
        .join(Url, Url.id == CaptureDecision.url_id),
        "recheck_schedule": select(
            Url.url,
            Outlet.name,
            RecheckSchedule.state,
            RecheckSchedule.next_check_at,
            RecheckSchedule.last_checked_at,
            RecheckSchedule.last_changed_at,
            last.record_id,
            body.record_id,
            RecheckSchedule.etag,
            RecheckSchedule.last_modified,
            RecheckSchedule.url,
            RecheckSchedule.body_record_id,
            RecheckSchedule.body_fetched_at,
            RecheckSchedule.body_digest,
        )
        .join(Article, Article.id == RecheckSchedule.article_id)
        .join(Url, Url.id == Article.url_id)
        .outerjoin(Outlet, Outlet.id == RecheckSchedule.outlet_id)
        .join(last, last.id == RecheckSchedule.last_capture_id)
        .outerjoin(body, body.id == RecheckSchedule.body_capture_id),
        # outlet_id 0 (articles of no outlet) joins no outlet: its name is None
        "recheck_counts": select(Outlet.name, RecheckCount.hour, RecheckCount.checks).outerjoin(
            Outlet, Outlet.id == RecheckCount.outlet_id
        ),
        "story_articles": select(Story.name, Url.url, StoryArticle.matched_terms, StoryArticle.seed)
        .join(Story, Story.id == StoryArticle.story_id)
        .join(Article, Article.id == StoryArticle.article_id)
        .join(Url, Url.id == Article.url_id),
    }
    return {
        name: sorted((tuple(_plain(v) for v in row) for row in session.execute(query)), key=repr)
        for name, query in tables.items()
    }


def _plain(value: Any) -> Any:
    """A JSON value as a hashable, comparable one: lists as tuples, objects as sorted item tuples."""
    if isinstance(value, list):
        return tuple(_plain(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, _plain(item)) for key, item in value.items()))
    return value
