"""The coverage database: an index over the WARC files, never the only copy of anything."""

from archive.db.models import (
    Article,
    ArticleVersion,
    Base,
    Capture,
    FetchError,
    Listing,
    Observation,
    Outlet,
    Story,
    StoryArticle,
    Url,
)
from archive.db.runs import JobRun
from archive.db.session import SchemaError, open_database, session_factory

__all__ = [
    "Article",
    "ArticleVersion",
    "Base",
    "Capture",
    "FetchError",
    "JobRun",
    "Listing",
    "Observation",
    "Outlet",
    "SchemaError",
    "Story",
    "StoryArticle",
    "Url",
    "open_database",
    "session_factory",
]
