"""``newsarchive recheck status`` and the check history beside ``newsarchive versions URL``."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

import pytest

from archive.cli import main
from archive.cli import recheck as recheck_command
from archive.db import open_database, session_factory
from tests.archive.queries.checked import EXPECTED, RENAMED, STORY, AtNoon, checked_article, schedule_scenario


@pytest.fixture
def archive(tmp_path: Path, database_url: str) -> list[str]:
    return ["--data", str(tmp_path), "--database", database_url]


def sessions_of(options: list[str]):
    engine = open_database(options[3])
    return engine, session_factory(engine)


def test_status_per_outlet_with_a_total(
    archive: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recheck_command, "datetime", AtNoon)
    engine, sessions = sessions_of(archive)
    schedule_scenario(tmp_path / "warcs", sessions, AtNoon.now())
    engine.dispose()
    assert main([*archive, "recheck", "status"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Rechecks at ") and "more than 1 h" in out[0]
    assert out[1].split()[:4] == ["outlet", "watching", "due", "overdue"]
    cells = {" ".join(line.split()[:-9]): line.split()[-9:] for line in out[3:]}
    assert cells["Example News"] == ["3", "2", "1", "1", "1", "1", "1", "1", "0.1"]
    assert cells["(no outlet)"][:3] == ["1", "0", "0"]
    assert cells["(all outlets)"][:4] == ["4", "2", "1", "2"]


def test_status_of_one_outlet_exported(
    archive: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recheck_command, "datetime", AtNoon)
    engine, sessions = sessions_of(archive)
    schedule_scenario(tmp_path / "warcs", sessions, AtNoon.now())
    engine.dispose()
    out = tmp_path / "status.csv"
    assert main([*archive, "recheck", "status", "--outlet", "Example News", "-o", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["outlet"] for r in rows] == ["Example News"]
    assert (rows[0]["due"], rows[0]["overdue"], rows[0]["checks_last_day"]) == ("2", "1", "3")
    assert float(rows[0]["rate_last_day"]) == pytest.approx(3 / 24)


def test_an_unknown_outlet_is_an_error(archive: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*archive, "recheck", "status", "--outlet", "Nope"]) == 2
    assert "no outlet named 'Nope'" in capsys.readouterr().err


def test_versions_show_the_checks_beside_the_versions(
    archive: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, sessions = sessions_of(archive)
    checked_article(tmp_path / "warcs", sessions, datetime(2019, 2, 28, 15, tzinfo=timezone.utc))
    engine.dispose()
    assert main([*archive, "versions", STORY]) == 0
    out = capsys.readouterr().out
    versions, schedule, checks = out.split("\n\n")
    assert len(versions.splitlines()) == 4  # header, rule, two versions
    assert schedule.startswith("recheck schedule: ")
    lines = checks.splitlines()
    assert lines[0] == f"checks: {len(EXPECTED)}" and lines[1].split()[:4] == ["when", "(UTC)", "outcome", "detail"]
    found = [line.split()[2] for line in lines[3:]]
    assert found == [outcome for _, outcome, _, _ in EXPECTED]
    assert any(RENAMED in line and "moved" in line for line in lines)
    assert "2019-02-28 16:00:00" in lines[4] and "not modified" in lines[4]
    # a limit shows the first lines and says how to see the rest
    assert main([*archive, "versions", STORY, "--limit", "3"]) == 0
    assert f"… {len(EXPECTED) - 3} more lines: show them with --limit {len(EXPECTED)}" in capsys.readouterr().out
