"""``newsarchive reextract`` and ``versions --extraction`` on a copy of the fixture crawl."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from archive.cli import main
from archive.extract import EXTRACTOR, EXTRACTOR_VERSION
from archive.warc.files import closed_warcs
from tests.conftest import CrawlRun
from tests.fixtureweb.server import CD_ARTICLE

OUTLETS = ("Common Dreams", "ThinkProgress", "The American Conservative")


def summary(out: str) -> dict[str, int]:
    """The run's summary table: captures by result."""
    lines = out.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("---"))) + 1
    return {
        name.strip(): int(count.replace(",", ""))
        for name, count in (line.rsplit(None, 1) for line in lines[start : start + 6])
    }


@pytest.fixture
def data(fixture_crawl: CrawlRun, tmp_path: Path) -> Path:
    """The fixture crawl's data folder (WARCs, CDXJ index, SQLite database), copied."""
    shutil.copytree(fixture_crawl.data_dir, tmp_path / "data")
    return tmp_path / "data"


def test_reextract_reads_the_crawl_again_beside_the_originals(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = ["--data", str(data)]
    originals = {path: path.read_bytes() for path in closed_warcs(data / "warcs")}

    assert main([*options, "reextract"]) == 2
    assert "choose the captures" in capsys.readouterr().err
    # the crawl's extractions were made by the current version: nothing to do without --force
    assert main([*options, "reextract", "--all"]) == 0
    assert summary(capsys.readouterr().out)["selected"] == 0

    assert main([*options, "reextract", "--all", "--force", "--dry-run"]) == 0
    out = capsys.readouterr().out
    pending = int(out.split()[0].replace(",", ""))
    assert pending >= len(OUTLETS) and f"with {EXTRACTOR} {EXTRACTOR_VERSION}" in out
    assert all(outlet in out for outlet in OUTLETS)
    assert set(closed_warcs(data / "warcs")) == set(originals)  # a dry run writes nothing

    assert main([*options, "reextract", "--all", "--force", "--workers", "2", "--chunk", "2"]) == 0
    out = capsys.readouterr().out
    # read back from the WARCs, decoded as the crawler decoded them, the same extractor finds the same texts
    assert summary(out) == {
        "selected": pending,
        "re-extracted": pending,
        "text changed": 0,
        "text unchanged": pending,
        "no article": 0,
        "errors": 0,
    }
    assert {path: path.read_bytes() for path in originals} == originals
    (written,) = set(closed_warcs(data / "warcs")) - set(originals)
    assert f"written to {written} and indexed" in out
    warcio = Path(sys.executable).parent / "warcio"
    checked = subprocess.run([str(warcio), "check", str(written)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # done: a second run finds nothing left
    assert main([*options, "reextract", "--outlet", OUTLETS[0], "--force"]) == 0
    assert summary(capsys.readouterr().out)["selected"] == 0

    assert main([*options, "versions", CD_ARTICLE]) == 0
    out = capsys.readouterr().out
    assert f"re-extracted by {EXTRACTOR_VERSION}: 1 versions" in out
    original_lines = out.split("\n\n")[0]

    for _ in range(2):  # as indexed by the run, then rebuilt from the WARC files alone
        assert main([*options, "versions", CD_ARTICLE, "--extraction", "latest", "-o", "-", "--format", "jsonl"]) == 0
        (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert (row["extractor"], row["extractor_version"], row["version"]) == (EXTRACTOR, EXTRACTOR_VERSION, 1)
        assert row["extractor_changed"] is False and row["captures"] >= 1
        assert main([*options, "reindex", "--drop"]) == 0
        capsys.readouterr()
    assert main([*options, "versions", CD_ARTICLE]) == 0
    assert capsys.readouterr().out.split("\n\n")[0] == original_lines  # the default view: the crawl-time versions
