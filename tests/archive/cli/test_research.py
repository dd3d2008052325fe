"""The research commands on the fixture crawl: coverage, versions, captures, diff, plot, and their exports."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from archive.cli import main
from archive.db import open_database, session_factory
from archive.queries import coverage, find_story
from tests.conftest import BACKENDS, REPO, CrawlRun, database_urls
from tests.fixtureweb.server import CD_ARTICLE, TAC_ARTICLE, TP_ARTICLE

STORY = "hanoi-summit-2019"
REDIRECTING_LINK = "http://feeds.thinkprogress.org/~r/thinkprogress/~3/hanoi/"


@pytest.fixture(scope="module", params=BACKENDS)
def archive(
    request: pytest.FixtureRequest, fixture_crawl: CrawlRun, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    """Command-line options for the fixture crawl rebuilt into a database of each backend, its story
    synced (shared by this module's tests, which only read it)."""
    with database_urls(request.param, tmp_path_factory.mktemp("research")) as make:
        options = ["--data", str(fixture_crawl.data_dir), "--database", make()]
        assert main([*options, "reindex"]) == 0
        assert main([*options, "stories", "sync", str(REPO / "stories" / f"{STORY}.toml")]) == 0
        yield options


def run(options: list[str], *args: str) -> int:
    return main([*options, *args])


def test_coverage_of_a_story_as_a_table(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(archive, "coverage", STORY) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["outlet", "first", "seen", "(UTC)"] and lines[0].rstrip().endswith("why")
    body = lines[2:]
    assert len(body) == 3
    assert {line.split("  ")[0] for line in body} == {"Common Dreams", "ThinkProgress", "The American Conservative"}
    tp = next(line for line in body if line.startswith("ThinkProgress"))
    assert "2019-02-28" in tp and "terms: Trump-Kim summit, Kim Jong Un, Kim Jong-un" in tp


def test_coverage_of_every_article_without_a_story(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    engine = open_database(archive[3])
    with session_factory(engine)() as session:
        rows = list(coverage(session))
    engine.dispose()
    assert sorted(r.url for r in rows) == sorted([CD_ARTICLE, TP_ARTICLE, TAC_ARTICLE])
    assert all(r.story is None and r.matched_terms is None and r.seed is None for r in rows)
    assert run(archive, "coverage") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and not lines[0].rstrip().endswith("why")


def test_an_unknown_story_is_an_error(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(archive, "coverage", "no-such-story") == 2
    assert "no story 'no-such-story'" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_coverage_exports_hold_what_the_library_returns(
    archive: list[str], tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"coverage.{suffix}"
    assert run(archive, "coverage", STORY, "-o", str(out)) == 0
    assert f"exported 3 rows to {out} ({suffix})" in capsys.readouterr().err
    engine = open_database(archive[3])
    with session_factory(engine)() as session:
        expected = {row.url: row for row in coverage(session, find_story(session, STORY))}
    engine.dispose()
    if suffix == "csv":
        with out.open(newline="", encoding="utf-8") as f:
            exported = list(csv.DictReader(f))
        got = {r["url"]: (r["outlet"], r["first_seen"], json.loads(r["matched_terms"])) for r in exported}
        assert got == {u: (r.outlet, r.first_seen.isoformat(), r.matched_terms) for u, r in expected.items()}
    elif suffix == "jsonl":
        exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        got = {r["url"]: (r["outlet"], r["versions"], r["matched_terms"]) for r in exported}
        assert got == {u: (r.outlet, r.versions, r.matched_terms) for u, r in expected.items()}
    else:
        exported = pq.read_table(out).to_pylist()
        got = {r["url"]: (r["outlet"], r["first_seen"], r["captures"]) for r in exported}
        assert got == {u: (r.outlet, r.first_seen, r.captures) for u, r in expected.items()}


def test_versions_of_an_article_found_by_a_link_that_redirected_to_it(
    archive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(archive, "versions", REDIRECTING_LINK) == 0
    lines = capsys.readouterr().out.splitlines()
    versions = lines[: lines.index("")]
    assert versions[0].split()[0] == "version" and len(versions) == 3
    assert versions[2].split()[0] == "1" and "Trump-Kim summit ends early" in versions[2]
    assert "checks: 1" in lines  # the redirects of the feed link lead to the article: not checks


def test_every_version_exported_with_its_text(
    archive: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "versions.parquet"
    assert run(archive, "versions", "-o", str(out)) == 0
    table = pq.read_table(out).to_pylist()
    assert sorted(r["url"] for r in table) == sorted([CD_ARTICLE, TP_ARTICLE, TAC_ARTICLE])
    assert all(r["version"] == 1 and r["words"] > 300 and r["words_added"] == 0 for r in table)
    assert all(r["text"] and r["first_record_id"].startswith("<urn:uuid:") for r in table)


def test_captures_of_a_url_follow_its_aliases_unless_exact(
    archive: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(archive, "captures", TP_ARTICLE) == 0
    lines = capsys.readouterr().out.splitlines()[2:]
    assert sorted(line.split()[2] for line in lines) == ["200", "301", "302"]
    assert any(f"{REDIRECTING_LINK} -> http://thinkprogress.org/?p=1234567" in line for line in lines)
    assert run(archive, "captures", "--exact", REDIRECTING_LINK) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert run(archive, "captures", "http://nowhere.example/") == 2


def test_a_long_export_shows_progress_on_stderr(
    archive: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("archive.cli.progress.DELAY", 0.0)
    monkeypatch.setattr("archive.export.PROGRESS_EVERY", 5)
    assert run(archive, "captures", "-o", str(tmp_path / "all.jsonl")) == 0
    err = capsys.readouterr().err
    assert "exported 5 rows (" in err and " rows/s)" in err
    rows = (tmp_path / "all.jsonl").read_text().splitlines()
    assert f"exported {len(rows)} rows to" in err and len(rows) >= 20


def test_export_to_stdout(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(archive, "coverage", STORY, "-o", "-") == 0
    out = capsys.readouterr().out
    assert len([json.loads(line) for line in out.splitlines()]) == 3


def test_diff_of_an_article_with_one_version(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(archive, "diff", TAC_ARTICLE) == 0
    assert "has one version only" in capsys.readouterr().out
    assert run(archive, "diff", "http://nowhere.example/") == 2


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_plot_of_a_story(archive: list[str], tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"timeline.{suffix}"
    assert run(archive, "plot", STORY, "-o", str(out)) == 0
    assert f"{out}: 3 articles, 0 later versions" in capsys.readouterr().out
    data = out.read_bytes()
    if suffix == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    else:
        text = data.decode("utf-8")
        for name in ("Common Dreams", "ThinkProgress", "The American Conservative", "The Hanoi summit"):
            assert name in text


def test_plot_needs_an_image_suffix(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(archive, "plot", STORY, "-o", "timeline.pdf") == 2
    assert "*.png or *.svg" in capsys.readouterr().err
