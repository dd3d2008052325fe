"""Stories: definitions from TOML files, and which articles belong to each, and why."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.cli import main
from archive.db import Story, open_database, session_factory
from archive.queries import coverage, find_story
from archive.stories import StoryDefinition, StoryError, load_story, resync_stories, sync_story
from tests.archive import searchfixture
from tests.conftest import REPO, CrawlRun
from tests.fixtureweb.server import CD_ARTICLE, TAC_ARTICLE, TP_ARTICLE

STORY_FILE = REPO / "stories" / "hanoi-summit-2019.toml"
REDIRECTING_LINK = "http://feeds.thinkprogress.org/~r/thinkprogress/~3/hanoi/"  # 302, 301, then TP_ARTICLE
TAC_FEED = "http://www.theamericanconservative.com/feed/"


@pytest.fixture
def sessions(fixture_crawl: CrawlRun, database_url: str):
    """The fixture crawl, rebuilt into a fresh database on each backend."""
    assert main(["--data", str(fixture_crawl.data_dir), "--database", database_url, "reindex"]) == 0
    engine = open_database(database_url)
    yield session_factory(engine)
    engine.dispose()


def test_the_fixture_story_file_is_valid() -> None:
    story = load_story(STORY_FILE)
    assert story.name == "hanoi-summit-2019" and "Hanoi summit" in story.terms
    assert (story.start, story.end) == (date(2019, 2, 20), date(2019, 3, 31))


def test_syncing_the_fixture_story_finds_each_outlets_article_with_the_terms_it_matched(sessions) -> None:
    with sessions.begin() as session:
        result = sync_story(session, load_story(STORY_FILE))
    assert (result.members, result.by_terms, result.by_seeds, result.added, result.removed) == (3, 3, 0, 3, 0)
    with sessions() as session:
        rows = {row.url: row for row in coverage(session, find_story(session, "hanoi-summit-2019"))}
    # what each article's extracted headline and text say (the hotel is named only in a photo caption)
    assert {url: row.matched_terms for url, row in rows.items()} == {
        CD_ARTICLE: ["Hanoi summit", "Kim Jong Un"],
        TP_ARTICLE: ["Trump-Kim summit", "Kim Jong Un", "Kim Jong-un"],
        TAC_ARTICLE: ["Hanoi summit", "Kim Jong-un"],
    }
    assert {row.outlet for row in rows.values()} == {"Common Dreams", "ThinkProgress", "The American Conservative"}
    assert all(row.versions == 1 and row.captures == 1 and row.published == "2019-02-28" for row in rows.values())
    assert all(row.seed is None and row.story == "hanoi-summit-2019" for row in rows.values())


def test_seeds_name_articles_by_any_address_or_by_the_feed_that_listed_them(sessions, tmp_path: Path) -> None:
    path = tmp_path / "seeded.toml"
    path.write_text(
        'name = "seeded"\n'
        'terms = ["Hanoi summit"]\n'
        "start = 2020-01-01\n"  # after every article: no term match counts
        f'seeds = ["{REDIRECTING_LINK}", "{TAC_FEED}", "http://example.org/never-crawled"]\n'
    )
    with sessions.begin() as session:
        result = sync_story(session, load_story(path))
    assert (result.members, result.by_terms, result.by_seeds) == (2, 0, 2)
    assert result.unresolved_seeds == ["http://example.org/never-crawled"]
    with sessions() as session:
        rows = {row.url: (row.seed, row.matched_terms) for row in coverage(session, find_story(session, "seeded"))}
    assert rows == {TP_ARTICLE: (REDIRECTING_LINK, []), TAC_ARTICLE: (TAC_FEED, [])}

    path.write_text('name = "seeded"\nterms = ["Kim Jong Un"]\n')  # redefined: membership follows
    with sessions.begin() as session:
        result = sync_story(session, load_story(path))
    assert (result.members, result.added, result.removed) == (2, 1, 1)
    with sessions() as session:
        assert {row.url for row in coverage(session, find_story(session, "seeded"))} == {CD_ARTICLE, TP_ARTICLE}


def test_a_story_defined_by_a_query_is_answered_through_the_index(database_url: str, tmp_path: Path) -> None:
    engine = open_database(database_url)
    sessions = session_factory(engine)
    ids = searchfixture.build(tmp_path / "warcs", sessions)  # indexed by the ingester, as a crawl is
    path = tmp_path / "query.toml"
    path.write_text('name = "by-query"\nquery = \'"missed opportunity" AND NOT outlet:"Harbor Times"\'\n')
    definition = load_story(path)
    with sessions.begin() as session:
        result = sync_story(session, definition)
        rows = {row.article_id: row.matched_terms for row in coverage(session, find_story(session, "by-query"))}
    # the wire story and the Valley Ledger's reprint; Harbor Times's is left out by the query
    assert (result.members, result.by_query, result.by_terms) == (2, 2, 0)
    assert rows == {ids["wire"]: [definition.query], ids["ledger"]: [definition.query]}
    # every version counts: ThinkProgress's first told of Otto Warmbier, its second no longer does
    path.write_text('name = "by-query"\nquery = "warmbier"\nterms = ["Yongbyon"]\nend = 2019-03-31\n')
    with sessions.begin() as session:
        result = sync_story(session, load_story(path))
        rows = {row.article_id: row.matched_terms for row in coverage(session, find_story(session, "by-query"))}
    assert (result.members, result.by_query, result.by_terms, result.removed) == (1, 1, 1, 2)
    assert rows == {ids["tp"]: ["Yongbyon", "warmbier"]}
    path.write_text('name = "by-query"\nquery = "hanoi"\nend = 2019-01-01\n')  # the date range bounds it too
    with sessions.begin() as session:
        assert sync_story(session, load_story(path)).members == 0
    engine.dispose()


def test_a_story_with_hundreds_of_terms_syncs_on_every_backend(sessions) -> None:
    """Issue 13: 499 terms or more made one OR too deep for SQLite; the candidate query is now batched."""
    terms = tuple(f"zzz-unheard-of-{i}" for i in range(999)) + ("Hanoi summit",)
    story = StoryDefinition(name="many", terms=terms, start=date(2019, 1, 1), end=date(2019, 12, 31))
    with sessions.begin() as session:
        result = sync_story(session, story)
    assert (result.members, result.by_terms) == (2, 2)
    with sessions() as session:
        rows = {row.url: row.matched_terms for row in coverage(session, find_story(session, "many"))}
    assert rows == {CD_ARTICLE: ["Hanoi summit"], TAC_ARTICLE: ["Hanoi summit"]}


def test_stories_are_resynced_from_their_stored_definitions(sessions) -> None:
    with sessions.begin() as session:
        sync_story(session, StoryDefinition(name="kim", terms=("Kim Jong-un",), source="kim.toml"))
    with sessions.begin() as session:
        (result,) = resync_stories(session)
        story = session.scalar(select(Story).where(Story.name == "kim"))
        assert story is not None and story.definition["source"] == "kim.toml"
    assert (result.story, result.members, result.added, result.removed) == ("kim", 2, 0, 0)


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        ('name = "Hanoi Summit"\nterms = ["x"]', "name", "lower-case letters"),
        ('name = "x"\nterms = ["x"]\nsubject = "y"', "subject", "unknown field"),
        ('name = "x"', "terms", "needs terms, a query or seeds"),
        ('name = "x"\nquery = "(hanoi AND summit"', "query", "ends too early"),
        ('name = "x"\nquery = \'"missed opportunity\'', "query", "quote is not closed"),
        ('name = "x"\nquery = "headline:hanoi"', "query", "unknown field headline:"),
        ('name = "x"\nquery = ["hanoi"]', "query", "must be a string"),
        ('name = "x"\nquery = "   "', "query", "empty"),
        ('name = "x"\nterms = ["x", ""]', "terms", "non-empty strings"),
        ('name = "x"\nseeds = ["www.example.com/a"]', "seeds[0]", "not an absolute http(s) URL"),
        ('name = "x"\nterms = ["x"]\nstart = "2019-02-20"', "start", "must be a date"),
        ('name = "x"\nterms = ["x"]\nstart = 2019-03-01\nend = 2019-02-01', "end", "is before start"),
        ('name = "x"\nterms = ["x"', "", "not valid TOML"),
        # issue 13: these broke SQLite's expression limits or PostgreSQL at sync time
        ('name = "x"\nterms = [' + ", ".join(['"t"'] * 1001) + "]", "terms", "more than 1000"),
        ('name = "x"\nterms = ["' + "w " * 500_000 + '"]', "terms[0]", "longer than 200"),
        ('name = "x"\nterms = ["Kim\\u0000Jong"]', "terms[0]", "NUL"),
        ('name = "x"\ntitle = "\\u0000"\nterms = ["x"]', "title", "NUL"),
        (f'name = "{"x" * 201}"\nterms = ["x"]', "name", "longer than 200"),
        ('name = "x"\nseeds = ["http://example.com/' + "x" * 2100 + '"]', "seeds[0]", "longer than 2083"),
    ],
)
def test_a_bad_story_file_is_reported_with_file_and_field(
    tmp_path: Path, content: str, field: str, message: str
) -> None:
    path = tmp_path / "story.toml"
    path.write_text(content)
    with pytest.raises(StoryError, match=re.escape(message)) as raised:
        load_story(path)
    assert raised.value.field == field and str(raised.value).startswith(f"{path}: ")


def test_the_cli_refuses_a_bad_story_file_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n')
    assert main(["--data", str(tmp_path), "stories", "sync", str(STORY_FILE), str(bad)]) == 2
    assert f"{bad}: terms: a story needs terms" in capsys.readouterr().err
    bad.write_text('name = "x"\nquery = "summit published:[2019-03-02 TO 2019-03-01]"\n')
    assert main(["--data", str(tmp_path), "stories", "sync", str(bad)]) == 2
    assert f"{bad}: query: published: the range ends before it starts" in capsys.readouterr().err
    assert main(["--data", str(tmp_path), "stories", "list"]) == 0
    assert "no stories" in capsys.readouterr().out
