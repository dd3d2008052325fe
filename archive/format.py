"""The archive's own record format: what this project writes into WARC files besides HTTP exchanges.

The WARC files are the source of truth, and the database can be rebuilt from
them alone, because everything the database holds that is not an HTTP
exchange travels in the WARCs too, in the records this module defines:

- the ``warcinfo`` record of each file names the crawl's outlets in the field
  ``newsarchive-outlets`` (JSON: name, homepage, allowed domains);
- ``metadata`` records (``Content-Type: application/json``, built by
  :func:`archive.warc.records.metadata_record`) carry a JSON object whose key
  ``newsarchive`` names its kind and version:

  ``article/1``
      what the extractor read from a response (``WARC-Refers-To`` it): text,
      title, author, dates, language, canonical URL, licence, extractor and
      its version;
  ``listing/1``
      the entries of a feed or sitemap response (``WARC-Refers-To`` it), each
      URL with the publication date the listing gave, if any;
  ``fetch-error/1``
      a request that got no HTTP response at all (timeout, refused
      connection), at its URL and time;
  ``decision/1``
      whether a page fetched as an article candidate was counted as one
      (``WARC-Refers-To`` its response), the rule that decided and the
      evidence, URL and page (:func:`archive.urlshape.article_decision`): a
      page decided not to be an article has this record and no
      ``article/1``, so a researcher can read why it was not counted;
  ``reextraction/1``
      what the current extractor read again from an archived response
      (``WARC-Refers-To`` it), written by ``newsarchive reextract`` into a
      WARC file of its own: the run, the ``article/1`` record it re-does
      (``original``), the extractor and its version, and the extraction
      (``article``, null when the page held no article for this extractor).
      A kind of its own, not a second ``article/1``: the crawl-time
      extraction stays what researchers see by default, and a newer text is
      never taken for an edit by the outlet.

  The ``WARC-Target-URI`` of these records is not the page's URL but
  ``urn:newsarchive:<kind>:<URL>`` (built by :func:`metadata_target`), as
  Browsertrix names its derived records ``urn:pageinfo:<URL>`` and
  ``urn:text:<URL>``: replay tools and indexers that index every record
  (pywb, cdxj-indexer) then file them under a key of their own, never as a
  capture of the page, which pywb would otherwise replay as the page when the
  JSON is nearer in time. ``WARC-Refers-To`` still ties an article or listing
  to its response. Files written before this convention name the page's URL
  itself; :func:`described_url` reads both. The payloads did not change, so
  neither did their versions: the convention is the record's, not the kind's.

The crawler builds payloads with the ``*_payload`` functions (and target URIs
with :func:`metadata_target`), and the ingester, the WACZ packager and the
tests read them with :func:`parse_metadata`, :func:`described_url` and
:func:`outlets_in`, so the two sides cannot drift apart. A kind or
version this code does not know is not an error: :func:`parse_metadata`
returns None and readers pass the record by, so an older newsarchive can
rebuild from a newer crawl's files what it understands.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from archive.extract import Extraction

__all__ = [
    "ARTICLE",
    "DECISION",
    "FETCH_ERROR",
    "KIND_KEY",
    "LISTING",
    "OUTLETS_FIELD",
    "ArticleRecord",
    "DecisionRecord",
    "FetchErrorRecord",
    "ListedEntry",
    "ListingRecord",
    "ReextractionRecord",
    "article_payload",
    "decision_payload",
    "described_url",
    "fetch_error_payload",
    "listing_payload",
    "metadata_target",
    "outlets_field",
    "outlets_in",
    "parse_metadata",
    "reextraction_payload",
]

#: The key of a metadata payload that names its kind and version.
KIND_KEY = "newsarchive"
ARTICLE = "article/1"
LISTING = "listing/1"
FETCH_ERROR = "fetch-error/1"
DECISION = "decision/1"
REEXTRACTION = "reextraction/1"
#: The warcinfo field listing the crawl's outlets, as JSON.
OUTLETS_FIELD = "newsarchive-outlets"
#: How a metadata record's WARC-Target-URI starts: then its kind's name, a colon, and the URL it describes.
TARGET_PREFIX = "urn:newsarchive:"


#: What an ``article/1`` record written without them says of the extractor and its version.
UNKNOWN_EXTRACTOR = "unknown"


@dataclass(frozen=True)
class ArticleRecord:
    """An ``article/1`` payload: one extraction of one response, by an outlet of the crawl."""

    extraction: Extraction
    outlet: str | None = None


@dataclass(frozen=True)
class ListedEntry:
    """One URL a feed or sitemap listed, with the publication date it gave (ISO), if any."""

    url: str
    published: str | None = None


@dataclass(frozen=True)
class ListingRecord:
    """A ``listing/1`` payload: what one feed or sitemap response listed."""

    entries: list[ListedEntry]
    source: str = "feed"  # "feed" or "sitemap"
    outlet: str | None = None


@dataclass(frozen=True)
class FetchErrorRecord:
    """A ``fetch-error/1`` payload: why a request got no HTTP response."""

    error: str
    outlet: str | None = None


@dataclass(frozen=True)
class DecisionRecord:
    """A ``decision/1`` payload: whether a candidate page was counted as an article, by which rule, on what."""

    is_article: bool
    rule: str
    reasons: list[str]
    #: The evidence as :func:`archive.urlshape.article_decision` gives it: ``url`` (the URL's verdict), ``page``.
    evidence: dict[str, Any]
    outlet: str | None = None


@dataclass(frozen=True)
class ReextractionRecord:
    """A ``reextraction/1`` payload: one response extracted again, in one run, by a newer extractor."""

    run: str
    original: str | None  # the record id of the ``article/1`` record this re-does
    extractor: str
    extractor_version: str
    extraction: Extraction | None  # None: no article text for this extractor
    outlet: str | None = None


MetadataRecord = ArticleRecord | ListingRecord | FetchErrorRecord | DecisionRecord | ReextractionRecord


def article_payload(outlet: str | None, extraction: Extraction) -> dict[str, Any]:
    """The ``article/1`` payload of an extraction: its fields, and the outlet."""
    return {KIND_KEY: ARTICLE, "outlet": outlet, **extraction.to_dict()}


def reextraction_payload(
    outlet: str | None, run: str, original: str | None, extractor: tuple[str, str], extraction: Extraction | None
) -> dict[str, Any]:
    """The ``reextraction/1`` payload of a run's extraction of a response (``extractor``: name and version)."""
    return {
        KIND_KEY: REEXTRACTION,
        "outlet": outlet,
        "run": run,
        "original": original,
        "extractor": extractor[0],
        "extractor_version": extractor[1],
        "article": extraction.to_dict() if extraction is not None else None,
    }


def listing_payload(outlet: str | None, source: str, entries: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    """The ``listing/1`` payload of a feed or sitemap: (URL, ISO publication date or None) pairs."""
    return {
        KIND_KEY: LISTING,
        "outlet": outlet,
        "source": source,
        "entries": [{"url": url, "published": published} for url, published in entries],
    }


def fetch_error_payload(outlet: str | None, error: str) -> dict[str, Any]:
    """The ``fetch-error/1`` payload of a request that got no response."""
    return {KIND_KEY: FETCH_ERROR, "outlet": outlet, "error": error}


def decision_payload(outlet: str | None, decision: Mapping[str, Any]) -> dict[str, Any]:
    """The ``decision/1`` payload of :func:`archive.urlshape.article_decision`'s answer on a page."""
    return {
        KIND_KEY: DECISION,
        "outlet": outlet,
        "is_article": bool(decision["is_article"]),
        "rule": decision["rule"],
        "reasons": list(decision.get("reasons") or []),
        "url": decision.get("url") or {},
        "page": decision.get("page") or {},
    }


def metadata_target(payload: Mapping[str, Any], url: str) -> str:
    """The WARC-Target-URI of the metadata record carrying ``payload`` about ``url``:
    ``urn:newsarchive:article:https://…``, never a URL a replay tool would look up."""
    return f"{TARGET_PREFIX}{str(payload[KIND_KEY]).partition('/')[0]}:{url}"


def described_url(target_uri: str) -> str:
    """The URL a metadata record describes, from its WARC-Target-URI: the one inside a
    :func:`metadata_target` name, or the target itself in files written before that convention."""
    if target_uri.startswith(TARGET_PREFIX):
        _, sep, url = target_uri.removeprefix(TARGET_PREFIX).partition(":")
        if sep:
            return url
    return target_uri


def parse_metadata(data: Mapping[str, Any] | None) -> MetadataRecord | None:
    """The project record a metadata payload holds; None for a kind or version this code does not know."""
    if not data:
        return None
    kind = data.get(KIND_KEY)
    if kind == ARTICLE:
        return ArticleRecord(_extraction(data), data.get("outlet"))
    if kind == REEXTRACTION:
        article = data.get("article")
        return ReextractionRecord(
            run=str(data.get("run") or ""),
            original=data.get("original"),
            extractor=str(data.get("extractor") or UNKNOWN_EXTRACTOR),
            extractor_version=str(data.get("extractor_version") or UNKNOWN_EXTRACTOR),
            extraction=_extraction(article) if isinstance(article, Mapping) else None,
            outlet=data.get("outlet"),
        )
    if kind == LISTING:
        return ListingRecord(
            entries=[ListedEntry(entry["url"], entry.get("published")) for entry in data.get("entries", [])],
            source=str(data.get("source") or "feed"),
            outlet=data.get("outlet"),
        )
    if kind == FETCH_ERROR:
        return FetchErrorRecord(error=str(data.get("error") or "unknown error"), outlet=data.get("outlet"))
    if kind == DECISION:
        return DecisionRecord(
            is_article=data.get("is_article") is True,
            rule=str(data.get("rule") or ""),
            reasons=[str(reason) for reason in data.get("reasons") or []],
            evidence={"url": data.get("url") or {}, "page": data.get("page") or {}},
            outlet=data.get("outlet"),
        )
    return None


def _extraction(data: Mapping[str, Any]) -> Extraction:
    """The extraction an ``article/1`` payload (or a ``reextraction/1`` payload's ``article``) holds."""
    return Extraction(
        text=data.get("text") or "",
        title=data.get("title"),
        author=data.get("author"),
        published=data.get("published"),
        sitename=data.get("sitename"),
        language=data.get("language"),
        canonical_url=data.get("canonical_url"),
        description=data.get("description"),
        license=data.get("license"),
        extractor=data.get("extractor") or UNKNOWN_EXTRACTOR,
        extractor_version=data.get("extractor_version") or UNKNOWN_EXTRACTOR,
        warnings=list(data.get("warnings") or []),
        method=data.get("method") or UNKNOWN_EXTRACTOR,
        og_type=data.get("og_type"),
        schema_types=list(data.get("schema_types") or []),
    )


def outlets_field(outlets: Iterable[Mapping[str, Any]]) -> str:
    """The warcinfo value naming the crawl's outlets (each: name, homepage, allowed_domains)."""
    return json.dumps(list(outlets), ensure_ascii=False)


def outlets_in(warcinfo: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The outlets a warcinfo record's fields name (none for a file another tool wrote)."""
    raw = (warcinfo or {}).get(OUTLETS_FIELD)
    return list(json.loads(raw)) if raw else []
