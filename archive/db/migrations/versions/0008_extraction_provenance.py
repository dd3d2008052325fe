"""How each version was made, and the re-extractions' own chain of versions.

``article_versions`` gets the evidence that decided the text (``method``:
structured data, heuristics or fallback) and what the page said it is
(``og_type``, ``schema_types``). Existing rows keep NULL: the database does
not know, and a rebuild (``newsarchive reindex``) fills what the WARCs' own
``article/1`` records say. ``reextracted_versions`` and ``reextractions``
hold what ``newsarchive reextract`` wrote as ``reextraction/1`` records,
beside the crawl-time versions, which they never change. Existing archives
have no such records: both tables start empty.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("method", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("og_type", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("schema_types", sa.JSON(), nullable=True))
    op.create_table(
        "reextracted_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("published", sa.String(length=10), nullable=True),
        sa.Column("sitename", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("canonical_url", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("license", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("extractor", sa.String(length=64), nullable=False),
        sa.Column("extractor_version", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("og_type", sa.Text(), nullable=True),
        sa.Column("schema_types", sa.JSON(), nullable=True),
        sa.Column("first_capture_id", sa.Integer(), nullable=False),
        sa.Column("last_capture_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
        sa.ForeignKeyConstraint(["first_capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["last_capture_id"], ["captures.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "extractor_version", "content_hash"),
    )
    with op.batch_alter_table("reextracted_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reextracted_versions_article_id"), ["article_id"], unique=False)
    op.create_table(
        "reextractions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("run", sa.String(length=64), nullable=False),
        sa.Column("original_record_id", sa.String(length=64), nullable=True),
        sa.Column("extractor", sa.String(length=64), nullable=False),
        sa.Column("extractor_version", sa.String(length=32), nullable=False),
        sa.Column("reextracted_at", sa.DateTime(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("warc_filename", sa.String(length=255), nullable=False),
        sa.Column("warc_offset", sa.BigInteger(), nullable=False),
        sa.Column("warc_length", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["reextracted_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("capture_id", "extractor_version"),
        sa.UniqueConstraint("record_id"),
    )
    with op.batch_alter_table("reextractions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reextractions_run"), ["run"], unique=False)
        batch_op.create_index(batch_op.f("ix_reextractions_version_id"), ["version_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reextractions_warc_filename"), ["warc_filename"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reextractions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reextractions_warc_filename"))
        batch_op.drop_index(batch_op.f("ix_reextractions_version_id"))
        batch_op.drop_index(batch_op.f("ix_reextractions_run"))
    op.drop_table("reextractions")
    with op.batch_alter_table("reextracted_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reextracted_versions_article_id"))
    op.drop_table("reextracted_versions")
    # ALTER TABLE DROP COLUMN (SQLite 3.35+), not batch mode's copy of the table: SQLite's search view
    # (0005) reads article_versions, and a copy renamed into its place is refused while the view stands
    with op.batch_alter_table("article_versions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("schema_types")
        batch_op.drop_column("og_type")
        batch_op.drop_column("method")
