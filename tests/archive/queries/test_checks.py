"""What each check of an article found, read from its captures; how the recheck schedule stands per outlet."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.db import open_database, session_factory
from archive.db.models import Capture
from archive.queries import find_article
from archive.queries.checks import (
    NO_OUTLET,
    TOTAL,
    UnknownOutlet,
    check_history,
    folded,
    recheck_status,
)
from tests.archive.queries.checked import EXPECTED, SHORT, STORY, checked_article, schedule_scenario

START = datetime(2019, 2, 28, 15, 0, tzinfo=timezone.utc)
NOW = datetime(2019, 3, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def sessions(database_url: str):
    engine = open_database(database_url)
    yield session_factory(engine)
    engine.dispose()


def test_each_check_says_what_its_capture_found(tmp_path: Path, sessions) -> None:
    checked_article(tmp_path / "warcs", sessions, START)
    with sessions() as session:
        article = find_article(session, STORY)
        assert article is not None
        checks = check_history(session, article.id)
    start = START.replace(tzinfo=None)
    assert [(c.at, c.outcome, c.detail, c.version) for c in checks] == [
        (start + timedelta(hours=hours), outcome, detail, version) for hours, outcome, detail, version in EXPECTED
    ]
    assert [c.status for c in checks] == [200, 304, 200, 200, 200, 200, 500, None, 301, 404]
    assert all(c.url == STORY for c in checks)
    assert checks[7].capture_id is None and all(c.capture_id for c in checks if c.outcome != "failed")


def test_runs_of_the_same_finding_fold_into_one_line(tmp_path: Path, sessions) -> None:
    checked_article(tmp_path / "warcs", sessions, START)
    with sessions() as session:
        checks = check_history(session, find_article(session, STORY).id)
    runs = folded(checks)
    # "not modified" and "same bytes" differ in detail: only equal findings fold
    assert [(r.outcome, r.checks) for r in runs] == [(outcome, 1) for _, outcome, _, _ in EXPECTED]
    quiet = folded([checks[1]] * 3 + [checks[4]])
    assert [(r.outcome, r.checks, r.first, r.last) for r in quiet] == [
        ("unchanged", 3, checks[1].at, checks[1].at),
        ("changed", 1, checks[4].at, checks[4].at),
    ]


def test_a_redirect_to_the_article_is_the_way_to_it_not_a_check(tmp_path: Path, sessions) -> None:
    ids = schedule_scenario(tmp_path / "warcs", sessions, NOW)
    with sessions() as session:
        assert find_article(session, SHORT).id == ids["a1"]
        checks = check_history(session, ids["a1"])
        short = session.scalars(select(Capture.id).where(Capture.url.has(url=SHORT))).all()
    now = NOW.replace(tzinfo=None)
    assert [(c.at - now, c.outcome, c.detail) for c in checks] == [
        (timedelta(hours=-30), "first", None),
        (timedelta(hours=-20), "unchanged", "same bytes"),
        (timedelta(hours=-2), "unchanged", "same bytes"),
        (timedelta(minutes=-30), "unchanged", "not modified"),
        (timedelta(hours=1), "unchanged", "not modified"),
    ]
    assert len(short) == 1 and short[0] not in {c.capture_id for c in checks}


def test_an_unknown_article_has_no_checks(sessions) -> None:
    with sessions() as session:
        assert check_history(session, 12345) == []


def test_the_status_counts_states_due_overdue_and_recent_checks_per_outlet(tmp_path: Path, sessions) -> None:
    schedule_scenario(tmp_path / "warcs", sessions, NOW)
    with sessions() as session:
        status = recheck_status(session, NOW)
    rows = {r.outlet: r for r in status.outlets}
    assert sorted(rows) == sorted(["Example News", NO_OUTLET])
    news, other = rows["Example News"], rows[NO_OUTLET]
    assert (news.watching, news.due, news.overdue, news.upcoming) == (3, 2, 1, 1)
    assert (news.settled, news.gone, news.moved) == (1, 1, 1)
    # a1: checked 20 h, 2 h and 30 min ago (its first capture, a redirect to it and a check to come are not checks)
    assert (news.checks_last_hour, news.checks_last_day) == (1, 3)
    assert news.rate_last_day == pytest.approx(3 / 24)
    assert (other.watching, other.due, other.upcoming, other.checks_last_hour, other.checks_last_day) == (1, 0, 1, 1, 1)
    total = status.total
    assert total.outlet == TOTAL
    assert (total.watching, total.due, total.upcoming, total.checks_last_day) == (4, 2, 2, 4)
    assert status.now == NOW.replace(tzinfo=None)


def test_the_status_of_one_outlet_and_of_an_unknown_one(tmp_path: Path, sessions) -> None:
    schedule_scenario(tmp_path / "warcs", sessions, NOW)
    with sessions() as session:
        one = recheck_status(session, NOW, "Example News")
        assert [r.outlet for r in one.outlets] == ["Example News"]
        assert (one.total.watching, one.total.checks_last_day) == (3, 3)
        with pytest.raises(UnknownOutlet, match="no outlet named 'Nope' \\(known: Example News\\)"):
            recheck_status(session, NOW, "Nope")
        # an hour later, the 10-minute-late check is overdue too; the rate is over complete clock hours:
        # 12:00-13:00 held no check (the 11:30 one is an hour older, the 13:00 one in the hour still running)
        later = recheck_status(session, NOW + timedelta(hours=1), "Example News").outlets[0]
        assert (later.due, later.overdue, later.checks_last_hour) == (3, 2, 0)


def test_an_archive_without_a_schedule_has_no_rows(sessions) -> None:
    with sessions() as session:
        status = recheck_status(session, NOW)
    assert status.outlets == [] and status.total.watching == 0
