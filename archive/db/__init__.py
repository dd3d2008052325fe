"""The coverage database: an index over the WARC files, never the only copy of anything."""

from archive.db.models import Article, Base, Capture, FetchError, Listing, Outlet, Url
from archive.db.session import open_database, session_factory

__all__ = ["Article", "Base", "Capture", "FetchError", "Listing", "Outlet", "Url", "open_database", "session_factory"]
