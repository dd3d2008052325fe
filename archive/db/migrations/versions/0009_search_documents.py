"""PostgreSQL's search documents hold the facts filters test and pairs of adjacent words, out of line.

:mod:`archive.search.schema` says why: the GIN index alone then decides a
match, filters and phrases included, and a count visits short rows. Every
document is to be built again, with the ``padding`` that moves it out of its
row (revision 0010 does it, as it makes the table again); the GIN index's
pending list is kept short; the B-tree indexes on the newest versions' day
and outlet, which counts no longer use, give way to one on the day (the
bounds of an open ``published:`` range). SQLite's index is unchanged.

Downgrading keeps the documents as they are: what they hold beyond the words
starts with a space, which no query of revision 0008 looks for.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.drop_index("ix_article_search_newest_day", table_name="article_search")
    op.drop_index("ix_article_search_newest_outlet", table_name="article_search")
    op.create_index("ix_article_search_day", "article_search", ["day"])
    op.add_column("article_search", sa.Column("padding", sa.Text(), nullable=True))
    op.execute("ALTER INDEX ix_article_search_document SET (gin_pending_list_limit = 256)")
    # the documents are built by 0010, in their later form


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_article_search_document RESET (gin_pending_list_limit)")
    op.drop_column("article_search", "padding")
    op.drop_index("ix_article_search_day", table_name="article_search")
    op.create_index("ix_article_search_newest_day", "article_search", ["day"], postgresql_where="newest")
    op.create_index("ix_article_search_newest_outlet", "article_search", ["outlet_id"], postgresql_where="newest")
