"""Keeping the WARC-derived tables: how full they are, emptying them for a rebuild, planner statistics.

Which tables are an index over the WARC files (and may be dropped and
rebuilt from them) and which hold what the WARCs do not (stories'
definitions, the scheduler's history) is decided here, once.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from archive.db.models import (
    Article,
    ArticleVersion,
    Capture,
    CaptureDecision,
    FetchError,
    Listing,
    Observation,
    Outlet,
    RecheckCount,
    RecheckSchedule,
    ReextractedVersion,
    Reextraction,
    StoryArticle,
    Url,
)

__all__ = ["INDEX_TABLES", "clear_index", "indexed_rows", "refresh_statistics"]

#: What a rebuild empties: every table indexed from the WARCs (children first; the recheck schedule is
#: kept from the captures too), and story membership,
#: which refers to articles and is recomputed from the stories' definitions. Other tables (stories'
#: definitions, the scheduler's history) hold what the WARCs do not, and are kept.
INDEX_TABLES = (
    RecheckCount,
    RecheckSchedule,
    StoryArticle,
    Reextraction,
    ReextractedVersion,
    Observation,
    ArticleVersion,
    Article,
    Listing,
    FetchError,
    CaptureDecision,
    Capture,
    Url,
    Outlet,
)


def indexed_rows(session: Session) -> int:
    """How many rows the WARC-derived tables hold (0: an empty index)."""
    return sum(session.scalar(select(func.count()).select_from(model)) or 0 for model in (Outlet, Url, Capture))


def clear_index(session: Session) -> None:
    """Empty the WARC-derived tables, before a rebuild."""
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(model.__tablename__ for model in INDEX_TABLES)
        session.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        return
    for model in INDEX_TABLES:
        session.execute(delete(model))


def refresh_statistics(session: Session) -> None:
    """Tell the query planner how big the index tables now are (``ANALYZE``), after a bulk load:
    with the statistics of the empty tables PostgreSQL plans a full export as nested loops."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(model.__tablename__ for model in INDEX_TABLES)}"))
    else:
        session.execute(text("ANALYZE"))
