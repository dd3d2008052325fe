"""Read-only questions researchers ask of the database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.db.models import Article, Capture, FetchError, Outlet, Url
from archive.warc.writer import OPEN_SUFFIX


@dataclass(frozen=True)
class ArchiveSummary:
    outlets: int
    urls: int
    captures: int
    captures_by_status: dict[str, int]
    articles: int
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
    fetched_at: str
    url: str


def summarize(session: Session, warc_dir: Path) -> ArchiveSummary:
    """Counts of what is archived, from the database and the WARC folder."""
    by_status = {
        str(status if status is not None else "-"): count
        for status, count in session.execute(
            select(Capture.status, func.count()).group_by(Capture.status).order_by(Capture.status)
        )
    }
    warcs = sorted(warc_dir.glob("*.warc.gz")) if warc_dir.is_dir() else []
    open_warcs = sorted(warc_dir.glob(f"*.warc.gz{OPEN_SUFFIX}")) if warc_dir.is_dir() else []
    return ArchiveSummary(
        outlets=session.scalar(select(func.count()).select_from(Outlet)) or 0,
        urls=session.scalar(select(func.count()).select_from(Url)) or 0,
        captures=sum(by_status.values()),
        captures_by_status=by_status,
        articles=session.scalar(select(func.count()).select_from(Article)) or 0,
        fetch_errors=session.scalar(select(func.count()).select_from(FetchError)) or 0,
        warc_files=len(warcs),
        warc_files_open=len(open_warcs),
        warc_bytes=sum(p.stat().st_size for p in warcs + open_warcs),
    )


def list_articles(session: Session, limit: int | None = None) -> list[ArticleRow]:
    """Archived articles, newest capture first."""
    query = (
        select(Article, Outlet.name, Capture.fetched_at, Url.url)
        .join(Capture, Article.capture_id == Capture.id)
        .join(Url, Article.url_id == Url.id)
        .outerjoin(Outlet, Article.outlet_id == Outlet.id)
        .order_by(Capture.fetched_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return [
        ArticleRow(
            outlet=outlet,
            title=article.title,
            author=article.author,
            published=article.published,
            listed_published=article.listed_published,
            fetched_at=fetched_at.strftime("%Y-%m-%d %H:%M:%S"),
            url=url,
        )
        for article, outlet, fetched_at, url in session.execute(query)
    ]
