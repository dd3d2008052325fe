import pytest

from archive.cli import main
from tests.conftest import CrawlRun
from tests.fixtureweb.data import load_seeds


def test_summary_of_the_fixture_crawl(fixture_crawl: CrawlRun, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(fixture_crawl.data_dir), "summary"]) == 0
    out = capsys.readouterr().out
    assert f"WARC folder  {fixture_crawl.warc_dir}" in out
    rows = {line.split("  ")[0]: line for line in out.splitlines()}
    assert rows["outlets"].split()[-1] == "3"
    assert rows["articles"].split()[-1] == "3"
    assert rows["fetch errors"].split()[-1] == "1"
    assert "404: 3" in rows["captures"] and "500: " in rows["captures"]
    assert rows["WARC files"].split()[2] == "1"  # closed files
    for seed in load_seeds():
        assert seed.outlet in out
        assert seed.title[:40] in out


def test_summary_of_an_empty_archive(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(tmp_path), "summary"]) == 0
    out = capsys.readouterr().out
    assert "captures      0" in out
    assert "WARC files    0 closed, 0 open" in out
