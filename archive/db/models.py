"""Tables of the coverage database.

Times are stored as naive UTC (the WARC-Date of the record), so SQLite and
PostgreSQL compare them alike. Every capture, fetch error and article
observation keeps the WARC file, offset and length of the record it was read
from: the database can always be rebuilt from the WARCs, and checked
against them.

An article is a story at one address (:func:`archive.db.identity.story_url`);
its versions are the distinct headline-and-text pairs it was seen with, and
its observations say which capture showed which version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from archive.seeds import MAX_NAME_LENGTH


class Base(DeclarativeBase):
    pass


class WarcPointer:
    """Columns that address one record in the WARC folder."""

    record_id: Mapped[str] = mapped_column(String(64), unique=True)
    warc_filename: Mapped[str] = mapped_column(String(255), index=True)
    warc_offset: Mapped[int] = mapped_column(BigInteger)
    warc_length: Mapped[int] = mapped_column(BigInteger)


class Outlet(Base):
    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH), unique=True)
    homepage: Mapped[str | None] = mapped_column(Text)
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The recheck policy of the crawl that last described the outlet (:meth:`archive.rechecks.RecheckPolicy.describe`);
    #: None: the default policy.
    recheck: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The outlet's part of domains it shares with another outlet (``/herald/``); None: all of them.
    path_prefix: Mapped[str | None] = mapped_column(Text)

    urls: Mapped[list[Url]] = relationship(back_populates="outlet")


class Url(Base):
    """An address as captured or listed, exactly as it was written."""

    __tablename__ = "urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    #: Set on an alias: the address it leads to (the end of its redirect chain, or the
    #: story URL of the article captured at it). Always a URL that is not itself an alias.
    canonical_id: Mapped[int | None] = mapped_column(ForeignKey("urls.id"), index=True)

    outlet: Mapped[Outlet | None] = relationship(back_populates="urls")
    captures: Mapped[list[Capture]] = relationship(back_populates="url")
    canonical: Mapped[Url | None] = relationship(remote_side=[id])


class Capture(WarcPointer, Base):
    """One HTTP response as archived (redirects, error statuses and revisits included)."""

    __tablename__ = "captures"
    __table_args__ = (Index("ix_captures_url_id_fetched_at", "url_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url_id: Mapped[int] = mapped_column(ForeignKey("urls.id"))
    fetched_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(255))
    payload_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    #: Where a 3xx answer pointed (absolute), so redirect chains can be followed in the database.
    redirect_url: Mapped[str | None] = mapped_column(Text, index=True)
    #: WARC-Truncated ("length", "time", "disconnect"...): the stored body is incomplete.
    truncated: Mapped[str | None] = mapped_column(String(32))
    #: A revisit record: the body is not in this record but in the original's.
    is_revisit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    revisit_profile: Mapped[str | None] = mapped_column(Text)
    #: The revisit's WARC-Refers-To, WARC-Refers-To-Target-URI and WARC-Refers-To-Date, as written.
    refers_to_record_id: Mapped[str | None] = mapped_column(String(64), index=True)
    refers_to_uri: Mapped[str | None] = mapped_column(Text)
    refers_to_date: Mapped[datetime | None] = mapped_column(DateTime)
    #: The response's validators as received, which a recheck sends back (If-None-Match, If-Modified-Since).
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    #: The capture whose record holds a revisit's body (never itself a revisit), once indexed.
    original_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"), index=True)

    url: Mapped[Url] = relationship(back_populates="captures")
    original: Mapped[Capture | None] = relationship(remote_side=[id])
    observation: Mapped[Observation | None] = relationship(back_populates="capture")


class Listing(Base):
    """One entry of a feed or sitemap capture: the feed listed this URL, perhaps with a date."""

    __tablename__ = "listings"
    __table_args__ = (UniqueConstraint("url_id", "listed_in_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url_id: Mapped[int] = mapped_column(ForeignKey("urls.id"), index=True)
    listed_in_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), index=True)
    published: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(16))

    url: Mapped[Url] = relationship()
    listed_in: Mapped[Capture] = relationship()


class FetchError(WarcPointer, Base):
    """A fetch that got no HTTP response (timeout, refused connection), recorded as a WARC metadata record."""

    __tablename__ = "fetch_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    url_id: Mapped[int] = mapped_column(ForeignKey("urls.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    error: Mapped[str] = mapped_column(Text)

    url: Mapped[Url] = relationship()


class Article(Base):
    """One story at one address, however many times it was captured and however it changed."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The story URL (:func:`archive.db.identity.story_url`); its aliases point at it.
    url_id: Mapped[int] = mapped_column(ForeignKey("urls.id"), index=True, unique=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    #: The earliest capture that showed the article.
    first_seen_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    #: The page's own date, from the earliest version that states one.
    published: Mapped[str | None] = mapped_column(String(10))
    #: The earliest date a feed or news sitemap gave this URL (or an alias of it).
    listed_published: Mapped[str | None] = mapped_column(String(10))
    listed_source: Mapped[str | None] = mapped_column(String(16))

    url: Mapped[Url] = relationship()
    outlet: Mapped[Outlet | None] = relationship()
    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="(ArticleVersion.first_seen_at, ArticleVersion.id)"
    )


class ArticleVersion(Base):
    """One distinct headline and text of an article, with the extraction that read it first."""

    __tablename__ = "article_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "content_hash", name="uq_article_versions_article_id_content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    #: :func:`archive.db.identity.content_hash` of title and text.
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(10))
    sitename: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    canonical_url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    license: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    extractor: Mapped[str] = mapped_column(String(64))
    extractor_version: Mapped[str] = mapped_column(String(32))
    #: Which evidence decided the text (:data:`archive.extract.STRUCTURED_DATA`, ``HEURISTICS``, ``FALLBACK``),
    #: and what the page said it is; None for a version indexed before extractions said so.
    method: Mapped[str | None] = mapped_column(String(32))
    og_type: Mapped[str | None] = mapped_column(Text)
    schema_types: Mapped[list[str] | None] = mapped_column(JSON)
    first_capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), index=True)
    last_capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)

    article: Mapped[Article] = relationship(back_populates="versions")
    first_capture: Mapped[Capture] = relationship(foreign_keys=[first_capture_id])
    last_capture: Mapped[Capture] = relationship(foreign_keys=[last_capture_id])
    observations: Mapped[list[Observation]] = relationship(back_populates="version")


class Observation(Base):
    """A capture that showed an article version.

    Its pointer is the ``article/1`` metadata record holding the extraction
    from that capture; a revisit (the body unchanged, so not re-extracted)
    has none and shows the version of its original.
    """

    __tablename__ = "article_observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id"), index=True)
    record_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    warc_filename: Mapped[str | None] = mapped_column(String(255))
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)

    capture: Mapped[Capture] = relationship(back_populates="observation")
    version: Mapped[ArticleVersion] = relationship(back_populates="observations")


class ReextractedVersion(Base):
    """One distinct headline and text of an article as one newer extractor version read it again.

    Re-extraction (``newsarchive reextract``, :mod:`archive.reextract`) has its own chain of versions, beside
    the crawl-time ones in ``article_versions``, which it never touches: versions are told apart, and
    compared, only within one extractor version, so a text the new extractor reads differently is never
    taken for an edit by the outlet. Its span covers the captures that version re-extracted to this text.
    """

    __tablename__ = "reextracted_versions"
    __table_args__ = (UniqueConstraint("article_id", "extractor_version", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(10))
    sitename: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    canonical_url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    license: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    extractor: Mapped[str] = mapped_column(String(64))
    extractor_version: Mapped[str] = mapped_column(String(32))
    method: Mapped[str | None] = mapped_column(String(32))
    og_type: Mapped[str | None] = mapped_column(Text)
    schema_types: Mapped[list[str] | None] = mapped_column(JSON)
    first_capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"))
    last_capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class Reextraction(WarcPointer, Base):
    """A ``reextraction/1`` record: one capture extracted again, in one run, by one extractor version.

    One per capture and extractor version (the first record indexed counts), so a run that is
    interrupted and started again, or a rebuild, finds what was already done. ``version_id`` is None
    when the page held no article for that extractor.
    """

    __tablename__ = "reextractions"
    __table_args__ = (UniqueConstraint("capture_id", "extractor_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("reextracted_versions.id"), index=True)
    #: The run that wrote the record, and the ``article/1`` record it re-did.
    run: Mapped[str] = mapped_column(String(64), index=True)
    original_record_id: Mapped[str | None] = mapped_column(String(64))
    extractor: Mapped[str] = mapped_column(String(64))
    extractor_version: Mapped[str] = mapped_column(String(32))
    #: The record's WARC-Date: when the capture was extracted again.
    reextracted_at: Mapped[datetime] = mapped_column(DateTime)


class CaptureDecision(WarcPointer, Base):
    """Whether a page fetched as an article candidate was counted as one, and why (a ``decision/1`` record).

    Its ``shape`` (:func:`archive.urlshape.url_shape`) is what an outlet
    learns from: the shapes of its URLs proven to be articles
    (:mod:`archive.db.shapes`) put its links of those shapes first next time.
    """

    __tablename__ = "capture_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), unique=True)
    url_id: Mapped[int] = mapped_column(ForeignKey("urls.id"), index=True)
    is_article: Mapped[bool] = mapped_column(Boolean)
    #: The rule that decided (:func:`archive.urlshape.article_decision`), and the evidence it weighed.
    rule: Mapped[str] = mapped_column(Text)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    shape: Mapped[str] = mapped_column(Text, index=True)

    capture: Mapped[Capture] = relationship()
    url: Mapped[Url] = relationship()


class RecheckSchedule(Base):
    """When an article is checked again for edits, and what its checks found so far.

    Kept by the ingester from the captures of the article's URL and aliases,
    in whatever order they are indexed, so a database rebuilt from the WARCs
    has the same schedule. Which check found what (unchanged, changed, gone,
    moved) is read from those captures (:mod:`archive.queries.checks`).
    """

    __tablename__ = "recheck_schedule"
    __table_args__ = (
        Index("ix_recheck_schedule_outlet_id_next_check_at", "outlet_id", "next_check_at"),
        # recheck status counts by outlet, state and due time from this index alone, not the wide rows
        Index("ix_recheck_schedule_outlet_id_state_next_check_at", "outlet_id", "state", "next_check_at"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"))
    #: :data:`archive.db.schedule.STATES`: watching, settled (policy ended), gone (404/410), moved (redirected).
    state: Mapped[str] = mapped_column(String(16))
    #: None once the article is no longer checked.
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    last_checked_at: Mapped[datetime] = mapped_column(DateTime)
    #: When the article's newest version was first seen.
    last_changed_at: Mapped[datetime] = mapped_column(DateTime)
    #: The latest capture of the article (any answer), and the one holding its current body.
    last_capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"))
    body_capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    #: Validators of the latest answer that gave any (a copy from its capture), sent back as
    #: If-None-Match / If-Modified-Since.
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    #: Copies from other rows, so that the due articles are read from this table alone (through its
    #: next_check_at index) however many are scheduled: the address a recheck fetches (the URL of the
    #: capture holding the body, else the article's), and that capture's record id, date and payload
    #: digest, which a revisit refers to.
    url: Mapped[str] = mapped_column(Text)
    body_record_id: Mapped[str | None] = mapped_column(String(64))
    body_fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    body_digest: Mapped[str | None] = mapped_column(String(64))

    article: Mapped[Article] = relationship()


class RecheckCount(Base):
    """How many checks of known articles each outlet had in one clock hour: the recheck rate achieved,
    read without touching the captures (a day of rechecks at scale is millions of them)."""

    __tablename__ = "recheck_counts"

    #: The outlet's id, 0 for articles of no outlet (a key column cannot be NULL).
    outlet_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The start of the hour (naive UTC).
    hour: Mapped[datetime] = mapped_column(DateTime, primary_key=True, index=True)
    checks: Mapped[int] = mapped_column(Integer)


class Story(Base):
    """A named story (``hanoi-summit-2019``): its definition as last synced from its TOML file."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    #: The parsed definition (terms, seeds, dates, source file), so a rebuild can re-sync it.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    synced_at: Mapped[datetime] = mapped_column(DateTime)

    members: Mapped[list[StoryArticle]] = relationship(back_populates="story")


class StoryArticle(Base):
    """An article in a story, and why: the query terms it matched, or the seed that named it."""

    __tablename__ = "story_articles"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True, index=True)
    matched_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    seed: Mapped[str | None] = mapped_column(Text)

    story: Mapped[Story] = relationship(back_populates="members")
    article: Mapped[Article] = relationship()
