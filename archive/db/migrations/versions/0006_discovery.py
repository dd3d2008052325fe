"""Discovery: outlets told apart by path on a shared domain; why each candidate page was or was not an article.

``outlets.path_prefix`` is the outlet's part of a domain another outlet
shares. ``capture_decisions`` holds the ``decision/1`` records (a candidate
page counted as an article or not, the rule and the evidence), with the URL's
shape, from which outlets learn their article URLs. Existing archives have
no such records: the table starts empty.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("path_prefix", sa.Text(), nullable=True))
    op.create_table(
        "capture_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.Integer(), nullable=False),
        sa.Column("is_article", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("shape", sa.Text(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("warc_filename", sa.String(length=255), nullable=False),
        sa.Column("warc_offset", sa.BigInteger(), nullable=False),
        sa.Column("warc_length", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["url_id"], ["urls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("capture_id"),
        sa.UniqueConstraint("record_id"),
    )
    with op.batch_alter_table("capture_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capture_decisions_shape"), ["shape"], unique=False)
        batch_op.create_index(batch_op.f("ix_capture_decisions_url_id"), ["url_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_capture_decisions_warc_filename"), ["warc_filename"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("capture_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capture_decisions_warc_filename"))
        batch_op.drop_index(batch_op.f("ix_capture_decisions_url_id"))
        batch_op.drop_index(batch_op.f("ix_capture_decisions_shape"))
    op.drop_table("capture_decisions")
    with op.batch_alter_table("outlets", schema=None) as batch_op:
        batch_op.drop_column("path_prefix")
