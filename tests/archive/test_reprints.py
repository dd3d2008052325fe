"""Reprint groups on the search fixture: one agency story reprinted by two outlets with small edits and cuts
groups, with its earliest capture as original; other articles on the same summit stay apart."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from archive import reprints
from archive.db import Article, open_database, session_factory
from archive.db.ingester import Ingester
from archive.reprints import MIN_WORDS, THRESHOLD, add_articles, signature, similar
from tests.archive import searchfixture


def groups(sessions: sessionmaker[Session]) -> dict[int, set[int]]:
    with sessions() as session:
        found: dict[int, set[int]] = {}
        for article_id, group_id in session.execute(text("SELECT article_id, group_id FROM article_signatures")):
            found.setdefault(group_id, set()).add(article_id)
        return found


def test_the_wire_story_and_its_reprints_group_and_nothing_else(database_url: str, tmp_path: Path) -> None:
    engine = open_database(database_url)
    sessions = session_factory(engine)
    ids = searchfixture.build(tmp_path / "warcs", sessions)
    with sessions.begin() as session:
        add_articles(session.connection(), ids.values())
        add_articles(session.connection(), ids.values())  # signed already: nothing changes
    assert groups(sessions) == {
        ids["wire"]: {ids["wire"], ids["ledger"], ids["harbor"]},
        ids["tp"]: {ids["tp"]},
        ids["tac"]: {ids["tac"]},
        ids["german"]: {ids["german"]},
    }
    with sessions() as session:
        found = similar(session.connection(), ids["harbor"])
        assert [(s.article_id, s.original) for s in found] == [(ids["wire"], True), (ids["ledger"], False)]
        assert all(THRESHOLD <= s.similarity <= 1 for s in found)
        assert found[0].outlet == "Common Dreams"
        assert similar(session.connection(), ids["tp"]) == []
    engine.dispose()


def test_an_earlier_capture_indexed_later_becomes_the_original(database_url: str, tmp_path: Path) -> None:
    """A rebuild or a second crawler may index the reprint before the original: the group follows capture time."""
    pieces = searchfixture.pieces()
    rec = searchfixture.OutletsRecording(tmp_path / "warcs")
    engine = open_database(database_url)
    sessions = session_factory(engine)
    for key in ("ledger", "harbor", "wire"):  # the wire story was captured first (hour 0), indexed last
        start = len(rec.records)
        searchfixture.capture(rec, pieces[key])
        Ingester(sessions).ingest(rec.records[start:])
        with sessions.begin() as session:
            article = session.scalar(select(Article.id).order_by(Article.id.desc()).limit(1))
            add_articles(session.connection(), [article])
    rec.close()
    (group,) = groups(sessions).items()
    with sessions() as session:
        wire = session.scalar(select(Article.id).order_by(Article.first_seen_at).limit(1))
    assert group == (wire, set(group[1])) and len(group[1]) == 3
    engine.dispose()


def test_texts_too_short_to_judge_stand_alone() -> None:
    assert signature(" ".join(["word"] * (MIN_WORDS - 1))) is None
    assert signature(" ".join(f"w{i}" for i in range(MIN_WORDS))) is not None


def test_the_bands_are_datasketchs_choice_for_the_threshold() -> None:
    """The module writes them out so that importing it does not load datasketch (and scipy and redis)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=reprints.THRESHOLD, num_perm=reprints.NUM_PERM)
    assert (lsh.b, lsh.r) == (reprints.BANDS, reprints.ROWS)
