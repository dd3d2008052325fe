"""What makes two captures the same article, and two extractions the same version.

These rules decide which rows exist, so the ingester and the schema
migrations share them; changing one changes what a rebuilt database holds
and needs a migration of its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlunsplit

from sqlalchemy import (
    Connection,
    DateTime,
    Integer,
    Table,
    Update,
    bindparam,
    case,
    column,
    or_,
    select,
    table,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from archive.seeds import host_in_domains
from archive.urls import UnparseableUrl, split_url

if TYPE_CHECKING:
    from archive.extract import Extraction

#: Query parameters that only say how a reader arrived (campaign tags, click ids): never part of a story's address.
TRACKING_PARAMETERS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "ocid", "_ga"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_form(url: str) -> str:
    """The URL with case, default port, fragment and tracking parameters normalised away.

    :class:`~archive.urls.UnparseableUrl` if the URL, or what it normalises to, cannot be parsed.
    """
    parts = split_url(url.strip())
    host = parts.host
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not (k.lower().startswith("utm_") or k.lower() in TRACKING_PARAMETERS)]
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    return split_url(urlunsplit((parts.scheme, host, parts.path or "/", query, ""))).url


def story_url(canonical_url: str | None, capture_url: str, domains: Iterable[str] | None) -> str:
    """The address an article is known by: the page's declared canonical URL when it is on
    the outlet's own domains (or, for a page of no known outlet, on the page's host), else
    the URL the page was captured at (the end of any redirect chain).

    A canonical URL that cannot be parsed counts as none; ``capture_url`` must be parseable
    (it is, once indexed), and is kept as it is if its normal form is not.
    """
    capture = split_url(capture_url)
    if canonical_url:
        try:
            canonical = split_url(canonical_url.strip())
            allowed = list(domains) if domains else [capture.host]
            if canonical.scheme in DEFAULT_PORTS and canonical.host and host_in_domains(canonical.host, allowed):
                return canonical_form(canonical_url)
        except UnparseableUrl:
            pass
    try:
        return canonical_form(capture_url)
    except UnparseableUrl:
        return capture_url


def content_hash(title: str | None, text: str) -> str:
    """SHA-256 (hex) of the headline and text: a new article version exactly when it changes."""
    return hashlib.sha256(json.dumps([title or "", text], ensure_ascii=False).encode("utf-8")).hexdigest()


def version_values(
    article_id: int, extraction: Extraction, canonical_url: str | None, capture_id: int, seen_at: datetime
) -> dict[str, Any]:
    """The columns of a new version showing ``extraction``, first and last seen in one capture: the same for
    the crawl-time versions and the re-extracted ones (``article_versions``, ``reextracted_versions``)."""
    return {
        "article_id": article_id,
        "content_hash": content_hash(extraction.title, extraction.text),
        "title": extraction.title,
        "author": extraction.author,
        "published": extraction.published,
        "sitename": extraction.sitename,
        "language": extraction.language,
        "canonical_url": canonical_url,
        "description": extraction.description,
        "license": extraction.license,
        "text": extraction.text,
        "extractor": extraction.extractor,
        "extractor_version": extraction.extractor_version,
        "method": extraction.method,
        "og_type": extraction.og_type,
        "schema_types": extraction.schema_types,
        "first_capture_id": capture_id,
        "last_capture_id": capture_id,
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
    }


def extend_span(versions: Table) -> Update:
    """The statement widening a version's span (``version_id``) to a capture (``capture_id``, ``seen_at``)
    earlier than its first or later than its last, by time then id: the same rule for the crawl-time
    versions and the re-extracted ones, whatever order captures are indexed in."""
    seen_at, capture_id = bindparam("seen_at", type_=DateTime()), bindparam("capture_id", type_=Integer())
    earlier = tuple_(versions.c.first_seen_at, versions.c.first_capture_id) > tuple_(seen_at, capture_id)
    later = tuple_(versions.c.last_seen_at, versions.c.last_capture_id) < tuple_(seen_at, capture_id)
    return (
        update(versions)
        .where(versions.c.id == bindparam("version_id"))
        .values(
            first_seen_at=case((earlier, seen_at), else_=versions.c.first_seen_at),
            first_capture_id=case((earlier, capture_id), else_=versions.c.first_capture_id),
            last_seen_at=case((later, seen_at), else_=versions.c.last_seen_at),
            last_capture_id=case((later, capture_id), else_=versions.c.last_capture_id),
        )
    )


#: Only the columns alias bookkeeping needs, so migrations can use it whatever the models become.
_urls = table("urls", column("id", Integer), column("canonical_id", Integer))


def make_alias(db: Connection | Session, alias_id: int, target_id: int) -> None:
    """Record that one URL leads to another: the alias, and every alias of it, then point
    at the target's canonical URL, so an alias is always one step from its canonical URL."""
    root = db.execute(select(_urls.c.canonical_id).where(_urls.c.id == target_id)).scalar() or target_id
    if root == alias_id:
        return  # a redirect loop, or the target already leads here
    db.execute(
        update(_urls).where(or_(_urls.c.id == alias_id, _urls.c.canonical_id == alias_id)).values(canonical_id=root)
    )
