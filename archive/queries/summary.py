"""What the archive holds: counts, and the latest articles."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db.models import Article, ArticleVersion, Capture, FetchError, Outlet, Url
from archive.queries.common import count_rows, latest_version
from archive.warc.files import closed_warcs, open_warcs

__all__ = ["ArchiveSummary", "ArticleRow", "list_articles", "summarize"]


@dataclass(frozen=True)
class ArchiveSummary:
    outlets: int
    urls: int
    captures: int
    captures_by_status: dict[str, int]
    revisits: int
    articles: int
    versions: int
    fetch_errors: int
    warc_files: int
    warc_files_open: int
    warc_bytes: int


@dataclass(frozen=True)
class ArticleRow:
    outlet: str | None
    title: str | None
    author: str | None
    published: str | None
    listed_published: str | None
    first_seen: str
    url: str


def summarize(session: Session, warc_dir: Path) -> ArchiveSummary:
    """Counts of what is archived, from the database and the WARC folder."""
    by_status = {
        str(status if status is not None else "-"): count
        for status, count in session.execute(
            select(Capture.status, func.count()).group_by(Capture.status).order_by(Capture.status)
        )
    }
    warcs = closed_warcs(warc_dir)
    unclosed = open_warcs(warc_dir)
    return ArchiveSummary(
        outlets=count_rows(session, Outlet),
        urls=count_rows(session, Url),
        captures=sum(by_status.values()),
        captures_by_status=by_status,
        revisits=session.scalar(select(func.count()).where(Capture.is_revisit.is_(True))) or 0,
        articles=count_rows(session, Article),
        versions=count_rows(session, ArticleVersion),
        fetch_errors=count_rows(session, FetchError),
        warc_files=len(warcs),
        warc_files_open=len(unclosed),
        warc_bytes=sum(p.stat().st_size for p in warcs + unclosed),
    )


def list_articles(session: Session, limit: int | None = None) -> list[ArticleRow]:
    """Archived articles, most recently first seen first, with their latest headline and byline."""
    latest = latest_version()
    query = (
        select(Article, Outlet.name, Url.url, latest.c.title, latest.c.author)
        .join(Url, Article.url_id == Url.id)
        .join(latest, latest.c.article_id == Article.id)
        .outerjoin(Outlet, Article.outlet_id == Outlet.id)
        .order_by(Article.first_seen_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [
        ArticleRow(
            outlet=outlet,
            title=title,
            author=author,
            published=article.published,
            listed_published=article.listed_published,
            first_seen=article.first_seen_at.strftime("%Y-%m-%d %H:%M:%S"),
            url=url,
        )
        for article, outlet, url, title, author in session.execute(query)
    ]
