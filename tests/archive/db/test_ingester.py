"""Ingesting records: articles by story URL, versions by content, aliases, listed dates, revisits.

Each scenario is written as WARC files by the real writer and ingested in the
order the indexer would see it; then the same files are rebuilt into a fresh
database, which must hold the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from archive.db import Article, ArticleVersion, Capture, Observation, Url, open_database, session_factory
from archive.db.ingester import Ingester
from archive.queries import article_timeline, captures_of, find_article
from archive.rebuild import rebuild
from archive.warc.files import warc_files
from tests.archive.dbdump import dump
from tests.archive.recording import Recording, at

STORY = "http://www.example.com/news/story"


@pytest.fixture
def sessions(database_url: str):
    engine = open_database(database_url)
    yield session_factory(engine)
    engine.dispose()


def rebuilt_dump(folder: Path, url: str) -> dict:
    engine = open_database(url)
    try:
        report = rebuild(Ingester(session_factory(engine)), warc_files([folder]))
        assert report.damaged == []
        with session_factory(engine)() as session:
            return dump(session)
    finally:
        engine.dispose()


def live_dump(sessions: sessionmaker[Session]) -> dict:
    with sessions() as session:
        return dump(session)


def test_a_recrawl_adds_captures_and_a_version_only_when_headline_or_text_change(
    tmp_path: Path, sessions, new_database_url: Callable[[], str]
) -> None:
    rec = Recording(tmp_path / "warcs")
    crawls = [
        ("Summit ends", "Talks collapsed.\nNo deal was reached.", {"author": "A. Writer"}),
        ("Summit ends", "Talks collapsed.\nNo deal was reached.", {"author": "A. Writer, B. Writer"}),
        ("Summit ends early", "Talks collapsed.\nNo deal was reached.", {}),  # a new headline
        ("Summit ends early", "Talks collapsed early.\nNo deal was reached.\nTrump left.", {}),  # an update
        ("Summit ends", "Talks collapsed.\nNo deal was reached.", {}),  # reverted to the first
    ]
    for hour, (title, text, meta) in enumerate(crawls):
        response = rec.page(STORY, f"<html>{title} {text}</html>", at(hour))
        rec.article(response, STORY, title, text, at(hour), published="2019-02-28", **meta)
    rec.close()
    ingester = Ingester(sessions)
    ingester.ingest(rec.records)

    assert (ingester.counts.captures, ingester.counts.articles, ingester.counts.versions) == (5, 1, 3)
    with sessions() as session:
        article = find_article(session, STORY)
        assert article is not None and article.first_seen_at == at(0).replace(tzinfo=None)
        timeline = article_timeline(session, article)
        assert [(v.version, v.headline, v.captures) for v in timeline] == [
            (1, "Summit ends", 3),
            (2, "Summit ends early", 1),
            (3, "Summit ends early", 1),
        ]
        first = timeline[0]
        # the unchanged text kept its first extraction (a byline change alone is not a version)
        assert (first.author, first.first_seen.hour, first.last_seen.hour) == ("A. Writer", 15, 19)
        assert (timeline[1].headline_changed, timeline[1].words_added, timeline[1].words_removed) == (True, 0, 0)
        assert (timeline[2].headline_changed, timeline[2].words_added, timeline[2].words_removed) == (False, 4, 1)
        # every capture points at the version it showed, and its own extraction record
        observations = session.execute(
            select(Capture.fetched_at, ArticleVersion.title, Observation.record_id)
            .join(Observation, Observation.capture_id == Capture.id)
            .join(ArticleVersion, ArticleVersion.id == Observation.version_id)
            .order_by(Capture.fetched_at)
        ).all()
        assert len({o.record_id for o in observations}) == 5
        assert [c.version for c in captures_of(session, STORY)] == [1, 1, 2, 3, 1]
    assert live_dump(sessions) == rebuilt_dump(tmp_path / "warcs", new_database_url())


def test_an_article_is_known_by_its_canonical_url_on_its_outlet(
    tmp_path: Path, sessions, new_database_url: Callable[[], str]
) -> None:
    rec = Recording(tmp_path / "warcs")
    amp = "http://www.example.com/news/story/amp?utm_source=twitter"
    syndicated = "http://www.example.com/wire/story-copy"
    for hour, (url, canonical) in enumerate(
        [
            (amp, "https://WWW.example.com:443/news/story?utm_campaign=x#top"),  # on the outlet: it names the story
            (STORY, "https://www.example.com/news/story"),
            (syndicated, "https://other-paper.org/original-story"),  # elsewhere: the page's own address
        ]
    ):
        response = rec.page(url, "<html>x</html>", at(hour))
        rec.article(response, url, "Story", "Same words.", at(hour), canonical_url=canonical)
    rec.close()
    Ingester(sessions).ingest(rec.records)

    with sessions() as session:
        articles = {a.url.url: len(a.versions) for a in session.scalars(select(Article))}
        assert articles == {"https://www.example.com/news/story": 1, syndicated: 1}
        story = find_article(session, amp)
        assert story is not None and story.url.url == "https://www.example.com/news/story"
        assert find_article(session, STORY) == story
        aliases = session.scalars(select(Url.url).where(Url.canonical_id == story.url_id)).all()
        assert sorted(aliases) == sorted([amp, STORY])
        assert len(captures_of(session, "https://www.example.com/news/story")) == 2
    assert live_dump(sessions) == rebuilt_dump(tmp_path / "warcs", new_database_url())


@pytest.mark.parametrize("feed_first", [True, False])
def test_a_listing_dates_the_article_its_redirecting_link_leads_to(
    tmp_path: Path, sessions, new_database_url: Callable[[], str], feed_first: bool
) -> None:
    rec = Recording(tmp_path / "warcs")
    shortlink, click = "http://www.example.com/?p=42", "http://feeds.example.com/~r/42"

    def feed() -> None:
        response = rec.page("http://www.example.com/feed", "<rss/>", at(0))
        rec.listing(response, "http://www.example.com/feed", [(click, "2019-02-27"), (STORY, None)], at(0))

    if feed_first:
        feed()
    rec.page(click, "moved", at(1), status=302, location=shortlink)
    rec.page(shortlink, "moved", at(1), status=301, location=STORY)
    response = rec.page(STORY, "<html>story</html>", at(1))
    rec.article(response, STORY, "Story", "Words.", at(1), published="2019-02-28")
    if not feed_first:
        feed()
    rec.close()
    Ingester(sessions).ingest(rec.records)

    with sessions() as session:
        article = find_article(session, click)
        assert article is not None and article.url.url == STORY
        assert (article.published, article.listed_published, article.listed_source) == (
            "2019-02-28",
            "2019-02-27",
            "feed",
        )
        chain = [c.url for c in captures_of(session, STORY)]
        assert sorted(chain) == sorted([click, shortlink, STORY])
    assert live_dump(sessions) == rebuilt_dump(tmp_path / "warcs", new_database_url())


def test_a_revisit_is_a_capture_of_the_version_its_original_showed(
    tmp_path: Path, sessions, new_database_url: Callable[[], str]
) -> None:
    rec = Recording(tmp_path / "warcs")
    original = rec.page(STORY, "<html>story</html>", at(0))
    rec.article(original, STORY, "Story", "Words.", at(0))
    first = rec.revisit(STORY, at(24), rec.response(original))  # by WARC-Refers-To, not re-extracted
    second = rec.revisit(STORY, at(48), rec.response(original), by_id=False)  # by URI and date only
    rec.close()
    ingester = Ingester(sessions)
    ingester.ingest(rec.records)

    assert (ingester.counts.captures, ingester.counts.revisits, ingester.counts.versions) == (3, 2, 1)
    with sessions() as session:
        revisits = session.scalars(select(Capture).where(Capture.is_revisit.is_(True)).order_by(Capture.id)).all()
        assert [r.record_id for r in revisits] == [first, second]
        assert all(r.original is not None and r.original.record_id == original for r in revisits)
        assert revisits[0].refers_to_record_id == original and revisits[1].refers_to_record_id is None
        assert revisits[1].refers_to_uri == STORY and revisits[1].refers_to_date == at(0).replace(tzinfo=None)
        assert all(r.revisit_profile and r.revisit_profile.endswith("identical-payload-digest") for r in revisits)
        (version,) = session.scalars(select(ArticleVersion)).all()
        assert (version.first_capture.record_id, version.last_capture.record_id) == (original, second)
        # a revisit's observation has no extraction record of its own
        assert [o.record_id is None for o in version.observations] == [False, True, True]
        rows = captures_of(session, STORY)
        assert [(r.is_revisit, r.original_record_id, r.version) for r in rows] == [
            (False, None, 1),
            (True, original, 1),
            (True, original, 1),
        ]
    assert live_dump(sessions) == rebuilt_dump(tmp_path / "warcs", new_database_url())


def test_a_revisit_indexed_before_its_original_is_linked_when_the_original_arrives(
    tmp_path: Path, sessions, new_database_url: Callable[[], str]
) -> None:
    # two crawlers share a folder; the second's file sorts first, so a rebuild reads its revisit first
    first = Recording(tmp_path / "warcs", prefix="a-crawler")
    second = Recording(tmp_path / "warcs", prefix="b-crawler")
    original = second.page(STORY, "<html>story</html>", at(0))
    second.article(original, STORY, "Story", "Words.", at(0))
    revisit = first.revisit(STORY, at(1), second.response(original))
    first.close(), second.close()
    Ingester(sessions).ingest(second.records)  # live: the original was indexed first
    Ingester(sessions).ingest(first.records)

    rebuilt_url = new_database_url()
    assert [p.name.split("-")[0] for p in warc_files([tmp_path / "warcs"])] == ["a", "b"]
    assert live_dump(sessions) == rebuilt_dump(tmp_path / "warcs", rebuilt_url)
    engine = open_database(rebuilt_url)
    with session_factory(engine)() as session:
        capture = session.scalar(select(Capture).where(Capture.record_id == revisit))
        assert capture is not None and capture.original is not None and capture.original.record_id == original
        assert capture.observation is not None and capture.observation.version.title == "Story"
    engine.dispose()


def test_a_capture_extracted_again_moves_to_the_version_it_now_shows(tmp_path: Path, sessions) -> None:
    rec = Recording(tmp_path / "warcs")
    original = rec.page(STORY, "<html>story</html>", at(0))
    rec.article(original, STORY, "Story", "Words.", at(0))
    revisit = rec.revisit(STORY, at(1), rec.response(original))
    # a newer extractor reads the same body differently: the revisit's own extraction
    rec.article(revisit, STORY, "Story", "Words, read better.", at(2), extractor_version="3.0")
    rec.close()
    Ingester(sessions).ingest(rec.records)
    with sessions() as session:
        versions = session.scalars(select(ArticleVersion).order_by(ArticleVersion.id)).all()
        assert [(v.text, len(v.observations)) for v in versions] == [("Words.", 1), ("Words, read better.", 1)]
        assert versions[0].last_capture.record_id == original
        assert versions[1].first_capture.record_id == revisit


def test_ingesting_the_same_records_twice_adds_nothing(tmp_path: Path, sessions) -> None:
    rec = Recording(tmp_path / "warcs")
    response = rec.page(STORY, "<html>story</html>", at(0))
    rec.article(response, STORY, "Story", "Words.", at(0))
    rec.close()
    Ingester(sessions).ingest(rec.records)
    before = live_dump(sessions)
    again = Ingester(sessions)
    again.ingest(rec.records)
    assert (again.counts.captures, again.counts.observations, again.counts.skipped) == (0, 0, 2)
    assert live_dump(sessions) == before
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Observation)) == 1


def test_unparseable_urls_are_counted_and_left_out_and_everything_else_is_indexed(
    tmp_path: Path, sessions, new_database_url: Callable[[], str], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 13, 1: a canonical link to port 99999 killed the indexer (and every rebuild after it)."""
    rec = Recording(tmp_path / "warcs")
    bad_port = "http://www.example.com:99999/news/story"
    moved = rec.page("http://www.example.com/old", "moved", at(0), status=301, location="http://[::1/news")
    rec.page(bad_port, "<html>a capture at a port no server has</html>", at(0))
    response = rec.page(STORY, "<html>story</html>", at(1))
    rec.article(response, STORY, "Story", "Words.", at(1), canonical_url=bad_port)
    feed = rec.page("http://www.example.com/feed", "<rss/>", at(2))
    listed = [
        (bad_port, None),
        ("http://www.example.com/a\x00b", None),
        ("http://www.example.com/" + "x" * 10_000, None),
    ]
    rec.listing(feed, "http://www.example.com/feed", [*listed, (STORY, "2019-02-27")], at(2))
    rec.close()
    ingester = Ingester(sessions)
    ingester.ingest(rec.records)

    assert ingester.counts.unparseable == 6 and ingester.counts.captures == 3
    assert f"response record {rec.response(moved).record_id}: redirect target (Location) left out" in caplog.text
    assert "capture (target URI) left out: unparseable URL 'http://www.example.com:99999/news/story'" in caplog.text
    assert "… (10,023 characters)" in caplog.text
    with sessions() as session:
        assert bad_port not in set(session.scalars(select(Url.url)))
        assert session.scalar(select(Capture.redirect_url).where(Capture.record_id == moved)) is None
        article = find_article(session, STORY)
        assert article is not None and article.url.url == STORY
        assert (article.versions[0].canonical_url, article.listed_published) == (None, "2019-02-27")
    assert live_dump(sessions) == rebuilt_dump(tmp_path / "warcs", new_database_url())
