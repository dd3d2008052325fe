"""Initial schema: outlets, URLs, captures, listings, fetch errors, articles.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outlets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("homepage", sa.Text(), nullable=True),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "urls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    with op.batch_alter_table("urls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_urls_host"), ["host"], unique=False)
        batch_op.create_index(batch_op.f("ix_urls_outlet_id"), ["outlet_id"], unique=False)

    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("payload_digest", sa.String(length=64), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("redirect_url", sa.Text(), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("warc_filename", sa.String(length=255), nullable=False),
        sa.Column("warc_offset", sa.BigInteger(), nullable=False),
        sa.Column("warc_length", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["url_id"],
            ["urls.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_captures_fetched_at"), ["fetched_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_captures_payload_digest"), ["payload_digest"], unique=False)
        batch_op.create_index(batch_op.f("ix_captures_redirect_url"), ["redirect_url"], unique=False)
        batch_op.create_index(batch_op.f("ix_captures_url_id"), ["url_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_captures_warc_filename"), ["warc_filename"], unique=False)

    op.create_table(
        "fetch_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("warc_filename", sa.String(length=255), nullable=False),
        sa.Column("warc_offset", sa.BigInteger(), nullable=False),
        sa.Column("warc_length", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["url_id"],
            ["urls.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id"),
    )
    with op.batch_alter_table("fetch_errors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fetch_errors_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_fetch_errors_url_id"), ["url_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fetch_errors_warc_filename"), ["warc_filename"], unique=False)

    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("published", sa.String(length=10), nullable=True),
        sa.Column("listed_published", sa.String(length=10), nullable=True),
        sa.Column("listed_source", sa.String(length=16), nullable=True),
        sa.Column("sitename", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("canonical_url", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("license", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("extractor", sa.String(length=64), nullable=False),
        sa.Column("extractor_version", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("warc_filename", sa.String(length=255), nullable=False),
        sa.Column("warc_offset", sa.BigInteger(), nullable=False),
        sa.Column("warc_length", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["captures.id"],
        ),
        sa.ForeignKeyConstraint(
            ["outlet_id"],
            ["outlets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["url_id"],
            ["urls.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("capture_id"),
        sa.UniqueConstraint("record_id"),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_articles_outlet_id"), ["outlet_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_articles_url_id"), ["url_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_articles_warc_filename"), ["warc_filename"], unique=False)

    op.create_table(
        "listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.Integer(), nullable=False),
        sa.Column("listed_in_id", sa.Integer(), nullable=False),
        sa.Column("published", sa.String(length=10), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["listed_in_id"],
            ["captures.id"],
        ),
        sa.ForeignKeyConstraint(
            ["url_id"],
            ["urls.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url_id", "listed_in_id"),
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_listings_listed_in_id"), ["listed_in_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_listings_url_id"), ["url_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listings_url_id"))
        batch_op.drop_index(batch_op.f("ix_listings_listed_in_id"))

    op.drop_table("listings")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_warc_filename"))
        batch_op.drop_index(batch_op.f("ix_articles_url_id"))
        batch_op.drop_index(batch_op.f("ix_articles_outlet_id"))

    op.drop_table("articles")
    with op.batch_alter_table("fetch_errors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fetch_errors_warc_filename"))
        batch_op.drop_index(batch_op.f("ix_fetch_errors_url_id"))
        batch_op.drop_index(batch_op.f("ix_fetch_errors_at"))

    op.drop_table("fetch_errors")
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_captures_warc_filename"))
        batch_op.drop_index(batch_op.f("ix_captures_url_id"))
        batch_op.drop_index(batch_op.f("ix_captures_redirect_url"))
        batch_op.drop_index(batch_op.f("ix_captures_payload_digest"))
        batch_op.drop_index(batch_op.f("ix_captures_fetched_at"))

    op.drop_table("captures")
    with op.batch_alter_table("urls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_urls_outlet_id"))
        batch_op.drop_index(batch_op.f("ix_urls_host"))

    op.drop_table("urls")
    op.drop_table("outlets")
