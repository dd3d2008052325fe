"""Rebuilding the database from the WARC files alone: same rows as the crawl made, damaged files reported."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.cli import main
from archive.db import Capture, open_database, session_factory
from archive.db.ingester import Ingester
from archive.diff import diff_versions
from archive.format import KIND_KEY, LISTING
from archive.index import IndexStore
from archive.queries import article_timeline, find_article
from archive.rebuild import rebuild
from archive.warc.files import warc_files
from archive.warc.reader import TRUNCATED, checked_records
from archive.warc.records import metadata_record
from tests.archive.dbdump import dump
from tests.archive.recording import Recording, at
from tests.conftest import REPO, CrawlRun, run_crawl
from tests.fixtureweb.data import load_seeds
from tests.fixtureweb.server import SITE_DIR, TAC_ARTICLE, FixtureWeb

STORY_FILE = REPO / "stories" / "hanoi-summit-2019.toml"


def dump_of(url: str) -> dict:
    engine = open_database(url)
    try:
        with session_factory(engine)() as session:
            return dump(session)
    finally:
        engine.dispose()


def test_reindex_rebuilds_what_the_crawl_indexed(
    fixture_crawl: CrawlRun, database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("archive.cli.progress.DELAY", 0.0)  # show progress however short the run
    live = dump_of(fixture_crawl.database_url)
    assert main(["--data", str(fixture_crawl.data_dir), "--database", database_url, "reindex", "--batch", "20"]) == 0
    captured = capsys.readouterr()
    assert f"indexed {sum(1 for _ in checked_records(warc_files([fixture_crawl.warc_dir])[0]))} records" in captured.out
    assert "files 0/1  records 20  " in captured.err and " records/s  newsarchive-" in captured.err
    rebuilt = dump_of(database_url)
    assert rebuilt == live
    # the crawl's odd cases are all there: redirects, errors, a timeout, pages without articles
    assert {row[3] for row in rebuilt["captures"]} >= {200, 301, 302, 404, 500}
    assert len(rebuilt["fetch_errors"]) == 1 and len(rebuilt["articles"]) == 3


def test_reindex_into_a_database_that_holds_records_needs_drop_or_merge(
    fixture_crawl: CrawlRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(fixture_crawl.data_dir, data)
    assert main(["--data", str(data), "stories", "sync", str(STORY_FILE)]) == 0
    before = dump_of(f"sqlite:///{data / 'archive.db'}")
    assert len(before["story_articles"]) == 3
    capsys.readouterr()

    assert main(["--data", str(data), "reindex"]) == 2
    assert "already indexes" in capsys.readouterr().err
    assert main(["--data", str(data), "reindex", "--merge"]) == 0
    assert "already indexed" in capsys.readouterr().out
    assert dump_of(f"sqlite:///{data / 'archive.db'}") == before

    assert main(["--data", str(data), "reindex", "--drop"]) == 0
    out = capsys.readouterr().out
    assert "story hanoi-summit-2019: 3 articles" in out  # re-synced from its stored definition
    assert dump_of(f"sqlite:///{data / 'archive.db'}") == before


def test_damaged_and_foreign_files_are_reported_by_file_and_offset_and_skipped(
    fixture_crawl: CrawlRun, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (crawl_file,) = warc_files([fixture_crawl.warc_dir])
    records = list(checked_records(crawl_file))
    warcs = tmp_path / "warcs"
    warcs.mkdir()
    shutil.copy(crawl_file, warcs / crawl_file.name)
    data = crawl_file.read_bytes()
    # cut in the middle of the fifth record's gzip member
    cut_at = records[4].location.offset + records[4].location.length // 2
    (warcs / "z1-truncated.warc.gz").write_bytes(data[:cut_at])
    (warcs / "z2-foreign.warc.gz").write_bytes(gzip.compress(b"<html>not a WARC file</html>\n"))
    (warcs / "z3-trailing.warc.gz").write_bytes(data + b"\x1f\x8b\x08\x00\x00")  # a gzip member begun, no more
    (warcs / "z4-garbage.warc.gz").write_bytes(data + b"garbage after the last record")
    (warcs / "z5-unfinished.warc.gz.open").write_bytes(data[:100])  # a file being written: never read

    code = main(["--data", str(tmp_path), "--database", database_url, "reindex", str(warcs)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{warcs / 'z1-truncated.warc.gz'}: offset {records[4].location.offset}: {TRUNCATED}" in err
    assert f"{warcs / 'z2-foreign.warc.gz'}: offset 0:" in err
    assert f"{warcs / 'z3-trailing.warc.gz'}: offset {len(data)}: {TRUNCATED}" in err
    assert f"{warcs / 'z4-garbage.warc.gz'}: offset {len(data)}: ArchiveLoadFailed: Invalid WARC record" in err
    assert "4 of 5 files could not be read to the end" in err
    assert "unfinished" not in err
    # the crawl's own file (read first) was indexed whole; the damaged copies added nothing wrong
    assert dump_of(database_url) == dump_of(fixture_crawl.database_url)


def test_a_damaged_file_is_indexed_up_to_the_damage_and_the_next_files_all_the_same(
    tmp_path: Path, fixture_crawl: CrawlRun, database_url: str
) -> None:
    (crawl_file,) = warc_files([fixture_crawl.warc_dir])
    records = list(checked_records(crawl_file))
    cut = records[len(records) // 2]
    (tmp_path / "0-not-a-warc.warc.gz").write_bytes(b"\x00" * 64)
    (tmp_path / "1-truncated.warc.gz").write_bytes(crawl_file.read_bytes()[: cut.location.offset + 40])
    shutil.copy(crawl_file, tmp_path / "2-whole.warc.gz")
    engine = open_database(database_url)
    progress = []
    ingester = Ingester(session_factory(engine))
    damaged = rebuild(ingester, warc_files(tmp_path.glob("[01]-*")), batch_size=10, progress=progress.append)
    with session_factory(engine)() as session:
        indexed = set(session.scalars(select(Capture.record_id)))
    whole = rebuild(ingester, warc_files([tmp_path / "2-whole.warc.gz"]))
    with session_factory(engine)() as session:
        after = set(session.scalars(select(Capture.record_id)))
    engine.dispose()
    assert [(d.path.name, d.offset) for d in damaged.damaged] == [
        ("0-not-a-warc.warc.gz", 0),
        ("1-truncated.warc.gz", cut.location.offset),
    ]
    before_cut = {r.record_id for r in records[: len(records) // 2] if r.rec_type in ("response", "revisit")}
    assert indexed == before_cut
    assert whole.damaged == [] and after == {r.record_id for r in records if r.rec_type in ("response", "revisit")}
    assert progress[-1].files_done == 2 and progress[-1].records == damaged.records


@pytest.fixture
def changing_web(tmp_path: Path) -> Iterator[tuple[FixtureWeb, Path]]:
    """The fixture web served from a copy of its files, so a test can edit a page between crawls."""
    site = tmp_path / "site"
    shutil.copytree(SITE_DIR, site)
    with FixtureWeb(slow_seconds=5, site_dir=site) as web:
        yield web, site


def test_a_recrawl_adds_captures_and_a_version_for_the_changed_article_only(
    changing_web: tuple[FixtureWeb, Path],
    tmp_path: Path,
    new_database_url: Callable[[], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    web, site = changing_web
    database_url = new_database_url()
    data = tmp_path / "data"
    first = run_crawl(web, data, ARCHIVE_DATABASE_URL=database_url)
    assert first.returncode == 0, first.log[-3000:]
    page = site / "www.theamericanconservative.com" / "larison" / "the-hanoi-summit-collapses" / "index.html"
    html = page.read_text(encoding="utf-8")
    html = html.replace("The Hanoi Summit Collapses", "The Hanoi Summit Collapses Early")
    html = html.replace("is an unfortunate, foreseeable product", "is an unfortunate but entirely foreseeable product")
    page.write_text(html, encoding="utf-8")
    second = run_crawl(web, data, ARCHIVE_DATABASE_URL=database_url, RECHECK_KNOWN_ARTICLES="always")
    assert second.returncode == 0, second.log[-3000:]

    engine = open_database(database_url)
    with session_factory(engine)() as session:
        for seed in load_seeds():
            article = find_article(session, seed.url)
            assert article is not None
            timeline = article_timeline(session, article)
            assert sum(v.captures for v in timeline) == 2, seed.url  # a capture per crawl
            if seed.url == TAC_ARTICLE:
                assert [v.headline for v in timeline] == [seed.title, seed.title + " Early"]
                change = diff_versions(article.versions[0], article.versions[1], 1, 2)
                assert (change.text.added, change.text.removed) == (3, 1)
                assert [(c.old, c.new) for c in change.text.changes if c.op != "equal"] == [
                    (["unfortunate,"], ["unfortunate", "but", "entirely"])
                ]
            else:
                assert len(timeline) == 1, seed.url  # unchanged: no new version
    engine.dispose()

    assert main(["--database", database_url, "diff", TAC_ARTICLE]) == 0
    out = capsys.readouterr().out
    assert "version 1" in out and "-> version 2" in out and "3 words added, 1 removed" in out
    assert "[-unfortunate,-] {+unfortunate but entirely+}" in out
    assert "headline: The Hanoi Summit Collapses {+Early+}" in out

    rebuilt = new_database_url()
    assert main(["--data", str(data), "--database", rebuilt, "reindex"]) == 0
    assert dump_of(rebuilt) == dump_of(database_url)


BAD_URLS_HOST = "badurls.fixture.test"


def test_a_page_with_bad_urls_stops_neither_the_crawl_nor_a_rebuild(
    fixture_web: FixtureWeb, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13, 1: a canonical link to port 99999 killed the archiver's database thread, and
    ``reindex --drop`` then failed on the same record and left the database empty."""
    seeds = tmp_path / "badurls.toml"
    seeds.write_text(
        f'[[outlet]]\nname = "Bad URLs"\nallowed_domains = ["{BAD_URLS_HOST}"]\n'
        f'start_urls = ["http://{BAD_URLS_HOST}/"]\nfeeds = ["http://{BAD_URLS_HOST}/feed/"]\n'
        "article_patterns = ['/story-']\n"
    )
    data = tmp_path / "data"
    run = run_crawl(fixture_web, data, seeds=seeds, ARCHIVE_PAGE_REQUISITES="True")
    assert run.returncode == 0, run.log[-5000:]
    assert "archive_error" not in run.log and "Traceback" not in run.log
    assert "'urls/unparseable/link':" in run.log and "'urls/unparseable/feed':" in run.log
    assert "'urls/unparseable/requisite': 1" in run.log
    fetched = {served.url for served in run.served}
    assert {f"http://{BAD_URLS_HOST}/story-canonical", f"http://{BAD_URLS_HOST}/story-plain"} <= fetched
    assert f"http://{BAD_URLS_HOST}/pixel.png" in fetched  # the page's other requisite

    live = dump_of(run.database_url)
    with session_factory(engine := open_database(run.database_url))() as session:
        canonical = find_article(session, f"http://{BAD_URLS_HOST}/story-canonical")
        assert canonical is not None and canonical.url.url == f"http://{BAD_URLS_HOST}/story-canonical"
        assert canonical.versions[0].canonical_url is None  # unparseable: in the WARC only
        plain = find_article(session, f"http://{BAD_URLS_HOST}/story-plain")
        assert plain is not None and plain.listed_published == "2019-02-28"
    engine.dispose()

    capsys.readouterr()
    assert main(["--data", str(data), "reindex", "--drop"]) == 0
    out = capsys.readouterr().out
    assert "unparseable URLs left out" in out
    assert dump_of(run.database_url) == live


def outside_archive(folder: Path, prefix: str, story: str, broken: bool) -> tuple[Path, str]:
    """A WARC file written elsewhere: a page, (if ``broken``) a listing record the ingester cannot
    read, and an article after it; returns the file and the article's response record id."""
    rec = Recording(folder, prefix=prefix)
    feed = rec.page("http://www.example.com/feed", "<rss/>", at(0))
    if broken:  # a listing entry without its URL: indexing it fails
        payload = {KIND_KEY: LISTING, "source": "feed", "entries": [{"published": "2019-02-28"}]}
        rec._write([metadata_record(rec.writer.builder, "http://www.example.com/feed", feed, payload, at(0))])
    page = rec.page(story, "<html>story</html>", at(1))
    rec.article(page, story, "Story", "Words.", at(1))
    (path,) = rec.close()
    return path, page


def test_merge_reports_a_bad_record_and_indexes_the_rest_and_copies_files_into_the_archive(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13, 4: one bad record aborted the whole merge, and files merged from outside the WARC
    folder left rows pointing at files the archive did not hold, with no CDXJ entries."""
    data = tmp_path / "data"
    first, first_page = outside_archive(tmp_path / "elsewhere", "a", "http://www.example.com/news/one", broken=True)
    second, second_page = outside_archive(tmp_path / "elsewhere", "b", "http://www.example.com/news/two", broken=False)
    bad_offset = next(r.location.offset for r in checked_records(first) if r.rec_type == "metadata")

    code = main(["--data", str(data), "--database", database_url, "reindex", "--merge", str(first), str(second)])
    captured = capsys.readouterr()
    assert code == 1
    warcs = data / "warcs"
    assert f"{warcs / first.name}: record <urn:uuid:" in captured.err
    assert f"at offset {bad_offset} not indexed: KeyError: 'url'" in captured.err
    assert "1 records could not be indexed" in captured.err
    assert f"copied {first.name} into {warcs}" in captured.out
    assert sorted(p.name for p in warcs.iterdir()) == sorted([first.name, second.name])
    assert (warcs / first.name).read_bytes() == first.read_bytes()
    with session_factory(engine := open_database(database_url))() as session:
        rows = session.execute(select(Capture.record_id, Capture.warc_filename)).all()
        assert {record_id for record_id, _ in rows} >= {first_page, second_page}  # before and after the bad one
        assert all((warcs / filename).is_file() for _, filename in rows)  # every row resolves to a held file
        assert find_article(session, "http://www.example.com/news/two") is not None
    engine.dispose()
    lookup = list(IndexStore(data / "indexes").lookup("http://www.example.com/news/one"))
    assert [(e.filename, e.status) for e in lookup] == [(first.name, 200)]

    # merged again: the copies are there already, identical, and nothing is indexed twice
    assert main(["--data", str(data), "--database", database_url, "reindex", "--merge", str(first)]) == 1
    assert "copied" not in capsys.readouterr().out


def test_a_file_whose_name_the_archive_already_uses_is_refused_before_anything_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    held, _ = outside_archive(data / "warcs", "a", "http://www.example.com/news/one", broken=False)
    assert main(["--data", str(data), "reindex"]) == 0
    before = dump_of(f"sqlite:///{data / 'archive.db'}")
    other = tmp_path / "other" / held.name
    other.parent.mkdir()
    other.write_bytes(gzip.compress(b"different bytes"))
    not_gzip = tmp_path / "other" / "x.warc"
    not_gzip.write_bytes(b"WARC/1.1\r\n")
    capsys.readouterr()

    assert main(["--data", str(data), "reindex", "--merge", str(other)]) == 2
    assert f"already holds a different file named {held.name}" in capsys.readouterr().err
    assert main(["--data", str(data), "reindex", "--merge", str(not_gzip)]) == 2
    assert "warcio recompress" in capsys.readouterr().err
    assert sorted(p.name for p in (data / "warcs").iterdir()) == [held.name]
    assert dump_of(f"sqlite:///{data / 'archive.db'}") == before
