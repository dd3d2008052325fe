"""``newsarchive search`` and ``newsarchive similar`` on the search fixture archive, on both backends."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from archive.cli import main
from archive.db import open_database, session_factory
from archive.search.query import parse_query
from archive.search.results import search
from tests.archive import searchfixture
from tests.archive.search.conftest import index_everything
from tests.conftest import BACKENDS, database_urls


@pytest.fixture(scope="module", params=BACKENDS)
def archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Command-line options for the fixture archive, indexed (shared by this module's tests, which only read it)."""
    folder = tmp_path_factory.mktemp("search")
    with database_urls(request.param, folder) as make:
        url = make()
        engine = open_database(url)
        sessions = session_factory(engine)
        searchfixture.build(folder / "warcs", sessions)
        index_everything(sessions)
        engine.dispose()
        yield ["--data", str(folder), "--database", url]


def test_search_lists_matches_with_snippets(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*archive, "search", "yongbyon OR larison"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 articles match\n")
    assert "ThinkProgress" in out and "The American Conservati…" in out
    assert "[Yongbyon]" in out


def test_search_counts_by_day_with_reprints_collapsed(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*archive, "search", "sanctions", "--count-by", "day"]) == 0
    per_outlet = capsys.readouterr().out
    assert main([*archive, "search", "sanctions", "--count-by", "day", "--collapse-reprints"]) == 0
    collapsed = capsys.readouterr().out
    # the wire story (28 Feb) and its reprints (28 Feb, 1 Mar) count once, on the original's day
    assert [line.split() for line in per_outlet.splitlines()[2:]] == [
        ["2019-02-28", "3"],
        ["2019-03-01", "1"],
        ["2019-03-04", "1"],
    ]
    assert [line.split() for line in collapsed.splitlines()[2:]] == [["2019-02-28", "2"], ["2019-03-04", "1"]]


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_search_exports_what_the_library_returns(archive: list[str], tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"hits.{suffix}"
    assert main([*archive, "search", "hanoi", "--all-versions", "-o", str(out)]) == 0
    if suffix == "csv":
        with out.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    elif suffix == "jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    else:
        rows = pq.read_table(out).to_pylist()
    engine = open_database(archive[3])
    with session_factory(engine)() as session:
        expected = list(search(session, parse_query("hanoi"), all_versions=True, limit=None))
    engine.dispose()
    assert len(rows) == len(expected) == 7
    assert [int(r["version_id"]) for r in rows] == [m.version_id for m in expected]
    assert all("[" in r["snippet"] for r in rows)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "the query is empty"),
        ('"unclosed', "a quote is not closed (at character 1)"),
        ("(hanoi", "ends too early"),
        ("colour:red", "unknown field colour:"),
        (" ".join(["w"] * 10_000), "characters long"),
    ],
)
def test_bad_queries_are_usage_errors(
    archive: list[str], capsys: pytest.CaptureFixture[str], query: str, message: str
) -> None:
    assert main([*archive, "search", query]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newsarchive: error: ") and message in err and "Traceback" not in err


def test_similar_lists_the_reprints_of_an_article(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    pieces = searchfixture.pieces()
    assert main([*archive, "similar", pieces["harbor"].url]) == 0
    lines = capsys.readouterr().out.splitlines()[2:]
    assert [line.split()[-1] for line in lines] == [pieces["wire"].url, pieces["ledger"].url]
    assert "original" in lines[0] and "original" not in lines[1]
    assert main([*archive, "similar", pieces["tac"].url]) == 0
    assert capsys.readouterr().out == "no rows\n"
    assert main([*archive, "similar", "http://nowhere.example/"]) == 2
    assert "no archived article" in capsys.readouterr().err


def test_plot_draws_a_querys_articles_per_day_per_outlet(
    archive: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "attention.svg"
    assert main([*archive, "plot", "--query", "hanoi", "-o", str(image)]) == 0
    assert capsys.readouterr().out == f"{image}: 6 articles on 4 days\n"
    svg = image.read_text(encoding="utf-8")
    assert "hanoi" in svg and "Harbor Times (2)" in svg and "all outlets (6)" in svg
    assert main([*archive, "plot", "--query", "sanctions", "--collapse-reprints", "-o", str(tmp_path / "a.png")]) == 0
    assert capsys.readouterr().out.endswith(": 3 articles on 2 days\n")
    assert (tmp_path / "a.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["plot", "--query", "(hanoi", "-o", "x.svg"], "ends too early"),
        (["plot", "some-story", "--query", "hanoi", "-o", "x.svg"], "not both"),
        (["plot", "--collapse-reprints", "-o", "x.svg"], "go with --query"),
    ],
)
def test_plot_refuses_a_bad_query(
    archive: list[str], arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*archive, *arguments]) == 2
    assert message in capsys.readouterr().err
