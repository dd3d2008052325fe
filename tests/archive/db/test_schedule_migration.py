"""Migration 0007: schedule rows carry the URL a recheck fetches and the capture holding the body."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from sqlalchemy import inspect, select

from archive.db import Base, open_database, session_factory
from archive.db.ingester import Ingester
from archive.db.models import RecheckSchedule
from archive.db.schedule import due_batch
from archive.db.session import alembic_config, schema_revisions
from tests.archive.db.test_session import models_context
from tests.archive.queries.checked import STORY, checked_article, not_modified
from tests.archive.recording import Recording

START = datetime(2019, 3, 4, 6, 0, tzinfo=timezone.utc)
OTHER = "http://www.example.com/news/other"
COPIES = ("url", "body_record_id", "body_fetched_at", "body_digest")


def test_the_copies_are_dropped_and_refilled_as_the_ingester_keeps_them(database_url: str, tmp_path: Path) -> None:
    engine = open_database(database_url)
    sessions = session_factory(engine)
    checked_article(tmp_path / "story", sessions, START)  # its body: the edited page
    rec = Recording(tmp_path / "other")
    first = rec.page(OTHER, "<html>Other story</html>", START)
    rec.article(first, OTHER, "Other story", "Other story.", START)
    not_modified(rec, OTHER, START + timedelta(hours=1), first)  # its body: the first page, a 304 refers to
    rec.close()
    Ingester(sessions).ingest(rec.records)
    with sessions.begin() as session:
        # as an article no capture gave a body yet is kept: fetched at its own address
        story = session.scalars(select(RecheckSchedule).where(RecheckSchedule.url == STORY)).one()
        story.body_capture_id = story.body_record_id = story.body_fetched_at = story.body_digest = None
    schedule = select(RecheckSchedule.__table__).order_by(RecheckSchedule.article_id)
    with engine.connect() as connection:
        kept = connection.execute(schedule).all()
        due = due_batch(connection, START, everything=True)
    assert {(row.url, row.body_record_id is not None) for row in kept} == {(STORY, False), (OTHER, True)}

    command.downgrade(alembic_config(engine), "0006")
    with engine.connect() as connection:
        assert not {c["name"] for c in inspect(connection).get_columns("recheck_schedule")} & set(COPIES)
    command.upgrade(alembic_config(engine), "head")

    with engine.connect() as connection:
        assert compare_metadata(models_context(connection), Base.metadata) == []
        assert connection.execute(schedule).all() == kept
        assert due_batch(connection, START, everything=True) == due
    current, heads = schema_revisions(engine)
    engine.dispose()
    assert current == heads
