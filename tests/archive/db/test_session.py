import logging
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, text

from archive.db import (
    Article,
    ArticleVersion,
    Base,
    Capture,
    Observation,
    SchemaError,
    Url,
    open_database,
    session_factory,
)
from archive.db.ingester import Ingester
from archive.db.session import alembic_config, schema_revisions
from archive.search.schema import is_search_structure
from archive.warc.records import ArchivedRecord, RecordLocation

WHEN = datetime(2019, 2, 28, 15, 0)


def models_context(connection: Connection) -> MigrationContext:
    """A context comparing the database with the models, leaving out search's own tables (tested with it)."""
    return MigrationContext.configure(
        connection, opts={"include_name": lambda name, kind, _parent: kind != "table" or not is_search_structure(name)}
    )


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = open_database(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(models_context(connection), Base.metadata)
    current, heads = schema_revisions(engine)
    engine.dispose()
    assert diff == []
    assert current == heads


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'nested' / 'a.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert {"captures", "articles", "article_versions", "stories"} <= set(inspect(connection).get_table_names())
    engine.dispose()


def test_a_reader_connects_without_checking_the_schema_or_loading_alembic(tmp_path: Path) -> None:
    # the crawler's readers connect once its archiver process has opened (and checked) the database
    url = f"sqlite:///{tmp_path / 'a.db'}"
    open_database(url).dispose()
    reader = (
        "import sys\n"
        "from sqlalchemy import text\n"
        "from archive.db.session import connect_database\n"
        f"engine = connect_database({url!r})\n"
        "with engine.connect() as connection:\n"
        "    print(connection.execute(text('PRAGMA foreign_keys')).scalar(), 'alembic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "False"]


def test_opening_twice_leaves_the_schema_alone(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    open_database(database_url).dispose()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="archive.db.session"):
        engine = open_database(database_url)
    current, heads = schema_revisions(engine)
    engine.dispose()
    assert current == heads
    assert not caplog.records


def test_a_newer_schema_is_refused_and_left_alone(database_url: str) -> None:
    open_database(database_url).dispose()
    engine = open_database(database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999')"))
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    with pytest.raises(SchemaError, match=r"revision 9999, newer than this newsarchive knows.*not changed"):
        open_database(database_url)
    raw = _raw_engine(database_url)
    with raw.connect() as connection:
        assert list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars()) == ["9999"]
        assert set(inspect(connection).get_table_names()) == tables
    raw.dispose()


def test_tables_without_a_schema_version_are_refused(database_url: str) -> None:
    raw = _raw_engine(database_url)
    with raw.begin() as connection:
        connection.execute(text("CREATE TABLE captures (id INTEGER PRIMARY KEY, note TEXT)"))
    raw.dispose()
    with pytest.raises(SchemaError, match="no schema version"):
        open_database(database_url)
    raw = _raw_engine(database_url)
    with raw.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"captures"}
    raw.dispose()


def test_an_older_schema_is_refused_without_migration_and_migrated_with_it(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = _raw_engine(database_url)
    command.upgrade(alembic_config(engine), "0001")
    _fill_0001(engine)
    engine.dispose()

    with pytest.raises(SchemaError, match="older than this newsarchive"):
        open_database(database_url, migrate=False)
    with caplog.at_level(logging.WARNING, logger="archive.db.session"):
        engine = open_database(database_url)
    assert "migrating the database" in caplog.text and "from schema revision 0001" in caplog.text
    with engine.connect() as connection:
        assert compare_metadata(models_context(connection), Base.metadata) == []
    with session_factory(engine)() as session:
        # three captures of one story (one through a shortlink that redirected to it): one article
        (article,) = session.scalars(select(Article)).all()
        assert article.url.url == "http://example.com/news/story"
        assert (article.published, article.listed_published, article.listed_source) == (
            "2019-02-28",
            "2019-02-27",
            "feed",
        )
        assert article.first_seen_at == WHEN + timedelta(seconds=1)
        # the first two captures showed the same text: two versions, not three
        versions = article.versions
        assert [(v.title, v.first_seen_at, v.last_seen_at) for v in versions] == [
            ("Story", WHEN + timedelta(seconds=1), WHEN + timedelta(days=1)),
            ("Story, updated", WHEN + timedelta(days=2), WHEN + timedelta(days=2)),
        ]
        observed = session.execute(
            select(Capture.record_id, Observation.record_id, Observation.warc_offset)
            .join(Observation, Observation.capture_id == Capture.id)
            .order_by(Capture.fetched_at)
        ).all()
        assert observed == [("<urn:c2>", "<urn:a1>", 101), ("<urn:c3>", "<urn:a2>", 102), ("<urn:c4>", "<urn:a3>", 103)]
        shortlink = session.scalar(select(Url).where(Url.url == "http://example.com/?p=1"))
        assert shortlink is not None and shortlink.canonical_id == article.url_id
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 2
        # a migrated database goes on being indexed like a new one
        Ingester(session_factory(engine)).ingest([_response("<urn:c9>", "http://example.com/news/story")])
        assert session.scalar(select(func.count()).select_from(Capture)) == 6
    engine.dispose()


def test_sqlite_lets_a_reader_read_while_the_crawler_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    writer_engine, reader_engine = open_database(url), open_database(url)
    ingester = Ingester(session_factory(writer_engine))
    failures: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        try:
            for batch in range(40):
                ingester.ingest(
                    [_response(f"<urn:w{batch}-{i}>", f"http://example.com/{batch}/{i}") for i in range(25)]
                )
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=write)
    thread.start()
    reads, seen = 0, []
    with session_factory(reader_engine)() as session:
        while not done.is_set() or reads == 0:
            seen.append(session.scalar(select(func.count()).select_from(Capture)))
            session.rollback()
            reads += 1
    thread.join()
    writer_engine.dispose()
    reader_engine.dispose()
    assert failures == []
    assert seen == sorted(seen) and seen[-1] <= 1000 and reads > 1
    assert ingester.counts.captures == 1000


def _raw_engine(url: str) -> Engine:
    """An engine that neither checks nor migrates the schema."""
    return create_engine(url)


def _response(record_id: str, url: str) -> ArchivedRecord:
    return ArchivedRecord(
        rec_type="response",
        record_id=record_id,
        target_uri=url,
        date=WHEN,
        location=RecordLocation("x.warc.gz", 0, 1),
        status=200,
    )


def _fill_0001(engine: Engine) -> None:
    """Rows as revision 0001 held them: one article per capture."""
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO outlets (id, name, homepage, domains) "
                """VALUES (1, 'Example', 'http://example.com/', '["example.com"]')"""
            )
        )
        c.execute(
            text(
                "INSERT INTO urls (id, url, host, outlet_id) VALUES "
                "(1, 'http://example.com/news/story', 'example.com', 1), "
                "(2, 'http://example.com/?p=1', 'example.com', 1), "
                "(3, 'http://example.com/feed', 'example.com', 1)"
            )
        )
        captures = [
            (1, 2, WHEN, 301, "http://example.com/news/story"),
            (2, 1, WHEN + timedelta(seconds=1), 200, None),
            (3, 1, WHEN + timedelta(days=1), 200, None),
            (4, 1, WHEN + timedelta(days=2), 200, None),
            (5, 3, WHEN - timedelta(hours=1), 200, None),
        ]
        for id_, url_id, at, status, redirect in captures:
            c.execute(
                text(
                    "INSERT INTO captures (id, url_id, fetched_at, status, redirect_url, record_id, warc_filename, "
                    "warc_offset, warc_length) VALUES (:id, :url, :at, :status, :redirect, :rid, 'f.warc.gz', :id, 1)"
                ),
                {"id": id_, "url": url_id, "at": at, "status": status, "redirect": redirect, "rid": f"<urn:c{id_}>"},
            )
        c.execute(
            text("INSERT INTO listings (url_id, listed_in_id, published, source) VALUES (2, 5, '2019-02-27', 'feed')")
        )
        articles = [(1, 2, "Story", "one two"), (2, 3, "Story", "one two"), (3, 4, "Story, updated", "one two three")]
        for id_, capture_id, title, body in articles:
            c.execute(
                text(
                    "INSERT INTO articles (id, capture_id, url_id, outlet_id, title, published, listed_published, "
                    "listed_source, canonical_url, text, extractor, extractor_version, record_id, warc_filename, "
                    "warc_offset, warc_length) VALUES (:id, :capture, 1, 1, :title, '2019-02-28', '2019-02-27', "
                    "'feed', 'http://example.com/news/story#top', :body, 'trafilatura', '2.0', :rid, 'f.warc.gz', "
                    ":offset, 1)"
                ),
                {
                    "id": id_,
                    "capture": capture_id,
                    "title": title,
                    "body": body,
                    "rid": f"<urn:a{id_}>",
                    "offset": 100 + id_,
                },
            )
        if engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
            for table in ("outlets", "urls", "captures", "listings", "articles"):
                c.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )


def test_several_processes_can_open_one_empty_database_at_once(database_url: str) -> None:
    """Workers of a distributed crawl start together on a new database: one creates the schema."""
    opener = "import sys; from archive.db import open_database; open_database(sys.argv[1]).dispose()"
    processes = [
        subprocess.Popen([sys.executable, "-c", opener, database_url], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    failures = [err for p in processes if (err := p.communicate(timeout=120)[1]) and p.returncode != 0]
    assert failures == []
    engine = open_database(database_url)
    current, heads = schema_revisions(engine)
    engine.dispose()
    assert current == heads
