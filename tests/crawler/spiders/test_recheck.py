"""Rechecks against an outlet whose articles change under test control (tests/recheckweb.py).

Each crawl is a real ``scrapy crawl`` in its own process, through the outlet
on loopback. The schedules use second-scale policies so that "due" comes
within a test; the policy arithmetic itself is tested in tests/archive/test_rechecks.py.
"""

from __future__ import annotations

import html
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.config import ArchivePaths
from archive.db import open_database, session_factory
from archive.db.ingester import Ingester
from archive.db.models import Article, ArticleVersion, Capture, Observation, RecheckSchedule, Url
from archive.rebuild import rebuild
from archive.warc import read_record
from archive.warc.files import closed_warcs
from archive.warc.records import SERVER_NOT_MODIFIED
from archive.web.pywb import COLLECTION, PywbServer
from tests.conftest import REPO, TEST_CRAWL_SETTINGS
from tests.fixtureweb.__main__ import proxy_env
from tests.recheckweb import SITE, SITENAME, SLUGS, RecheckWeb
from tests.tools import tool

#: Due a second after each check for a minute, then settled.
FAST = '[outlet.recheck]\nsteps = [{ until = "1m", every = "1s" }]\n'
#: Due an hour after each check: one due period spans the test.
HOURLY = '[outlet.recheck]\nsteps = [{ until = "1d", every = "1h" }]\n'


@pytest.fixture
def web() -> Iterator[RecheckWeb]:
    with RecheckWeb() as web:
        yield web


def crawl(web: RecheckWeb, data: Path, spider: str, *args: str, **settings: str) -> str:
    command = [sys.executable, "-m", "scrapy", "crawl", spider]
    for arg in args:
        command += ["-a", arg]
    for name, value in {**TEST_CRAWL_SETTINGS, "ARCHIVE_DATA_DIR": str(data), **settings}.items():
        command += ["-s", f"{name}={value}"]
    web.clear_log()
    done = subprocess.run(command, cwd=REPO, env=proxy_env(web.url), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done.stdout + done.stderr


def seeded(web: RecheckWeb, tmp_path: Path, policy: str) -> tuple[Path, Path]:
    seeds = tmp_path / "seeds.toml"
    seeds.write_text(web.seed_toml(policy))
    data = tmp_path / "data"
    crawl(web, data, "news", f"seeds={seeds}")
    assert web.article_gets() == dict.fromkeys(SLUGS, 1)
    return seeds, data


def session(data: Path) -> Session:
    return session_factory(open_database(f"sqlite:///{data / 'archive.db'}"))()


def article(db: Session, slug: str) -> Article:
    return db.scalars(select(Article).join(Url, Url.id == Article.url_id).where(Url.url == f"{SITE}/news/{slug}")).one()


def test_a_recheck_finds_edits_unchanged_pages_and_deletions(web: RecheckWeb, tmp_path: Path) -> None:
    _, data = seeded(web, tmp_path, FAST)
    edited, gone, touched, *unchanged = SLUGS
    web.edit(edited)
    web.delete(gone, status=410)
    web.touch_chrome(touched)
    web.drop_from_feed(edited)  # the feed no longer lists it: only the schedule finds it
    time.sleep(1.5)

    log = crawl(web, data, "recheck")

    checks = {request.url.rsplit("/", 1)[1]: request for request in web.requests if "/news/" in request.url}
    assert set(checks) == set(SLUGS)
    for slug in SLUGS:  # every recheck asked conditionally, with the validators of the last capture
        assert checks[slug].header("If-None-Match") is not None
        assert checks[slug].header("If-Modified-Since") is not None
    assert {slug: checks[slug].status for slug in SLUGS} == {
        edited: 200,
        gone: 410,
        touched: 200,
        **dict.fromkeys(unchanged, 304),
    }
    assert f"'recheck/not_modified': {len(unchanged)}" in log  # answers, not HTTP errors
    with session(data) as db:
        assert len(article(db, edited).versions) == 2
        assert len(article(db, touched).versions) == 1  # a new page, the same text: a capture, no version
        assert db.get(RecheckSchedule, article(db, gone).id).state == "gone"
        assert db.get(RecheckSchedule, article(db, gone).id).next_check_at is None
        for slug in unchanged:
            item = article(db, slug)
            last = db.scalars(
                select(Capture).where(Capture.url_id == item.url_id).order_by(Capture.fetched_at.desc())
            ).first()
            assert last.status == 304 and last.is_revisit and last.revisit_profile == SERVER_NOT_MODIFIED
            first = item.versions[0].first_capture
            assert last.original_id == first.id
            # the 304 is an observation of the current version
            assert db.scalars(select(Observation.version_id).where(Observation.capture_id == last.id)).one() == (
                item.versions[0].id
            )
            record = read_record(data / "warcs" / last.warc_filename, last.warc_offset)
            assert record.rec_type == "revisit"
            assert record.rec_headers.get_header("WARC-Profile") == SERVER_NOT_MODIFIED
            assert record.rec_headers.get_header("WARC-Refers-To") == first.record_id
            assert record.rec_headers.get_header("WARC-Refers-To-Target-URI") == f"{SITE}/news/{slug}"
            assert record.http_headers.get_statuscode() == "304"
        versions = db.scalars(select(ArticleVersion)).all()
        assert len(versions) == len(SLUGS) + 1


def test_an_unchanged_body_is_not_extracted_again(web: RecheckWeb, tmp_path: Path) -> None:
    _, data = seeded(web, tmp_path, FAST)
    web.misbehave("ignores_conditionals")  # a full 200, byte for byte the body archived
    time.sleep(1.5)

    log = crawl(web, data, "recheck")

    assert all(r.status == 200 for r in web.requests if "/news/" in r.url)
    assert f"'recheck/unchanged': {len(SLUGS)}" in log
    assert "extraction/articles" not in log
    with session(data) as db:
        revisits = db.scalars(
            select(Capture).join(Url).where(Capture.is_revisit.is_(True), Url.url.contains("/news/"))
        ).all()
        assert len(revisits) == len(SLUGS)
        assert all(c.revisit_profile.endswith("identical-payload-digest") for c in revisits)


def test_a_304_to_an_unconditional_request_is_archived_as_received(web: RecheckWeb, tmp_path: Path) -> None:
    _, data = seeded(web, tmp_path, FAST)
    web.misbehave("wrong_304")
    time.sleep(1.5)

    crawl(web, data, "recheck", RECHECK_CONDITIONAL="False")

    assert all(r.status == 304 and r.header("If-None-Match") is None for r in web.requests if "/news/" in r.url)
    with session(data) as db:
        answers = db.scalars(select(Capture).where(Capture.status == 304)).all()
        assert len(answers) == len(SLUGS)
        assert not any(c.is_revisit for c in answers)  # a response record with the 304 as received
        assert len(db.scalars(select(ArticleVersion)).all()) == len(SLUGS)


def test_a_recheck_and_a_news_crawl_fetch_an_article_once_per_due_period(web: RecheckWeb, tmp_path: Path) -> None:
    seeds, data = seeded(web, tmp_path, HOURLY)

    crawl(web, data, "recheck", "due=all")
    assert web.article_gets() == dict.fromkeys(SLUGS, 1)
    log = crawl(web, data, "news", f"seeds={seeds}")
    assert sum(web.article_gets().values()) == 0
    assert f"'recheck/known_not_due': {len(SLUGS)}" in log
    crawl(web, data, "recheck")  # nothing is due for an hour
    assert sum(web.article_gets().values()) == 0


def test_the_schedule_decays_and_stops(web: RecheckWeb, tmp_path: Path) -> None:
    policy = '[outlet.recheck]\nsteps = [{ until = "10s", every = "1s" }, { until = "30s", every = "5s" }]\n'
    _, data = seeded(web, tmp_path, policy)

    def schedule() -> list[RecheckSchedule]:
        with session(data) as db:
            return list(db.scalars(select(RecheckSchedule)))

    def intervals() -> set[float | None]:
        return {(s.next_check_at - s.last_checked_at).total_seconds() if s.next_check_at else None for s in schedule()}

    assert intervals() == {1}  # just seen: the first step
    time.sleep(11)
    crawl(web, data, "recheck")  # unchanged for over 10 s (and under 30 s: a crawl takes seconds)
    assert intervals() == {5}
    time.sleep(20)
    crawl(web, data, "recheck")  # unchanged for over 30 s: settled
    assert {(s.state, s.next_check_at) for s in schedule()} == {("settled", None)}


def test_a_rebuild_restores_the_schedule_and_check_history(web: RecheckWeb, tmp_path: Path) -> None:
    _, data = seeded(web, tmp_path, FAST)
    web.edit(SLUGS[0])
    web.delete(SLUGS[1])
    time.sleep(1.5)
    crawl(web, data, "recheck")

    def state(url: str) -> tuple[list, list]:
        with session_factory(open_database(url))() as db:
            schedule = [
                (s.article.url.url, s.state, s.next_check_at, s.last_checked_at, s.last_changed_at, s.etag)
                for s in db.scalars(select(RecheckSchedule))
            ]
            captures = [
                (c.url.url, c.status, c.is_revisit, c.revisit_profile, c.etag)
                for c in db.scalars(select(Capture).order_by(Capture.fetched_at, Capture.id))
            ]
        return sorted(schedule), captures

    before = state(f"sqlite:///{data / 'archive.db'}")
    rebuilt = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    rebuild(Ingester(session_factory(open_database(rebuilt))), closed_warcs(data / "warcs"))
    assert state(rebuilt) == before


def test_not_modified_revisits_pass_warcio_check_and_replay_in_pywb(web: RecheckWeb, tmp_path: Path) -> None:
    _, data = seeded(web, tmp_path, FAST)
    time.sleep(1.5)
    crawl(web, data, "recheck")
    assert {r.status for r in web.requests if "/news/" in r.url} == {304}

    warcio = str(Path(sys.executable).parent / "warcio")
    for path in sorted((data / "warcs").glob("*.warc.gz")):
        checked = subprocess.run([warcio, "check", "-v", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout
    with session(data) as db:
        revisit = db.scalars(select(Capture).where(Capture.revisit_profile == SERVER_NOT_MODIFIED)).first()
        url, moment = revisit.url.url, revisit.fetched_at.strftime("%Y%m%d%H%M%S")
    headline = web.article(url.rsplit("/", 1)[1]).headline
    with PywbServer(ArchivePaths.resolve(data_dir=data), tool("wayback")) as pywb:
        # at the moment of the 304, the page as the capture holding its body shows it (not a bodiless 304)
        with urllib.request.urlopen(f"{pywb.url}/{COLLECTION}/{moment}id_/{url}", timeout=30) as answer:  # noqa: S310
            assert answer.status == 200
            assert headline in html.unescape(answer.read().decode())


def test_an_unstable_etag_costs_a_fetch_but_no_version(web: RecheckWeb, tmp_path: Path) -> None:
    _, data = seeded(web, tmp_path, FAST)
    web.misbehave("unstable_etag")  # a new ETag on every answer, the same body
    time.sleep(1.5)

    log = crawl(web, data, "recheck")

    assert {r.status for r in web.requests if "/news/" in r.url} == {200}
    assert f"'recheck/unchanged': {len(SLUGS)}" in log
    with session(data) as db:
        assert len(db.scalars(select(ArticleVersion)).all()) == len(SLUGS)
        # the validators sent next time are the latest answer's
        for schedule in db.scalars(select(RecheckSchedule)):
            assert schedule.etag == schedule.article.url.captures[-1].etag


def test_a_recheck_of_one_outlet_leaves_the_others(web: RecheckWeb, tmp_path: Path) -> None:
    _, data = seeded(web, tmp_path, FAST)
    time.sleep(1.5)
    crawl(web, data, "recheck", "outlet=Some Other Outlet")
    assert sum(web.article_gets().values()) == 0
    crawl(web, data, "recheck", f"outlet={SITENAME}")
    assert web.article_gets() == dict.fromkeys(SLUGS, 1)


def test_a_bad_due_argument_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "recheck", "-a", "due=soon", "-s", f"ARCHIVE_DATA_DIR={tmp_path}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "-a due= takes due or all, not 'soon'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_redirected_article_is_recorded_moved(web: RecheckWeb, tmp_path: Path) -> None:
    _, data = seeded(web, tmp_path, FAST)
    moved, target = SLUGS[0], SLUGS[1]
    web.redirect(moved, target)
    time.sleep(1.5)
    crawl(web, data, "recheck")
    assert any(r.status == 301 and r.url.endswith(moved) for r in web.requests)
    with session(data) as db:
        schedule = db.get(RecheckSchedule, article(db, moved).id)
        assert (schedule.state, schedule.next_check_at) == ("moved", None)
        # the target is an article of its own, still watched
        assert db.get(RecheckSchedule, article(db, target).id).state == "watching"
