"""The full-text index: made and filled by migration 0005, kept current as versions arrive, rebuilt on demand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text, update

from archive.db import Article, ArticleVersion, open_database, session_factory
from archive.db.ingester import Ingester
from archive.db.session import alembic_config, schema_revisions
from archive.reprints import clear_reprints
from archive.search.index import (
    clear_search_index,
    index_versions,
    refresh_articles,
    reindex_all,
    unindex_versions,
)
from archive.search.query import parse_query
from archive.search.results import count_by, count_matches, search
from archive.search.schema import (
    FACTS_TABLE,
    NEWEST_PARTITION,
    OLDER_PARTITION,
    SEARCH_TABLE,
    UNPAIRED,
    fact_tokens,
    is_search_structure,
    metadata,
)
from tests.archive import searchfixture
from tests.archive.recording import at
from tests.archive.search.conftest import IndexedArchive, index_everything


def hits(archive: IndexedArchive, query: str, all_versions: bool = False) -> set[str]:
    with archive.sessions() as session:
        found = search(session, parse_query(query), all_versions=all_versions, limit=None)
        return archive.keys(m.article_id for m in found)


def test_migration_0005_indexes_the_versions_already_there(database_url: str, tmp_path: Path) -> None:
    engine = open_database(database_url)
    records = searchfixture.write_archive(tmp_path / "warcs").records
    Ingester(session_factory(engine)).ingest(records)
    command.downgrade(alembic_config(engine), "0004")  # an archive indexed before the search tables existed
    engine.dispose()

    engine = open_database(database_url)  # migrates through 0005
    current, heads = schema_revisions(engine)
    assert current == heads
    sessions = session_factory(engine)
    with sessions() as session:
        assert count_matches(session, parse_query("yongbyon")) == 1
        assert count_matches(session, parse_query("warmbier"), all_versions=True) == 1
        groups = session.execute(text("SELECT COUNT(DISTINCT group_id), COUNT(*) FROM article_signatures")).one()
        assert tuple(groups) == (4, 6)  # the wire story and its two reprints are one group
    engine.dispose()


def test_migration_0009_builds_the_postgresql_documents_again(database_url: str, tmp_path: Path) -> None:
    """Documents of revision 0008 (words only) get their facts, pairs and padding; filters and phrases find them."""
    engine = open_database(database_url)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        return
    Ingester(session_factory(engine)).ingest(searchfixture.write_archive(tmp_path / "warcs").records)
    command.downgrade(alembic_config(engine), "0008")
    marked = text(f"SELECT COUNT(*) FROM {SEARCH_TABLE} WHERE document @@ CAST(:mark AS tsquery)")
    with engine.begin() as connection:
        connection.execute(
            text(
                f"UPDATE {SEARCH_TABLE} SET document = ts_delete(document, "
                "array(SELECT x FROM unnest(tsvector_to_array(document)) x WHERE x LIKE ' %'))"
            )
        )
        assert connection.scalar(marked, {"mark": "' len'"}) == 0
    engine.dispose()

    engine = open_database(database_url)  # migrates through 0009
    sessions = session_factory(engine)
    with sessions() as session:
        assert session.scalar(marked, {"mark": "' len'"}) == 6  # all but the German article's version
        assert count_matches(session, parse_query("yongbyon language:en published:[2019-01-01 TO 2019-12-31]")) == 1
        assert count_matches(session, parse_query('"working lunch"')) >= 1
    _check_integrity(IndexedArchive(sessions, {}, database_url))
    engine.dispose()


def test_the_migration_builds_exactly_the_search_tables(database_url: str) -> None:
    engine = open_database(database_url)
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        # SQLite's index is an FTS5 table beside a table of facts; PostgreSQL's holds the facts itself
        ours = set(metadata.tables) - ({FACTS_TABLE} if postgres else {SEARCH_TABLE})

        def include(name: str | None, kind: str, _parent: object) -> bool:
            return kind != "table" or name in ours

        def include_object(item: object, name: str | None, kind: str, _reflected: bool, _other: object) -> bool:
            return include(name, kind, None)

        context = MigrationContext.configure(
            connection, opts={"include_name": include, "include_object": include_object}
        )
        assert compare_metadata(context, metadata) == []
        names = set(connection.dialect.get_table_names(connection))
        assert ours <= names and is_search_structure(SEARCH_TABLE)
        assert {n for n in names if is_search_structure(n)} >= {SEARCH_TABLE, *ours}
        assert not is_search_structure("article_versions")
    engine.dispose()


def test_a_recrawl_adds_to_the_index_without_a_rebuild(archive: IndexedArchive, tmp_path: Path) -> None:
    rec = searchfixture.OutletsRecording(tmp_path / "recrawl")
    piece = searchfixture.pieces()["tac"]
    text_now = piece.text + "\nUpdate: the envoys meet again in Stockholm."
    response = rec.page(piece.url, "<html>updated</html>", at(48))
    rec.article(
        response,
        piece.url,
        piece.title,
        text_now,
        at(48),
        published=piece.published,
        language="en",
        author=piece.author,
    )
    rec.close()
    with archive.sessions() as session:
        before = set(session.scalars(select(ArticleVersion.id)))
    Ingester(archive.sessions).ingest(rec.records)
    with archive.sessions.begin() as session:
        new = set(session.scalars(select(ArticleVersion.id))) - before
        assert len(new) == 1
        index_versions(session.connection(), new)  # what the indexer does per batch
    assert hits(archive, "stockholm") == {"tac"}
    assert hits(archive, '"hanoi summit" larison', all_versions=True) == {"tac"}
    with archive.sessions() as session:
        assert count_matches(session, parse_query("larison"), all_versions=True) == 2


def test_indexing_twice_and_unindexing_keep_the_index_consistent(archive: IndexedArchive) -> None:
    index_everything(archive.sessions)  # a second time: nothing changes
    assert hits(archive, "yongbyon") == {"tp"}
    _check_integrity(archive)
    with archive.sessions.begin() as session:
        tp = [
            v.id for v in session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == archive.ids["tp"]))
        ]
        unindex_versions(session.connection(), tp)
        unindex_versions(session.connection(), tp)  # forgetting twice does nothing
    assert hits(archive, "yongbyon") == set()
    assert hits(archive, "sanctions") == {"wire", "ledger", "harbor", "tac"}


def test_the_facts_follow_an_article_as_it_changes(archive: IndexedArchive) -> None:
    """A later date for an article, or another version becoming its newest, reaches the index through
    ``refresh_articles`` (what the indexer calls for the articles a batch touched)."""
    tac, tp = archive.ids["tac"], archive.ids["tp"]
    assert hits(archive, "larison published:2019-03-04") == {"tac"}
    with archive.sessions.begin() as session:
        session.execute(update(Article).where(Article.id == tac).values(published="2020-01-02"))
        refresh_articles(session.connection(), [tac])
    assert hits(archive, "larison published:2019-03-04") == set()
    assert hits(archive, "larison published:[2020-01-01 TO 2020-01-31]") == {"tac"}
    assert hits(archive, "larison published:[2020-01-02 TO *]") == {"tac"}
    with archive.sessions() as session:
        assert ("2020-01-02", 1) in count_by(session, parse_query("hanoi"), "day")
    assert (hits(archive, "warmbier"), hits(archive, "armoured")) == (set(), {"tp"})
    with archive.sessions.begin() as session:  # the first version seen last after all: it is the newest
        first = session.scalars(
            select(ArticleVersion).where(ArticleVersion.article_id == tp).order_by(ArticleVersion.first_seen_at)
        ).first()
        first.first_seen_at = first.first_seen_at + timedelta(days=30)
        session.flush()
        refresh_articles(session.connection(), [tp, tp])
    assert (hits(archive, "warmbier"), hits(archive, "armoured")) == ({"tp"}, set())
    with archive.sessions() as session:
        assert count_matches(session, parse_query("hanoi")) == 6
        assert count_matches(session, parse_query("hanoi"), all_versions=True) == 7
    _check_integrity(archive)


def test_reindex_rebuilds_from_the_versions(archive: IndexedArchive) -> None:
    with archive.sessions.begin() as session:
        clear_search_index(session.connection())
        clear_reprints(session.connection())
    assert hits(archive, "yongbyon") == set()
    with archive.sessions.begin() as session:
        reindex_all(session.connection())
    assert hits(archive, "yongbyon") == {"tp"}
    assert hits(archive, "warmbier", all_versions=True) == {"tp"}
    with archive.sessions() as session:
        versions = session.scalar(select(func.count()).select_from(ArticleVersion))
        if session.get_bind().dialect.name == "postgresql":
            indexed = session.scalar(text(f"SELECT COUNT(*) FROM {SEARCH_TABLE}"))
        else:
            indexed = session.scalar(text(f"SELECT COUNT(*) FROM {SEARCH_TABLE}_docsize"))
        assert indexed == versions == 7
    _check_integrity(archive)


def test_postgresql_documents_live_out_of_line(archive: IndexedArchive) -> None:
    """Each document is moved out of its row, however short its article (the padding's purpose), so a count
    visits short rows; a rebuild writes the rows in day order, so a date range's matches share pages; the GIN
    index (built again after them) keeps its short pending list, which a count reads through."""
    with archive.sessions.begin() as session:
        if session.get_bind().dialect.name != "postgresql":
            return
        reindex_all(session.connection())  # every row written afresh: one TOAST value each, none left over
        out_of_line = 0
        for partition in (NEWEST_PARTITION, OLDER_PARTITION):
            toast = session.scalar(
                text(f"SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = '{partition}'::regclass")
            )
            out_of_line += session.scalar(text(f"SELECT COUNT(DISTINCT chunk_id) FROM {toast}"))
            days = session.scalars(text(f"SELECT day FROM {partition} ORDER BY ctid")).all()
            assert days == sorted(days)
            assert len(set(days)) > 1 or partition == OLDER_PARTITION  # (the fixture's older versions: one day)
        shortest = session.scalar(text("SELECT min(octet_length(text)) FROM article_versions"))
        assert out_of_line == session.scalar(text(f"SELECT COUNT(*) FROM {SEARCH_TABLE}")) == 7
        assert shortest < 2000  # the fixture has articles whose words alone would have stayed in the row
        options = session.scalars(
            text(
                "SELECT c.reloptions FROM pg_class c WHERE c.oid = 'ix_article_search_document'::regclass OR c.oid IN "
                "(SELECT inhrelid FROM pg_inherits WHERE inhparent = 'ix_article_search_document'::regclass)"
            )
        ).all()
        assert options == [["gin_pending_list_limit=256"]] * 3  # the partitioned index and each partition's


def _check_integrity(archive: IndexedArchive) -> None:
    """FTS5's own check that its index holds exactly the versions, as they read (it raises when not); in
    PostgreSQL, that each document's fact lexemes are its row's facts."""
    with archive.sessions() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text(f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rank) VALUES ('integrity-check', 1)"))
            return
        rows = session.execute(
            text(f"SELECT outlet_id, day, language, tsvector_to_array(document) FROM {SEARCH_TABLE}")
        ).all()
        assert rows
        for outlet_id, day, language, lexemes in rows:
            marks = {x for x in lexemes if x.startswith(" ") and x.count(" ") == 1 and x != UNPAIRED}
            assert marks == {f" {word}" for word in fact_tokens(outlet_id, day, language, newest=False).split()}
        indexed = set(session.scalars(text(f"SELECT version_id FROM {SEARCH_TABLE}")))
        newest = session.scalars(
            text(
                "SELECT DISTINCT ON (article_id) id FROM article_versions "
                "ORDER BY article_id, first_seen_at DESC, id DESC"
            )
        )
        assert set(session.scalars(text(f"SELECT version_id FROM {NEWEST_PARTITION}"))) == indexed & set(newest)
