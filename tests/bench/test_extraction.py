"""The extraction benchmark on a corpus of three labelled pages, scored by the development corpus's own scorer."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from bench.extraction import DEFAULT_CORPUS, main, timed_run
from tests.archive.test_extract import BOILERPLATE_LINES, PARAGRAPHS, news_page

SCORER = DEFAULT_CORPUS / "score.py"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    if not SCORER.is_file():
        pytest.skip(f"the development corpus's scorer is not at {SCORER}")
    shutil.copy(SCORER, tmp_path / "score.py")
    (tmp_path / "pages").mkdir()
    expected = {}
    for n in range(3):
        name = f"{n:04d}.html.gz"
        lines = [*PARAGRAPHS[n:], BOILERPLATE_LINES[n]]
        (tmp_path / "pages" / name).write_bytes(gzip.compress(news_page(lines).encode()))
        expected[name] = {
            "url": f"https://example.com/{n}",
            "with": PARAGRAPHS[n:][:2],
            "without": [BOILERPLATE_LINES[n]],
        }
    (tmp_path / "expected.json").write_text(json.dumps(expected))
    return tmp_path


def test_every_side_is_scored_and_compared_with_plain_trafilatura(corpus: Path, capsys) -> None:
    assert main(["--corpus", str(corpus)]) == 0
    rows = {line.split("  ")[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    ours, plain = rows["newsarchive extract_article"], rows["trafilatura.extract"]
    assert set(rows) == {"newsarchive extract_article", "trafilatura.extract", "trafilatura.extract(fast=True)"}
    assert ours[-5:-2] == ["1.000", "1.000", "1.000"]  # precision, recall, F1 on these pages
    assert float(plain[-5]) < 1.0  # plain trafilatura keeps the teaser, the ad label or the credit
    assert plain[-1] == "1.00"


def test_a_folder_without_the_scorer_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no score.py"):
        main(["--corpus", str(tmp_path)])


def test_the_sides_take_turns_in_an_order_reversed_from_page_to_page() -> None:
    calls: list[tuple[str, str]] = []

    def side(name: str):
        def extract(html: str) -> str:
            calls.append((name, html))
            return html.upper()

        return extract

    texts: dict[str, dict[str, str]] = {"a": {}, "b": {}}
    spent = timed_run(["p1", "p2", "p3"], {"a": side("a"), "b": side("b")}, texts)
    assert calls == [("a", "p1"), ("b", "p1"), ("b", "p2"), ("a", "p2"), ("a", "p3"), ("b", "p3")]
    assert texts == {"a": {"p1": "P1", "p2": "P2", "p3": "P3"}, "b": {"p1": "P1", "p2": "P2", "p3": "P3"}}
    assert set(spent) == {"a", "b"} and all(seconds >= 0 for seconds in spent.values())
