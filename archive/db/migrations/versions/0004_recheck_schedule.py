"""Recheck schedule: when each article is checked again for edits; checks counted per outlet and hour;
outlets' recheck policies; captures' validators (ETag, Last-Modified), which rechecks send back.

Existing articles get a schedule under the default policy, from what their
versions say: first seen, last changed (the newest version's first
sighting), last checked (the latest sighting). Their validators (ETag,
Last-Modified) are unknown, so their first recheck is unconditional.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from archive.rechecks import RecheckPolicy

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recheck", sa.JSON(), nullable=True))
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("etag", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_modified", sa.Text(), nullable=True))
    op.create_table(
        "recheck_schedule",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(), nullable=False),
        sa.Column("last_changed_at", sa.DateTime(), nullable=False),
        sa.Column("last_capture_id", sa.Integer(), nullable=False),
        sa.Column("body_capture_id", sa.Integer(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
        sa.ForeignKeyConstraint(["body_capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["last_capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlets.id"]),
        sa.PrimaryKeyConstraint("article_id"),
    )
    with op.batch_alter_table("recheck_schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recheck_schedule_next_check_at"), ["next_check_at"], unique=False)
        batch_op.create_index(
            "ix_recheck_schedule_outlet_id_next_check_at", ["outlet_id", "next_check_at"], unique=False
        )
    op.create_table(
        "recheck_counts",
        sa.Column("outlet_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("outlet_id", "hour"),
    )
    with op.batch_alter_table("recheck_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recheck_counts_hour"), ["hour"], unique=False)
    _schedule_existing_articles()


def downgrade() -> None:
    with op.batch_alter_table("recheck_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recheck_counts_hour"))
    op.drop_table("recheck_counts")
    with op.batch_alter_table("recheck_schedule", schema=None) as batch_op:
        batch_op.drop_index("ix_recheck_schedule_outlet_id_next_check_at")
        batch_op.drop_index(batch_op.f("ix_recheck_schedule_next_check_at"))
    op.drop_table("recheck_schedule")
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.drop_column("last_modified")
        batch_op.drop_column("etag")
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.drop_column("recheck")


def _schedule_existing_articles() -> None:
    connection = op.get_bind()
    policy = RecheckPolicy()
    rows = connection.execute(
        sa.text(
            "SELECT a.id, a.outlet_id, a.first_seen_at, MAX(v.first_seen_at) AS last_changed_at, "
            "MAX(v.last_seen_at) AS last_checked_at "
            "FROM articles a JOIN article_versions v ON v.article_id = a.id GROUP BY a.id, a.outlet_id, a.first_seen_at"
        )
    ).all()
    for row in rows:
        last = connection.execute(
            sa.text(
                "SELECT c.id, COALESCE(c.original_id, c.id) AS body FROM article_versions v "
                "JOIN captures c ON c.id = v.last_capture_id WHERE v.article_id = :a "
                "ORDER BY v.last_seen_at DESC, v.last_capture_id DESC LIMIT 1"
            ),
            {"a": row.id},
        ).one()
        first_seen, changed, checked = (
            _moment(v) for v in (row.first_seen_at, row.last_changed_at, row.last_checked_at)
        )
        due = policy.next_check(first_seen, changed, checked)
        connection.execute(
            sa.text(
                "INSERT INTO recheck_schedule (article_id, outlet_id, state, next_check_at, last_checked_at, "
                "last_changed_at, last_capture_id, body_capture_id) "
                "VALUES (:a, :o, :state, :due, :checked, :changed, :last, :body)"
            ),
            {
                "a": row.id,
                "o": row.outlet_id,
                "state": "watching" if due else "settled",
                "due": due,
                "checked": checked,
                "changed": changed,
                "last": last.id,
                "body": last.body,
            },
        )


def _moment(value: Any) -> datetime:
    """SQLite gives aggregates of datetimes as text, PostgreSQL as datetimes."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
