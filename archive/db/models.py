"""Tables of the coverage database.

Times are stored as naive UTC (the WARC-Date of the record), so SQLite and
PostgreSQL compare them alike. Every capture, fetch error and article keeps
the WARC file, offset and length of the record it was read from: the
database can always be rebuilt from the WARCs, and checked against them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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
    name: Mapped[str] = mapped_column(String(200), unique=True)
    homepage: Mapped[str | None] = mapped_column(Text)
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)

    urls: Mapped[list[Url]] = relationship(back_populates="outlet")


class Url(Base):
    __tablename__ = "urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)

    outlet: Mapped[Outlet | None] = relationship(back_populates="urls")
    captures: Mapped[list[Capture]] = relationship(back_populates="url")


class Capture(WarcPointer, Base):
    """One HTTP response as archived (redirects and error statuses included)."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    url_id: Mapped[int] = mapped_column(ForeignKey("urls.id"), index=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(255))
    payload_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    #: Where a 3xx answer pointed (absolute), so redirect chains can be followed in the database.
    redirect_url: Mapped[str | None] = mapped_column(Text, index=True)

    url: Mapped[Url] = relationship(back_populates="captures")
    article: Mapped[Article | None] = relationship(back_populates="capture")


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


class Article(WarcPointer, Base):
    """The article read from one capture; its WARC pointer is the metadata record holding the extraction."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), unique=True)
    url_id: Mapped[int] = mapped_column(ForeignKey("urls.id"), index=True)
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlets.id"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(10))
    #: The earliest date a feed or news sitemap gave this URL (or one redirecting to it).
    listed_published: Mapped[str | None] = mapped_column(String(10))
    listed_source: Mapped[str | None] = mapped_column(String(16))
    sitename: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    canonical_url: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    license: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    extractor: Mapped[str] = mapped_column(String(64))
    extractor_version: Mapped[str] = mapped_column(String(32))

    capture: Mapped[Capture] = relationship(back_populates="article")
    url: Mapped[Url] = relationship()
    outlet: Mapped[Outlet | None] = relationship()
