"""Article versions, URL aliases, revisits, stories.

An article was one row per capture; it becomes one row per story URL, with
one version per distinct headline and text and one observation per capture
that showed it (holding the ``article/1`` record pointer the article row
held). Existing rows are converted: captures of the same story merge into
one article, identical extractions into one version. URLs get the address
they lead to (``canonical_id``), from redirects and from story URLs;
captures get what a revisit record needs. Stories and their members are new.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

from archive.db.identity import content_hash, make_alias, story_url
from archive.seeds import host_in_domains

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Columns of a 0001 article that move to its versions.
VERSION_COLUMNS = (
    "title",
    "author",
    "published",
    "sitename",
    "language",
    "canonical_url",
    "description",
    "license",
    "text",
    "extractor",
    "extractor_version",
)
POINTER_COLUMNS = ("record_id", "warc_filename", "warc_offset", "warc_length")


def upgrade() -> None:
    with op.batch_alter_table("urls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("canonical_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_urls_canonical_id"), ["canonical_id"], unique=False)
        batch_op.create_foreign_key("fk_urls_canonical_id_urls", "urls", ["canonical_id"], ["id"])

    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("truncated", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("is_revisit", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("revisit_profile", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("refers_to_record_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("refers_to_uri", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("refers_to_date", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("original_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_captures_original_id_captures", "captures", ["original_id"], ["id"])
        batch_op.drop_index(batch_op.f("ix_captures_url_id"))
        batch_op.create_index("ix_captures_url_id_fetched_at", ["url_id", "fetched_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_captures_original_id"), ["original_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_captures_refers_to_record_id"), ["refers_to_record_id"], unique=False)

    op.create_table(
        "article_versions",
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
        sa.Column("first_capture_id", sa.Integer(), nullable=False),
        sa.Column("last_capture_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
        sa.ForeignKeyConstraint(["first_capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["last_capture_id"], ["captures.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "content_hash", name="uq_article_versions_article_id_content_hash"),
    )
    with op.batch_alter_table("article_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_versions_first_capture_id"), ["first_capture_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_versions_last_capture_id"), ["last_capture_id"], unique=False)

    op.create_table(
        "article_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("warc_filename", sa.String(length=255), nullable=True),
        sa.Column("warc_offset", sa.BigInteger(), nullable=True),
        sa.Column("warc_length", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["article_versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("capture_id"),
        sa.UniqueConstraint("record_id"),
    )
    with op.batch_alter_table("article_observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_observations_version_id"), ["version_id"], unique=False)

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_seen_at", sa.DateTime(), nullable=True))
    _convert_articles(op.get_bind())
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_warc_filename"))
        batch_op.drop_index(batch_op.f("ix_articles_url_id"))
        for name in ("capture_id", *(c for c in VERSION_COLUMNS if c != "published"), *POINTER_COLUMNS):
            batch_op.drop_column(name)
        batch_op.alter_column("first_seen_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index(batch_op.f("ix_articles_url_id"), ["url_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_articles_first_seen_at"), ["first_seen_at"], unique=False)

    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("synced_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "story_articles",
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("matched_terms", sa.JSON(), nullable=False),
        sa.Column("seed", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"]),
        sa.PrimaryKeyConstraint("story_id", "article_id"),
    )
    with op.batch_alter_table("story_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_articles_article_id"), ["article_id"], unique=False)


# Tables as 0001 left them (plus the columns added above), for the data conversion.
_meta = sa.MetaData()
_outlets = sa.Table("outlets", _meta, sa.Column("id", sa.Integer), sa.Column("domains", sa.JSON))
_urls = sa.Table(
    "urls",
    _meta,
    sa.Column("id", sa.Integer),
    sa.Column("url", sa.Text),
    sa.Column("host", sa.String),
    sa.Column("outlet_id", sa.Integer),
)
_captures = sa.Table(
    "captures",
    _meta,
    sa.Column("id", sa.Integer),
    sa.Column("url_id", sa.Integer),
    sa.Column("fetched_at", sa.DateTime),
    sa.Column("redirect_url", sa.Text),
)
_articles = sa.Table(
    "articles",
    _meta,
    sa.Column("id", sa.Integer),
    sa.Column("capture_id", sa.Integer),
    sa.Column("url_id", sa.Integer),
    sa.Column("listed_published", sa.String),
    sa.Column("listed_source", sa.String),
    sa.Column("first_seen_at", sa.DateTime),
    *(sa.Column(name, sa.Text) for name in VERSION_COLUMNS if name != "published"),
    sa.Column("published", sa.String),
    *(sa.Column(name, sa.Text) for name in POINTER_COLUMNS[:2]),
    *(sa.Column(name, sa.BigInteger) for name in POINTER_COLUMNS[2:]),
)
_versions = sa.Table(
    "article_versions",
    _meta,
    sa.Column("id", sa.Integer),
    sa.Column("article_id", sa.Integer),
    sa.Column("content_hash", sa.String),
    *(sa.Column(name, sa.Text) for name in VERSION_COLUMNS),
    sa.Column("first_capture_id", sa.Integer),
    sa.Column("last_capture_id", sa.Integer),
    sa.Column("first_seen_at", sa.DateTime),
    sa.Column("last_seen_at", sa.DateTime),
)
_observations = sa.Table(
    "article_observations",
    _meta,
    sa.Column("id", sa.Integer),
    sa.Column("capture_id", sa.Integer),
    sa.Column("version_id", sa.Integer),
    *(sa.Column(name, sa.Text) for name in POINTER_COLUMNS[:2]),
    *(sa.Column(name, sa.BigInteger) for name in POINTER_COLUMNS[2:]),
)


def _convert_articles(db: sa.Connection) -> None:
    """Merge per-capture articles into articles by story URL, as the ingester now builds them."""
    domains = dict(db.execute(sa.select(_outlets.c.id, _outlets.c.domains)).all())
    for capture_url_id, target in db.execute(
        sa.select(_captures.c.url_id, _captures.c.redirect_url)
        .where(_captures.c.redirect_url.is_not(None))
        .order_by(_captures.c.id)
    ).all():
        make_alias(db, capture_url_id, _url_id(db, target, domains))

    kept: dict[int, int] = {}  # story URL id -> the article row kept for it
    versions: dict[tuple[int, str], int] = {}
    merged: list[int] = []
    for row in _old_articles(db):
        capture_url = db.execute(sa.select(_urls).where(_urls.c.id == row["url_id"])).mappings().one()
        key_id = _url_id(
            db, story_url(row["canonical_url"], capture_url["url"], domains.get(capture_url["outlet_id"])), domains
        )
        if key_id != capture_url["id"]:
            make_alias(db, capture_url["id"], key_id)
        article_id = kept.setdefault(key_id, row["id"])
        if article_id != row["id"]:
            merged.append(row["id"])
        else:
            db.execute(
                _articles.update()
                .where(_articles.c.id == article_id)
                .values(url_id=key_id, first_seen_at=row["fetched_at"], published=None)
            )
        digest = content_hash(row["title"], row["text"] or "")
        version_id = versions.get((article_id, digest))
        if version_id is None:
            version_id = versions[(article_id, digest)] = db.execute(
                _versions.insert()
                .values(
                    article_id=article_id,
                    content_hash=digest,
                    first_capture_id=row["capture_id"],
                    last_capture_id=row["capture_id"],
                    first_seen_at=row["fetched_at"],
                    last_seen_at=row["fetched_at"],
                    **{name: row[name] for name in VERSION_COLUMNS},
                )
                .returning(_versions.c.id)
            ).scalar_one()
        else:  # rows come in capture time order: this one is the latest
            db.execute(
                _versions.update()
                .where(_versions.c.id == version_id)
                .values(last_capture_id=row["capture_id"], last_seen_at=row["fetched_at"])
            )
        db.execute(
            _observations.insert().values(
                capture_id=row["capture_id"], version_id=version_id, **{name: row[name] for name in POINTER_COLUMNS}
            )
        )
        _merge_dates(db, article_id, row)
    if merged:
        db.execute(_articles.delete().where(_articles.c.id.in_(merged)))


def _old_articles(db: sa.Connection) -> Sequence[sa.RowMapping]:
    """Every 0001 article with its capture time, oldest capture first (read whole: rows are rewritten as we go)."""
    columns = [c for c in _articles.c if c.name != "first_seen_at"]
    query = (
        sa.select(*columns, _captures.c.fetched_at)
        .join(_captures, _captures.c.id == _articles.c.capture_id)
        .order_by(_captures.c.fetched_at, _captures.c.id)
    )
    return db.execute(query).mappings().all()


def _merge_dates(db: sa.Connection, article_id: int, row: sa.RowMapping) -> None:
    """The kept article's page date is the earliest version's, its listed date the earliest any row had."""
    current = db.execute(sa.select(_articles).where(_articles.c.id == article_id)).mappings().one()
    values: dict[str, str | datetime | None] = {}
    if current["published"] is None and row["published"]:
        values["published"] = row["published"]
    if row["listed_published"] and (
        current["listed_published"] is None or row["listed_published"] < current["listed_published"]
    ):
        values["listed_published"], values["listed_source"] = row["listed_published"], row["listed_source"]
    if values:
        db.execute(_articles.update().where(_articles.c.id == article_id).values(**values))


def _url_id(db: sa.Connection, url: str, domains: dict[int, list[str]]) -> int:
    found = db.execute(sa.select(_urls.c.id).where(_urls.c.url == url)).scalar()
    if found is not None:
        return int(found)
    host = (urlsplit(url).hostname or "").lower()
    outlet_id = next((i for i, d in sorted(domains.items()) if host_in_domains(host, d)), None)
    return int(
        db.execute(_urls.insert().values(url=url, host=host, outlet_id=outlet_id).returning(_urls.c.id)).scalar_one()
    )


def downgrade() -> None:
    raise NotImplementedError(
        "article versions cannot be folded back into one row per capture without losing data; "
        "rebuild an 0001 database from the WARC files with that release's `newsarchive reindex`"
    )
