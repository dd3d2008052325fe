"""``newsarchive index rebuild|lookup`` and ``newsarchive wacz`` on the fixture crawl."""

import shutil
import zipfile
from pathlib import Path

import pytest

from archive.cli import main
from tests.archive.zipcheck import check_zip
from tests.conftest import CrawlRun
from tests.fixtureweb.data import load_seeds

SEEDS = load_seeds()


@pytest.fixture
def archive_copy(fixture_crawl: CrawlRun, tmp_path: Path) -> Path:
    """The fixture crawl's WARC files in a data folder of their own, without an index yet."""
    shutil.copytree(fixture_crawl.warc_dir, tmp_path / "warcs")
    return tmp_path


def test_rebuild_then_lookup(archive_copy: Path, fixture_crawl: CrawlRun, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(archive_copy), "index", "rebuild"]) == 0
    assert "Indexed 1 WARC files" in capsys.readouterr().out
    rebuilt = sorted((archive_copy / "indexes").iterdir())
    live = sorted((fixture_crawl.data_dir / "indexes").iterdir())
    assert [p.read_text() for p in rebuilt] == [p.read_text() for p in live]  # written while crawling = rebuilt

    assert main(["--data", str(archive_copy), "index", "lookup", SEEDS[1].url]) == 0
    out = capsys.readouterr().out
    assert "200" in out and "text/html" in out and SEEDS[1].url in out

    assert main(["--data", str(archive_copy), "index", "lookup", "--cdxj", "http://thinkprogress.org/?p=1234567"]) == 0
    assert capsys.readouterr().out.startswith("org,thinkprogress)/?p=1234567 20")

    assert main(["--data", str(archive_copy), "index", "lookup", "--to", "2019-02-28", SEEDS[1].url]) == 1
    assert "No capture" in capsys.readouterr().out


def test_wacz_command(archive_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "crawl.wacz"
    assert main(["--data", str(archive_copy), "wacz", str(output), "--title", "Hanoi summit", "--text"]) == 0
    assert "1 WARC files" in capsys.readouterr().out
    check_zip(output)  # local headers and central directory agree
    with zipfile.ZipFile(output) as wacz:
        pages = wacz.read("pages/pages.jsonl").decode()
    for seed in SEEDS:
        assert seed.url in pages and seed.title in pages and seed.body_lines[0][:40] in pages

    assert main(["--data", str(archive_copy), "wacz", str(output), "--to", "2019-03-01"]) == 1
    assert "no WARC file was being written" in capsys.readouterr().err
    assert not output.exists()
    assert main(["--data", str(tmp_path / "empty"), "wacz", str(output)]) == 1
