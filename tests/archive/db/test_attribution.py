"""Which outlet a capture belongs to: the one whose domains own its host most specifically, then whose path
prefix its path starts with; the same in a rebuild; and the decisions on candidate pages kept beside them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from archive.db import Outlet, Url, open_database, session_factory
from archive.db.ingester import Ingester
from archive.db.models import CaptureDecision
from archive.db.shapes import learned_shapes
from archive.format import OUTLETS_FIELD, decision_payload, outlets_field
from archive.rebuild import rebuild
from archive.urlshape import article_decision, classify_url
from archive.warc import WarcWriter
from archive.warc.files import warc_files
from archive.warc.records import metadata_record
from tests.archive.recording import Recording, at

OUTLETS = [
    {"name": "Portal", "homepage": "http://www.x.org/", "allowed_domains": ["x.org"]},
    {"name": "Herald", "homepage": "http://www.x.org/herald/", "allowed_domains": ["x.org"], "path_prefix": "/herald/"},
    {"name": "Local", "homepage": "http://news.x.org/", "allowed_domains": ["news.x.org", "x.org"]},
]
OWNERS = {
    "http://www.x.org/about": "Portal",
    "http://www.x.org/herald/2019/02/28/summit-ends-without-a-deal": "Herald",
    "http://www.x.org/heraldry/": "Portal",
    "http://news.x.org/herald/story": "Local",  # the longest domain first, then the path
    "http://other.org/": None,
}


def recording(folder: Path) -> Recording:
    rec = Recording(folder)
    rec.writer = WarcWriter(folder, info={"software": "test", OUTLETS_FIELD: outlets_field(OUTLETS)})
    return rec


def outlets_of(database_url: str) -> dict[str, str | None]:
    engine = open_database(database_url)
    try:
        with session_factory(engine)() as session:
            query = select(Url.url, Outlet.name).outerjoin(Outlet, Outlet.id == Url.outlet_id)
            return dict(session.execute(query).all())
    finally:
        engine.dispose()


def test_the_most_specific_outlet_owns_each_capture_in_the_crawl_and_the_rebuild(
    tmp_path: Path, database_url: str
) -> None:
    rec = recording(tmp_path / "warcs")
    for i, url in enumerate(OWNERS):
        rec.page(url, "<html><body>page</body></html>", at(i))
    engine = open_database(database_url)
    Ingester(session_factory(engine)).ingest(rec.records)
    engine.dispose()
    rec.close()
    assert outlets_of(database_url) == OWNERS
    rebuilt = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    engine = open_database(rebuilt)
    rebuild(Ingester(session_factory(engine)), warc_files([tmp_path / "warcs"]))
    engine.dispose()
    assert outlets_of(rebuilt) == OWNERS


def test_decisions_are_kept_with_their_captures_and_outlets_learn_shapes_from_them(
    tmp_path: Path, database_url: str
) -> None:
    rec = recording(tmp_path / "warcs")
    pages = {
        "http://www.x.org/herald/2019/02/28/summit-ends-without-a-deal": (["article"], ["NewsArticle"], 3000),
        "http://www.x.org/herald/2019/03/01/talks-collapse-in-hanoi-today": (["article"], ["NewsArticle"], 2500),
        "http://www.x.org/herald/2019/03/01/all-our-summit-coverage-here": (["website"], ["CollectionPage"], 900),
    }
    for i, (url, (og, types, length)) in enumerate(pages.items()):
        response = rec.page(url, "<html><body>page</body></html>", at(i))
        decision = article_decision(
            classify_url(url), og_types=og, jsonld_types=types, has_published_date=True, text_length=length
        )
        payload = decision_payload("Herald", decision)
        rec._write([metadata_record(rec.writer.builder, url, response, payload, at(i))])
    engine = open_database(database_url)
    rec.close()
    Ingester(session_factory(engine)).ingest(rec.records)
    Ingester(session_factory(engine)).ingest(rec.records)  # twice: nothing added
    with session_factory(engine)() as session:
        decided = dict(session.execute(select(Url.url, CaptureDecision.is_article).join(CaptureDecision)).all())
        assert decided == {url: length > 1000 for url, (_, _, length) in pages.items()}
        with engine.connect() as connection:
            (shape,) = learned_shapes(connection)["Herald"]
    engine.dispose()
    assert (shape.shape, shape.articles, shape.not_articles, shape.proven) == (
        "/herald/{yyyy}/{mm}/{dd}/{slug}",
        2,
        1,
        True,
    )
    assert set(shape.examples) <= set(pages)
