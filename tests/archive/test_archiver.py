from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.archiver import Archiver, ArchiverError
from archive.db import Article, Capture, FetchError, Outlet, Url, open_database, session_factory
from archive.db.ingester import Ingester
from archive.extract import Extraction
from archive.format import OUTLETS_FIELD, article_payload, fetch_error_payload, outlets_field
from archive.warc import HttpExchange, WarcWriter, iter_records, read_record

WHEN = datetime(2019, 2, 28, 15, 0, tzinfo=timezone.utc)
OUTLETS = [{"name": "Example News", "homepage": "http://www.example.com/", "allowed_domains": ["example.com"]}]


def page(url: str, status: int = 200, body: bytes = b"<html>story</html>") -> HttpExchange:
    return HttpExchange(
        url=url,
        method="GET",
        request_headers=[(b"Host", b"www.example.com")],
        status=status,
        response_headers=[(b"Content-Type", b"text/html")],
        body=body,
        fetched_at=WHEN,
    )


@pytest.fixture
def sessions(tmp_path: Path):
    engine = open_database(f"sqlite:///{tmp_path / 'archive.db'}")
    yield session_factory(engine)
    engine.dispose()


def make_archiver(tmp_path: Path, sessions) -> Archiver:
    writer = WarcWriter(tmp_path / "warcs", info={"software": "test", OUTLETS_FIELD: outlets_field(OUTLETS)})
    return Archiver(writer, Ingester(sessions), batch_size=2)


def test_database_points_at_the_records_it_indexes(tmp_path: Path, sessions) -> None:
    archiver = make_archiver(tmp_path, sessions)
    story = page("http://www.example.com/news/story")
    archiver.submit_exchange(story)
    archiver.submit_exchange(page("http://www.example.com/gone", status=404, body=b"not here"))
    archiver.submit_exchange(page("http://elsewhere.org/", body=b"other"))
    archiver.submit_metadata(
        story.url,
        story.response_record_id,
        article_payload(None, Extraction(title="Story", text="story", extractor="trafilatura", extractor_version="9")),
        WHEN,
    )
    archiver.submit_metadata(
        "http://www.example.com/slow",
        None,
        fetch_error_payload(None, "TimeoutError: took too long"),
        WHEN,
    )
    archiver.close()

    warcs = archiver.writer.closed_files
    assert len(warcs) == 1
    with sessions() as session:
        outlet = session.scalars(select(Outlet)).one()
        assert (outlet.name, outlet.domains) == ("Example News", ["example.com"])
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
        assert [(c.url.url, c.status) for c in captures] == [
            ("http://www.example.com/news/story", 200),
            ("http://www.example.com/gone", 404),
            ("http://elsewhere.org/", 200),
        ]
        assert [c.url.outlet_id for c in captures] == [outlet.id, outlet.id, None]
        for capture in captures:
            record = read_record(warcs[0].parent / capture.warc_filename, capture.warc_offset)
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Record-ID") == capture.record_id
            assert record.rec_headers.get_header("WARC-Target-URI") == capture.url.url
        article = session.scalars(select(Article)).one()
        (version,) = article.versions
        (observation,) = version.observations
        assert (version.title, observation.capture.url.url, article.outlet_id) == ("Story", story.url, outlet.id)
        assert read_record(warcs[0], observation.warc_offset).rec_type == "metadata"
        error = session.scalars(select(FetchError)).one()
        assert (error.url.url, error.error) == ("http://www.example.com/slow", "TimeoutError: took too long")


def test_ingesting_the_same_records_again_adds_nothing(tmp_path: Path, sessions) -> None:
    archiver = make_archiver(tmp_path, sessions)
    archiver.submit_exchange(page("http://www.example.com/a"))
    archiver.close()
    ingester = Ingester(sessions)
    ingester.ingest(iter_records(archiver.writer.closed_files[0]))
    assert ingester.counts.captures == 0 and ingester.counts.skipped == 1
    with sessions() as session:
        assert len(session.scalars(select(Url)).all()) == 1


def test_an_article_whose_response_is_not_indexed_is_skipped(tmp_path: Path, sessions, caplog) -> None:
    archiver = make_archiver(tmp_path, sessions)
    archiver.submit_metadata(
        "http://www.example.com/a", "<urn:uuid:missing>", article_payload(None, Extraction(text="x")), WHEN
    )
    archiver.close()
    with sessions() as session:
        assert session.scalars(select(Article)).all() == []
    assert "not indexed" in caplog.text


def test_a_write_failure_stops_further_submissions(tmp_path: Path, sessions) -> None:
    blocker = tmp_path / "warcs"
    blocker.write_text("a file where the WARC folder should be")
    with pytest.raises(FileExistsError):
        make_archiver(tmp_path, sessions)
    writer = WarcWriter(tmp_path / "ok", info={"software": "test"})
    archiver = Archiver(writer, Ingester(sessions))
    writer.directory = blocker  # the disk goes away under the writer
    archiver.submit_exchange(page("http://www.example.com/a"))
    with pytest.raises(ArchiverError):
        archiver.close()
