"""Re-extraction (archive/reextract.py): the fixture web's saved pages archived with extractions an older
extractor version made, read again from their WARC records by the current extractor in worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, aliased
from warcio.archiveiterator import ArchiveIterator

from archive.cli import main
from archive.config import ArchivePaths
from archive.db import Base, open_database, session_factory
from archive.db.ingester import Ingester
from archive.db.maintenance import clear_index
from archive.db.models import ArticleVersion, Capture, ReextractedVersion, Reextraction
from archive.db.session import alembic_config
from archive.extract import EXTRACTOR, EXTRACTOR_VERSION, HEURISTICS, extract_article
from archive.format import OUTLETS_FIELD, REEXTRACTION, outlets_field
from archive.queries.versions import reextracted_versions_query, versions_query
from archive.rebuild import rebuild
from archive.reextract import ReextractProgress, Selection, reextract
from archive.reprints import clear_reprints
from archive.search.index import clear_search_index
from archive.warc.files import closed_warcs
from tests.archive.db.test_session import models_context
from tests.archive.dbdump import PROVENANCE_COLUMNS, REEXTRACTION_TABLES, dump
from tests.archive.recording import T0, Recording, at
from tests.conftest import REPO
from tests.fixtureweb.data import load_seeds
from tests.fixtureweb.test_server import site_file

SEEDS = load_seeds()
OLD = "2.0"  # the extractor version of the archived extractions (an older trafilatura-only extractor)
STALE = "Stale text an older extractor kept, with the comment form and the newsletter box."
EMPTY_PAGE = "http://www.commondreams.org/news/2019/02/28/empty"
NAV_ONLY = '<html><head><title>Empty</title></head><body><nav><a href="/">Home</a></nav></body></html>'


def page(url: str) -> str:
    return site_file(url).read_text(encoding="utf-8")


def current(url: str) -> Any:
    """What the current extractor reads from a saved page (as the crawler would, in this process)."""
    extraction = extract_article(page(url), url, T0)
    assert extraction is not None
    return extraction


class Archive:
    """Captures of the fixture web's saved pages, with ``article/1`` records as an older extractor wrote them."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.paths = ArchivePaths.resolve(data_dir=folder, database_url=database_url)
        rec = Recording(self.paths.warc_dir)
        rec.writer.info[OUTLETS_FIELD] = outlets_field(
            [
                {"name": seed.outlet, "homepage": f"http://{seed.host}/", "allowed_domains": [seed.host]}
                for seed in SEEDS
            ]
        )
        story, other, own = SEEDS[0].url, SEEDS[1].url, SEEDS[2].url
        # the first story twice with the older extractor's text: one re-extracted version, two captures
        self.changed = []
        for hours in (0, 1):
            response = rec.page(story, page(story), at(hours))
            rec.article(response, story, SEEDS[0].title, STALE, at(hours), extractor_version=OLD)
            self.changed.append(response)
        # read by the older version exactly as the current one reads it: unchanged
        response = rec.page(other, page(other), at(2))
        now = current(other)
        rec.article(response, other, now.title, now.text, at(2), extractor_version=OLD, method=HEURISTICS)
        self.unchanged = response
        # a page in which the current extractor finds no article at all
        response = rec.page(EMPTY_PAGE, NAV_ONLY, at(3))
        rec.article(response, EMPTY_PAGE, "Empty", STALE, at(3), extractor_version=OLD)
        self.no_article = response
        # extracted by the current version at crawl time: only --force takes it
        response = rec.page(own, page(own), at(4))
        now = current(own)
        rec.article(response, own, now.title, now.text, at(4), extractor=EXTRACTOR, extractor_version=EXTRACTOR_VERSION)
        self.own = response
        rec.close()
        self.files = {path: path.read_bytes() for path in closed_warcs(self.paths.warc_dir)}
        self.engine = open_database(database_url)
        self.sessions = session_factory(self.engine)
        Ingester(self.sessions).ingest(rec.records)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        with self.sessions() as session:
            return dump(session)

    def originals(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows of the crawl-time records: everything but the re-extractions' own tables."""
        return {table: rows for table, rows in self.dump().items() if table not in REEXTRACTION_TABLES}

    def reextractions(self) -> list[tuple[Any, ...]]:
        with self.sessions() as session:
            return reextraction_rows(session)

    def new_files(self) -> list[Path]:
        return [path for path in closed_warcs(self.paths.warc_dir) if path not in self.files]


def reextraction_rows(session: Session) -> list[tuple[Any, ...]]:
    """The re-extractions by natural keys: response, record, run, extractor version, and the version's text."""
    capture, first, last = aliased(Capture), aliased(Capture), aliased(Capture)
    rows = session.execute(
        select(
            capture.record_id,
            Reextraction.record_id,
            Reextraction.run,
            Reextraction.original_record_id,
            Reextraction.extractor_version,
            Reextraction.warc_filename,
            Reextraction.warc_offset,
            ReextractedVersion.content_hash,
            ReextractedVersion.title,
            ReextractedVersion.method,
            ReextractedVersion.schema_types,
            first.record_id,
            last.record_id,
        )
        .join(capture, capture.id == Reextraction.capture_id)
        .outerjoin(ReextractedVersion, ReextractedVersion.id == Reextraction.version_id)
        .outerjoin(first, first.id == ReextractedVersion.first_capture_id)
        .outerjoin(last, last.id == ReextractedVersion.last_capture_id)
    ).all()
    return sorted((tuple(row) for row in rows), key=repr)


def without_provenance(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows without how each version was made, which a database migrated from before 0008 does not know."""
    return {**rows, "versions": [row[:-PROVENANCE_COLUMNS] for row in rows["versions"]]}


@pytest.fixture
def archive(tmp_path: Path, database_url: str) -> Any:
    made = Archive(tmp_path, database_url)
    yield made
    made.engine.dispose()


def warcio_check(path: Path) -> None:
    warcio = Path(sys.executable).parent / "warcio"
    done = subprocess.run([str(warcio), "check", "-v", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def metadata_payloads(path: Path) -> list[tuple[str, dict[str, Any]]]:
    with path.open("rb") as f:
        return [
            (record.rec_headers.get_header("WARC-Refers-To"), json.loads(record.content_stream().read()))
            for record in ArchiveIterator(f)
            if record.rec_type == "metadata"
        ]


def test_reextraction_adds_its_own_versions_and_leaves_the_originals(
    archive: Archive, new_database_url: Callable[[], str]
) -> None:
    before = archive.originals()
    report = reextract(archive.paths, Selection(), workers=2, chunk=2)

    counts = report.counts
    assert (counts.selected, counts.changed, counts.unchanged, counts.no_article, counts.errors) == (4, 2, 1, 1, 0)
    assert not report.interrupted
    # the originals: the same WARC bytes, the same rows
    assert {path: path.read_bytes() for path in archive.files} == archive.files
    assert archive.originals() == before
    (written,) = archive.new_files()
    assert report.warc_files == [written]
    warcio_check(written)
    payloads = metadata_payloads(written)
    assert sorted(refers for refers, _ in payloads) == sorted([*archive.changed, archive.unchanged, archive.no_article])
    assert {(p["newsarchive"], p["run"], p["extractor_version"]) for _, p in payloads} == {
        (REEXTRACTION, report.run, EXTRACTOR_VERSION)
    }
    assert all(p["original"] for _, p in payloads)
    assert [p["article"] for refers, p in payloads if refers == archive.no_article] == [None]

    with archive.sessions() as session:
        originals = session.execute(versions_query()).mappings().all()
        again = session.execute(reextracted_versions_query(EXTRACTOR_VERSION)).mappings().all()
        reread = session.scalars(select(ReextractedVersion)).all()
    assert len(originals) == 4  # the crawl-time versions are still what researchers see
    assert {row["extractor_version"] for row in originals} == {OLD, EXTRACTOR_VERSION}
    # the first story: its two captures re-extracted to one version, with the saved page's text, not the stale one
    (first,) = [row for row in again if row["headline"] == SEEDS[0].title]
    assert first["captures"] == 2 and (first["first_seen"], first["last_seen"]) == (
        at(0).replace(tzinfo=None),
        at(1).replace(tzinfo=None),
    )
    assert SEEDS[0].body_lines[0][:60] in first["text"] and STALE not in first["text"]
    assert len(again) == 2 and {row["extractor_version"] for row in again} == {EXTRACTOR_VERSION}
    assert {version.method for version in reread} <= {"structured-data", "heuristics", "fallback"}
    assert all(version.schema_types is not None for version in reread)

    # nothing left to do; --force takes the capture the current version read at crawl time, and finds it unchanged
    assert reextract(archive.paths, Selection(), workers=1).counts.selected == 0
    forced = reextract(archive.paths, Selection(force=True), workers=1).counts
    assert (forced.selected, forced.unchanged) == (1, 1)
    assert len(archive.new_files()) == 2  # a run with nothing to do writes no file
    done = archive.reextractions()
    assert len(done) == 5

    # a rebuild from the WARC files alone gives the same rows, re-extractions included
    rebuilt_engine = open_database(new_database_url())
    rebuilt = session_factory(rebuilt_engine)
    result = rebuild(Ingester(rebuilt), closed_warcs(archive.paths.warc_dir))
    assert not result.damaged and not result.skipped
    with rebuilt() as session:
        assert dump(session) == archive.dump()
        assert reextraction_rows(session) == done
    rebuilt_engine.dispose()


def test_an_interrupted_run_keeps_what_it_did_and_the_next_goes_on(archive: Archive) -> None:
    seen: list[int] = []

    def stop_after_two(state: ReextractProgress) -> None:
        seen.append(state.done)
        if state.done == 2:
            raise KeyboardInterrupt

    first = reextract(archive.paths, Selection(), workers=1, chunk=1, progress=stop_after_two)
    assert first.interrupted and first.counts.done == 2 and seen == [1, 2]
    assert len(archive.reextractions()) == 2  # written and indexed before the run returned
    (stopped,) = archive.new_files()
    warcio_check(stopped)

    second = reextract(archive.paths, Selection(), workers=2, chunk=1)
    assert not second.interrupted
    assert (second.counts.selected, second.counts.done) == (2, 2)
    rows = archive.reextractions()
    assert len(rows) == 4 and len({row[0] for row in rows}) == 4  # each capture once
    assert len({row[2] for row in rows}) == 2  # by two runs


#: Loaded by the worker processes (spawned: they read ``PYTHONPATH``): every page takes half a second to extract.
_SLOW_WORKERS = """
import time
from archive import reextract as _reextract

_extract = _reextract.extract_capture
def extract_capture(*args):
    time.sleep(0.5)
    return _extract(*args)
_reextract.extract_capture = extract_capture
"""


def test_a_page_that_cannot_be_extracted_is_counted_and_the_run_goes_on(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    selection = Selection(outlet=SEEDS[0].outlet, since=at(0.5).replace(tzinfo=None))
    # pebble looks for tasks past their time every 0.1 s, so a page extracted faster than that would escape
    # a timeout however short: the workers are made slow instead (the parent's own code is untouched)
    slow = tmp_path / "slow-workers"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(_SLOW_WORKERS)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(slow), str(REPO), os.environ.get("PYTHONPATH", "")]))
    failed = reextract(archive.paths, selection, workers=1, timeout=0.1)
    monkeypatch.undo()
    # the second capture of the first story and the empty page, each stopped by its time limit
    assert (failed.counts.selected, failed.counts.errors, failed.counts.reextracted) == (2, 2, 0)
    assert len(failed.errors) == 2 and "took too long" in failed.errors[0]
    assert archive.reextractions() == []
    retried = reextract(archive.paths, selection, workers=1)
    assert (retried.counts.selected, retried.counts.changed, retried.counts.no_article) == (2, 1, 1)


def test_selection_by_outlet_and_time(archive: Archive) -> None:
    until_first_hour = Selection(until=(T0 + timedelta(minutes=90)).replace(tzinfo=None))
    assert reextract(archive.paths, until_first_hour, workers=1).counts.selected == 2
    assert reextract(archive.paths, Selection(outlet=SEEDS[1].outlet), workers=1).counts.unchanged == 1
    assert reextract(archive.paths, Selection(outlet="No Such Outlet"), workers=1).counts.selected == 0


def test_the_migration_adds_the_columns_and_tables_to_an_existing_archive(archive: Archive) -> None:
    reextract(archive.paths, Selection(), workers=1)
    before = without_provenance(archive.originals())
    command.downgrade(alembic_config(archive.engine), "0007")
    with archive.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        columns = {c["name"] for c in inspect(connection).get_columns("article_versions")}
    assert not {"reextractions", "reextracted_versions"} & tables
    assert not {"method", "og_type", "schema_types"} & columns

    command.upgrade(alembic_config(archive.engine), "head")
    with archive.engine.connect() as connection:
        assert compare_metadata(models_context(connection), Base.metadata) == []
    assert without_provenance(archive.originals()) == before
    with archive.sessions() as session:
        assert set(session.scalars(select(ArticleVersion.method))) == {None}  # the database does not know
        assert session.scalars(select(Reextraction)).all() == []
    # what the WARCs say comes back with a rebuild, re-extractions included
    with archive.sessions.begin() as session:
        clear_search_index(session.connection())
        clear_reprints(session.connection())
        clear_index(session)
    rebuild(Ingester(archive.sessions), closed_warcs(archive.paths.warc_dir))
    with archive.sessions() as session:
        assert set(session.scalars(select(ArticleVersion.method))) == {"unknown", HEURISTICS}
        assert len(reextraction_rows(session)) == 4


def test_reindex_restores_the_reextractions_and_says_how_many(
    archive: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    reextract(archive.paths, Selection(), workers=1)
    reextract(archive.paths, Selection(force=True), workers=1)  # a second run, a second file
    before = archive.dump()
    assert len(before["reextractions"]) == 5 and len(before["reextracted_versions"]) == 3
    options = ["--data", str(archive.paths.data_dir), "--database", archive.paths.database_url]

    assert main([*options, "reindex", "--drop"]) == 0
    assert ", 5 re-extractions, " in capsys.readouterr().out
    assert archive.dump() == before
