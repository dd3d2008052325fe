"""The archive's own record format: what the crawler writes is what the ingester and packager read."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from archive.db import open_database, session_factory
from archive.db.ingester import Ingester
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
    described_url,
    fetch_error_payload,
    listing_payload,
    metadata_target,
    outlets_field,
    outlets_in,
    parse_metadata,
)
from archive.index import IndexStore, cdxj_line
from archive.rebuild import rebuild
from archive.wacz import write_wacz
from archive.warc import WarcWriter, iter_records
from archive.warc.files import warc_files
from archive.warc.records import ArchivedRecord, RecordLocation, metadata_record
from tests.archive.dbdump import dump
from tests.archive.recording import Recording, at
from tests.tools import tool

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


def test_metadata_records_are_named_after_the_page_but_not_by_its_url() -> None:
    url = "https://www.example.com/news/a:b?c=d#e"
    article = metadata_target(article_payload(None, Extraction(text="x")), url)
    listing = metadata_target(listing_payload(None, "feed", []), url)
    error = metadata_target(fetch_error_payload(None, "e"), url)
    assert (article, listing, error) == (
        f"urn:newsarchive:article:{url}",
        f"urn:newsarchive:listing:{url}",
        f"urn:newsarchive:fetch-error:{url}",
    )
    assert described_url(article) == described_url(listing) == described_url(error) == url
    # files written before the convention name the page's URL itself
    assert described_url(url) == url
    assert described_url("urn:newsarchive:") == "urn:newsarchive:"


STORY = "http://www.example.com/news/story"
FEED = "http://www.example.com/feed.xml"
FAILED = "http://www.example.com/news/timeout"


def write_crawl(folder: Path) -> None:
    """A page with its article, a feed with its listing, and a fetch error, as the crawler names them now."""
    rec = Recording(folder)
    response = rec.page(STORY, "<html>Summit ends</html>", at(0))
    payload = article_payload(None, Extraction(text="Talks collapsed.", title="Summit ends"))
    rec._write([metadata_record(rec.writer.builder, metadata_target(payload, STORY), response, payload, at(0))])
    feed = rec.page(FEED, "<rss/>", at(0.1))
    payload = listing_payload(None, "feed", [(STORY, "2019-02-28")])
    rec._write([metadata_record(rec.writer.builder, metadata_target(payload, FEED), feed, payload, at(0.1))])
    payload = fetch_error_payload(None, "TimeoutError: took too long")
    rec._write([metadata_record(rec.writer.builder, metadata_target(payload, FAILED), None, payload, at(0.2))])
    rec.close()


def as_before_the_convention(source: Path, folder: Path) -> None:
    """The same records (ids, dates, payloads), with the page's URL as the metadata records' target."""
    folder.mkdir()
    for path in sorted(source.glob("*.warc.gz")):
        with path.open("rb") as f, (folder / path.name).open("wb") as out:
            writer = WARCWriter(out, gzip=True)
            for record in ArchiveIterator(f):
                if record.rec_type == "metadata":
                    target = record.rec_headers.get_header("WARC-Target-URI")
                    record.rec_headers.replace_header("WARC-Target-URI", described_url(target))
                writer.write_record(record)


#: The trailing columns of dbdump's tables that locate a record in its file: rewritten headers move them.
OFFSET_COLUMNS = {"captures": 2, "fetch_errors": 2, "observations": 2, "capture_decisions": 2, "reextractions": 2}


def ingested(folder: Path, database_url: str) -> dict:
    """The database rebuilt from ``folder``, without where records sit in their files."""
    engine = open_database(database_url)
    try:
        assert rebuild(Ingester(session_factory(engine)), warc_files([folder])).damaged == []
        with session_factory(engine)() as session:
            rows = dump(session)
    finally:
        engine.dispose()
    return {table: [row[: len(row) - OFFSET_COLUMNS.get(table, 0)] for row in found] for table, found in rows.items()}


def packaged_pages(folder: Path) -> list[dict[str, object]]:
    index = IndexStore(folder.parent / f"{folder.name}-indexes")
    summary = write_wacz(folder.parent / f"{folder.name}.wacz", folder, index)
    with zipfile.ZipFile(summary.path) as wacz:
        return [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()]


@pytest.mark.parametrize("new_database_url", ["sqlite"], indirect=True)
def test_files_of_either_target_convention_are_ingested_and_packaged_alike(
    tmp_path: Path, new_database_url: Callable[[], str]
) -> None:
    write_crawl(tmp_path / "now")
    as_before_the_convention(tmp_path / "now", tmp_path / "before")
    targets = {r.target_uri for path in sorted((tmp_path / "before").glob("*.warc.gz")) for r in iter_records(path)}
    assert not any(t.startswith("urn:newsarchive:") for t in targets) and FAILED in targets

    now, before = ingested(tmp_path / "now", new_database_url()), ingested(tmp_path / "before", new_database_url())
    assert now == before
    assert [row for row in now["fetch_errors"] if FAILED in row] and not any(
        "urn:newsarchive:" in str(row) for rows in now.values() for row in rows
    )
    assert packaged_pages(tmp_path / "now") == packaged_pages(tmp_path / "before")


@pytest.mark.parametrize("indexer", ["cdx-indexer", "cdxj-indexer"])
def test_tools_indexing_every_record_list_only_the_page_under_its_url(tmp_path: Path, indexer: str) -> None:
    """pywb's and cdxj-indexer's indexes list metadata records too: named by the page's URL and in
    the same second, the article's JSON was replayed in place of the page; named by a URN, never."""
    write_crawl(tmp_path / "warcs")
    (warc,) = sorted((tmp_path / "warcs").glob("*.warc.gz"))
    done = subprocess.run([str(tool(indexer)), str(warc)], capture_output=True, text=True, check=True)
    lines = [line for line in done.stdout.splitlines() if line and not line.startswith(" CDX")]
    (page,) = [line for line in lines if line.startswith("com,example)/news/story ")]
    assert "text/html" in page
    derived = [line for line in lines if "urn:newsarchive:" in line]
    assert len(derived) == 3 and all(line.startswith("urn:newsarchive:") for line in derived)


def test_our_index_never_lists_a_derived_record_as_a_capture_of_the_page() -> None:
    url = "http://www.example.com/news/story"

    def record(rec_type: str, target: str) -> ArchivedRecord:
        return ArchivedRecord(rec_type, "<urn:uuid:1>", target, WHEN, RecordLocation("f.warc.gz", 0, 1), None, 200)

    assert cdxj_line(record("metadata", metadata_target(article_payload(None, Extraction(text="x")), url))) is None
    assert cdxj_line(record("metadata", url)) is None  # older files: skipped by type
    # another tool's derived resource record (Browsertrix's page info) is keyed by its own name
    line = cdxj_line(record("resource", f"urn:pageinfo:{url}"))
    assert line is not None and line.startswith(f"urn:pageinfo:{url} ")
