"""PostgreSQL's search index is partitioned on ``newest``: the newest versions are searched in a table of their own.

:mod:`archive.search.schema` says why: a count of the newest versions (what
researchers count by default) reads their partition alone, with no row left
to test for being the newest. The index table holds derived data, so it is
made again and filled by :func:`~archive.search.index.reindex_all`, in day
order. SQLite's index is unchanged.

Downgrading makes revision 0009's table again, filled the same way.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from archive.search.index import reindex_all

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.drop_table("article_search")
    _create_table(partitioned=True)
    for partition, newest in (("article_search_newest", "true"), ("article_search_older", "false")):
        op.execute(
            f"CREATE TABLE {partition} PARTITION OF article_search FOR VALUES IN ({newest}) "
            "WITH (toast_tuple_target = 128)"
        )
    _create_indexes()
    reindex_all(connection)


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.drop_table("article_search")  # and its partitions
    _create_table(partitioned=False)
    _create_indexes()
    reindex_all(connection)


def _create_table(partitioned: bool) -> None:
    op.create_table(
        "article_search",
        sa.Column("version_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("config", sa.String(length=32), nullable=False),
        sa.Column("document", postgresql.TSVECTOR(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("newest", sa.Boolean(), nullable=False),
        sa.Column("padding", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("version_id", "newest") if partitioned else sa.PrimaryKeyConstraint("version_id"),
        # the documents go out of line (:mod:`archive.search.schema`); a partitioned table's partitions say so
        **(
            {"postgresql_partition_by": "LIST (newest)"}
            if partitioned
            else {"postgresql_with": {"toast_tuple_target": 128}}
        ),
    )


def _create_indexes() -> None:
    op.create_index("ix_article_search_config", "article_search", ["config"])
    op.create_index("ix_article_search_article_id", "article_search", ["article_id"])
    op.create_index("ix_article_search_day", "article_search", ["day"])
    op.create_index(
        "ix_article_search_document",
        "article_search",
        ["document"],
        postgresql_using="gin",
        postgresql_with={"gin_pending_list_limit": 256},
    )
