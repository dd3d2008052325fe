"""Full-text search and reprint detection: the index over article versions, MinHash signatures and LSH bands.

SQLite gets an FTS5 table with the versions (and their facts) as external
content, PostgreSQL a table of ``tsvector`` s under a GIN index beside each
version's facts (:mod:`archive.search.schema` says why). Both are filled from
the versions already there, and every existing article gets its signature and
reprint group.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from archive.reprints import add_articles
from archive.search.index import reindex_all

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.create_table(
            "article_search",
            sa.Column("version_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("config", sa.String(length=32), nullable=False),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
            *_facts(),
            sa.PrimaryKeyConstraint("version_id"),
            postgresql_with={"toast_tuple_target": 128},
        )
        op.create_index("ix_article_search_config", "article_search", ["config"], unique=False)
        op.create_index("ix_article_search_article_id", "article_search", ["article_id"], unique=False)
        op.create_index(
            "ix_article_search_document", "article_search", ["document"], unique=False, postgresql_using="gin"
        )
        op.create_index("ix_article_search_newest_day", "article_search", ["day"], postgresql_where=sa.text("newest"))
        op.create_index(
            "ix_article_search_newest_outlet", "article_search", ["outlet_id"], postgresql_where=sa.text("newest")
        )
    else:
        op.create_table(
            "article_search_facts",
            sa.Column("version_id", sa.Integer(), autoincrement=False, nullable=False),
            *_facts(),
            sa.Column("tokens", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("version_id"),
        )
        op.create_index("ix_article_search_facts_article_id", "article_search_facts", ["article_id"], unique=False)
        op.create_index("ix_article_search_facts_day", "article_search_facts", ["day"], unique=False)
        op.execute(
            "CREATE VIEW article_search_content AS SELECT v.id AS id, v.title AS title, v.author AS author, "
            "v.text AS text, f.tokens AS facts FROM article_versions v "
            "LEFT JOIN article_search_facts f ON f.version_id = v.id"
        )
        op.execute(
            "CREATE VIRTUAL TABLE article_search USING fts5(title, author, text, facts, "
            "content='article_search_content', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
    op.create_table(
        "article_signatures",
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("minhash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("article_id"),
    )
    op.create_index("ix_article_signatures_group_id", "article_signatures", ["group_id"], unique=False)
    op.create_table(
        "article_bands",
        sa.Column("band", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("band", "hash", "article_id"),
    )
    op.create_index("ix_article_bands_article_id", "article_bands", ["article_id"], unique=False)
    if connection.dialect.name != "postgresql":  # PostgreSQL's documents are built by 0009, in their later form
        reindex_all(connection)
    add_articles(connection, connection.execute(sa.text("SELECT id FROM articles ORDER BY id")).scalars())


def _facts() -> list[sa.Column]:
    return [
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("newest", sa.Boolean(), nullable=False),
    ]


def downgrade() -> None:
    op.drop_index("ix_article_bands_article_id", table_name="article_bands")
    op.drop_table("article_bands")
    op.drop_index("ix_article_signatures_group_id", table_name="article_signatures")
    op.drop_table("article_signatures")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_table("article_search")  # and its indexes
    else:
        op.execute("DROP TABLE article_search")
        op.execute("DROP VIEW article_search_content")
        op.drop_table("article_search_facts")
