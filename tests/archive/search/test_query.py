"""The query language against the fixture archive, on both backends; bad queries refused with their position."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text, update

from archive.db import ArticleVersion
from archive.search.index import reindex_all
from archive.search.query import MAX_QUERY_LENGTH, QueryError, parse_query
from archive.search.results import count_by, count_matches, search
from tests.archive.search.conftest import IndexedArchive

WIRE = {"wire", "ledger", "harbor"}  # the agency story and its two reprints
ENGLISH = WIRE | {"tp", "tac"}


def found(archive: IndexedArchive, query: str, **options: bool) -> set[str]:
    with archive.sessions() as session:
        return archive.keys(m.article_id for m in search(session, parse_query(query), limit=None, **options))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("yongbyon", {"tp"}),
        ("Yongbyon pompeo", {"tp"}),  # implicit AND
        ('"missed opportunity"', WIRE),
        ('"opportunity missed"', set()),  # a phrase keeps its order
        ("opportunity AND missed", WIRE | {"tp"}),  # the words, anywhere
        ("pompeo OR larison OR ahn", ENGLISH),  # Larison is only tac's byline
        ("denuclear*", {"wire", "ledger", "harbor", "tp"}),
        ("Trump-Kim", {"tp"}),  # a hyphenated word is a phrase: "trump kim" follow each other only in tp's title
        ("summits", ENGLISH),  # stemmed: summit, summits
        ("sanctions NOT yongbyon", {"wire", "ledger", "harbor", "tac"}),
        ('sanctions -yongbyon -"missed opportunity"', {"tac"}),
        ("(pompeo OR larison) AND (yongbyon OR nothing)", {"tp", "tac"}),
        ("title:hanoi", {"tac", "harbor", "german"}),
        ("title:(collapses OR gipfel)", {"tac", "german"}),
        ("author:larison", {"tac"}),
        ("author:corbett OR author:larison", {"wire", "tac"}),
        ("hanoi AND outlet:ThinkProgress", {"tp"}),
        ('hanoi outlet:("harbor times" OR "Valley Ledger")', {"harbor", "ledger", "german"}),
        ('hanoi NOT outlet:"Harbor Times"', {"wire", "ledger", "tp", "tac"}),
        ("hanoi language:de", {"german"}),
        ("hanoi published:[2019-03-01 TO 2019-03-04]", {"harbor", "tac"}),
        ("hanoi published:{2019-02-28 TO 2019-03-04}", {"harbor"}),
        ("hanoi published:2019-03-05", {"german"}),
        ("published:[* TO 2019-02-28]", {"wire", "ledger", "tp"}),  # filters alone: every article they let through
        ("armoured", {"tp"}),  # only in the newest version
        ("warmbier", set()),  # only in the first version
    ],
)
def test_the_query_language_finds_the_expected_articles(archive: IndexedArchive, query: str, expected: set) -> None:
    assert found(archive, query) == expected


def test_every_version_is_searched_when_asked(archive: IndexedArchive) -> None:
    with archive.sessions() as session:
        matches = list(search(session, parse_query("warmbier OR armoured"), all_versions=True, limit=None))
    assert [archive.keys([m.article_id]) for m in matches] == [{"tp"}, {"tp"}]
    assert len({m.version_id for m in matches}) == 2
    assert found(archive, "warmbier", all_versions=True) == {"tp"}


def test_phrases_are_found_alike_in_short_texts_and_in_texts_too_long_for_word_pairs(archive: IndexedArchive) -> None:
    """PostgreSQL finds a phrase by the pairs of words a document holds, or by positions in a text too long to
    hold them (over 250 kB here, in 4,200 words): both find what SQLite finds."""
    long_text = "word" * 15 + " "
    texts = {
        "tp": "The missed opportunity remains.",
        "tac": long_text * 4_200 + "Still, the missed opportunity remains.",
    }
    with archive.sessions.begin() as session:
        for key, body in texts.items():
            version = update(ArticleVersion).where(ArticleVersion.article_id == archive.ids[key])
            session.execute(version.values(text=body))
        reindex_all(session.connection())
    assert found(archive, '"missed opportunity"') == WIRE | {"tp", "tac"}
    assert found(archive, '"missed opportunity remains"') == {"tp", "tac"}
    assert found(archive, '"opportunity missed"') == set()
    assert found(archive, '"remains missed"') == set()
    assert found(archive, "missed-opport*") == WIRE | {"tp", "tac"}  # a phrase ending in a prefix


def test_snippets_mark_the_matched_words(archive: IndexedArchive) -> None:
    with archive.sessions() as session:
        (match,) = search(session, parse_query("yongbyon"), marks=("<b>", "</b>"))
    assert "<b>Yongbyon</b>" in match.snippet
    assert match.outlet == "ThinkProgress" and match.day == "2019-02-28"


def test_counts_by_outlet_day_and_week(archive: IndexedArchive) -> None:
    query = parse_query("hanoi")
    with archive.sessions() as session:
        assert count_matches(session, query) == 6
        assert count_by(session, query, "outlet") == [
            ("Harbor Times", 2),
            ("Common Dreams", 1),
            ("The American Conservative", 1),
            ("ThinkProgress", 1),
            ("Valley Ledger", 1),
        ]
        assert count_by(session, query, "day") == [
            ("2019-02-28", 3),
            ("2019-03-01", 1),
            ("2019-03-04", 1),
            ("2019-03-05", 1),
        ]
        assert count_by(session, query, "week") == [("2019-02-25", 4), ("2019-03-04", 2)]
        # all versions: ThinkProgress's two versions both mention Hanoi
        assert dict(count_by(session, query, "outlet", all_versions=True))["ThinkProgress"] == 2


def test_reprints_collapse_into_their_original(archive: IndexedArchive) -> None:
    query = parse_query('"missed opportunity"')
    with archive.sessions() as session:
        (match,) = search(session, query, collapse_reprints=True)
        assert archive.keys([match.article_id]) == {"wire"} and match.reprint_of is None
        assert count_by(session, query, "day", collapse_reprints=True) == [("2019-02-28", 1)]
        ledger = next(m for m in search(session, query) if m.article_id == archive.ids["ledger"])
        assert ledger.reprint_of == archive.ids["wire"]
        # a group whose original does not match is represented by its earliest matching member
        (only,) = search(session, parse_query('"thursday afternoon"'), collapse_reprints=True)
        assert archive.keys([only.article_id]) == {"ledger"}


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ("", "empty", None),
        ("   ", "empty", None),
        ("(summit AND hanoi", "ends too early", 17),
        ('"missed opportunity', "quote is not closed", 0),
        ("summit)", "')' is not expected", 6),
        ("summit AND", "ends too early", 10),
        ("headline:summit", "unknown field headline:", 0),
        ("NOT summit", "only excludes", 0),
        ("-summit", "only excludes", 0),
        ("summit OR NOT hanoi", "NOT cannot stand alone inside OR", 10),
        ("summit OR outlet:ThinkProgress", "narrows the whole query", 10),
        ("summit published:[2019-02-30 TO 2019-03-01]", "not a day", 18),
        ("summit published:[2019-03-02 TO 2019-03-01]", "ends before it starts", 17),
        ("sum*it", "wildcard can only end a word", 0),
        ("s*", "at least two letters", 0),
        ("summit~2", "not supported", 0),
        ("summit \udcff", "not valid text", 7),
        ("summit ---", "ends too early", 10),
        ("(" * 30 + "summit" + ")" * 30, "deeper than", 20),
        (" ".join(["summit"] * 10_000), "characters long", None),
        (" ".join(["w"] * 1_000), "more than 200 words", 400),
        ('"' + " ".join(["w"] * 1_000) + '"', "more than 200 words", 0),
    ],
)
def test_bad_queries_are_refused_with_where(query: str, message: str, position: int | None) -> None:
    with pytest.raises(QueryError, match=re.escape(message)) as refused:
        parse_query(query)
    assert refused.value.position == position
    assert refused.value.exit_code == 2
    if position is not None:
        assert "^" in str(refused.value)
    assert len(query) <= MAX_QUERY_LENGTH or "at most" in str(refused.value)


def test_only_stop_words_are_refused_where_the_backend_drops_them(archive: IndexedArchive) -> None:
    query = parse_query("in AND an")  # stop words in English and in German, the fixture's two languages
    with archive.sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            with pytest.raises(QueryError, match="stop words"):
                count_matches(session, query)
        else:  # FTS5 keeps every word: the query is answered
            assert count_matches(session, query) > 0


def test_user_text_never_reaches_the_sql(archive: IndexedArchive) -> None:
    """Quotes, semicolons and FTS5 or tsquery operators in words are only ever letters to look for."""
    for query in ["hanoi'); DROP TABLE articles; --", 'hanoi" OR "x', "NEAR(hanoi trump)", "hanoi:* & !x | y"]:
        try:
            parsed = parse_query(query)
        except QueryError:
            continue
        with archive.sessions() as session:
            assert count_matches(session, parsed) <= 6
    with archive.sessions() as session:
        assert count_matches(session, parse_query("hanoi")) == 6


@pytest.mark.parametrize("new_database_url", ["postgresql"], indirect=True)  # SQLite has no planner settings
def test_a_count_leaves_the_callers_planner_settings_as_they_were(archive: IndexedArchive) -> None:
    """A count plans with settings of its own (no sequential scan, more memory); the caller's transaction goes
    on with its own."""
    with archive.sessions() as session:
        session.execute(text("SET LOCAL work_mem = '5MB'"))
        assert count_matches(session, parse_query("summit AND hanoi")) > 0
        settings = session.execute(
            text("SELECT current_setting('work_mem'), current_setting('enable_seqscan'), current_setting('jit')")
        ).one()
        assert tuple(settings) == ("5MB", "on", "on")
