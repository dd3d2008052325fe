"""Recheck schedule rows carry what a recheck sends: the URL to fetch and the capture holding the body.

``recheck_schedule`` gets copies of the address a recheck fetches (the URL of
the capture holding the article's body, else the article's own) and of that
capture's record id, date and payload digest, so that the due articles are
read from the schedule alone, through its ``next_check_at`` index, however
many are scheduled (:func:`archive.db.schedule.due_batch`). Existing rows are
filled from the captures and URLs they point at. An index on (outlet, state,
next check) lets the recheck status count without reading the rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BODY = "(SELECT c.{column} FROM captures c WHERE c.id = recheck_schedule.body_capture_id)"
_BACKFILL = (
    "UPDATE recheck_schedule SET "
    "url = COALESCE("
    "(SELECT u.url FROM captures c JOIN urls u ON u.id = c.url_id WHERE c.id = recheck_schedule.body_capture_id), "
    "(SELECT u.url FROM articles a JOIN urls u ON u.id = a.url_id WHERE a.id = recheck_schedule.article_id)), "
    f"body_record_id = {_BODY.format(column='record_id')}, "
    f"body_fetched_at = {_BODY.format(column='fetched_at')}, "
    f"body_digest = {_BODY.format(column='payload_digest')}"
)


def upgrade() -> None:
    with op.batch_alter_table("recheck_schedule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("body_record_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("body_fetched_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("body_digest", sa.String(length=64), nullable=True))
    op.execute(_BACKFILL)
    with op.batch_alter_table("recheck_schedule", schema=None) as batch_op:
        batch_op.alter_column("url", existing_type=sa.Text(), nullable=False)
        batch_op.create_index(
            "ix_recheck_schedule_outlet_id_state_next_check_at", ["outlet_id", "state", "next_check_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("recheck_schedule", schema=None) as batch_op:
        batch_op.drop_index("ix_recheck_schedule_outlet_id_state_next_check_at")
        batch_op.drop_column("body_digest")
        batch_op.drop_column("body_fetched_at")
        batch_op.drop_column("body_record_id")
        batch_op.drop_column("url")
