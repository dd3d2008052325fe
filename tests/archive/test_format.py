"""The archive's own record format: what the crawler writes is what the ingester and packager read."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from archive.extract import Extraction
from archive.format import (
    ARTICLE,
    FETCH_ERROR,
    LISTING,
    OUTLETS_FIELD,
    ArticleRecord,
    FetchErrorRecord,
    ListedEntry,
    ListingRecord,
    article_payload,
    fetch_error_payload,
    listing_payload,
    outlets_field,
    outlets_in,
    parse_metadata,
)
from archive.warc import WarcWriter, iter_records
from archive.warc.records import metadata_record

WHEN = datetime(2019, 2, 28, 15, 0, tzinfo=timezone.utc)
OUTLETS = [{"name": "Común", "homepage": "https://común.example/", "allowed_domains": ["común.example"]}]


def written(tmp_path: Path, payloads: list[dict[str, object]]) -> list[dict[str, object] | None]:
    """The payloads as a reader finds them after a round trip through a real WARC file."""
    writer = WarcWriter(tmp_path, info={"software": "test", OUTLETS_FIELD: outlets_field(OUTLETS)})
    writer.write(metadata_record(writer.builder, "http://x.example/", None, p, WHEN) for p in payloads)
    writer.close()
    return [r.data for r in iter_records(writer.closed_files[0])]


def test_every_kind_survives_a_round_trip_through_a_warc_file(tmp_path: Path) -> None:
    extraction = Extraction(text="Body.", title="Headline", published="2019-02-28", extractor_version="9.9")
    info, article, listing, error = written(
        tmp_path,
        [
            article_payload("Outlet", extraction),
            listing_payload("Outlet", "sitemap", [("http://x.example/a", "2019-02-27"), ("http://x.example/b", None)]),
            fetch_error_payload(None, "TimeoutError: took too long"),
        ],
    )
    assert outlets_in(info) == OUTLETS
    assert parse_metadata(article) == ArticleRecord(extraction, "Outlet")
    assert parse_metadata(listing) == ListingRecord(
        entries=[ListedEntry("http://x.example/a", "2019-02-27"), ListedEntry("http://x.example/b")],
        source="sitemap",
        outlet="Outlet",
    )
    assert parse_metadata(error) == FetchErrorRecord(error="TimeoutError: took too long")


def test_payloads_name_their_kind_and_version() -> None:
    assert article_payload(None, Extraction(text="x"))["newsarchive"] == ARTICLE == "article/1"
    assert listing_payload(None, "feed", [])["newsarchive"] == LISTING == "listing/1"
    assert fetch_error_payload(None, "e")["newsarchive"] == FETCH_ERROR == "fetch-error/1"


def test_an_article_from_an_older_writer_reads_with_defaults() -> None:
    assert parse_metadata({"newsarchive": ARTICLE, "title": "T"}) == ArticleRecord(
        Extraction(text="", title="T", extractor="unknown", extractor_version="unknown")
    )


def test_unknown_kinds_and_versions_are_passed_by() -> None:
    assert parse_metadata({"newsarchive": "article/2", "text": "x"}) is None
    assert parse_metadata({"newsarchive": "something-else/1"}) is None
    assert parse_metadata({"other": "tool"}) is None
    assert parse_metadata(None) is None


def test_a_warcinfo_without_outlets_names_none() -> None:
    assert outlets_in({"software": "wget"}) == []
    assert outlets_in(None) == []
    assert json.loads(outlets_field(OUTLETS)) == OUTLETS
