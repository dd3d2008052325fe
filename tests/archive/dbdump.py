"""The content of an archive database by natural keys (URLs, record ids), not row ids.

Two databases built from the same WARC records hold the same content even
when their row ids differ (another backend, another order of files).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from archive.db.models import (
    Article,
    ArticleVersion,
    Capture,
    FetchError,
    Listing,
    Observation,
    Outlet,
    Story,
    StoryArticle,
    Url,
)


def dump(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every WARC-derived row (and story membership), as sorted tuples of natural values."""
    canonical = aliased(Url)
    original = aliased(Capture)
    first, last = aliased(Capture), aliased(Capture)
    tables: dict[str, Any] = {
        "outlets": select(Outlet.name, Outlet.homepage, Outlet.domains),
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
            ArticleVersion.text,
            ArticleVersion.extractor_version,
            first.record_id,
            last.record_id,
            ArticleVersion.first_seen_at,
            ArticleVersion.last_seen_at,
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
    return tuple(value) if isinstance(value, list) else value
