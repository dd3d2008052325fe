"""The URL shapes each outlet's past pages proved to be articles', read once as a crawl starts, off the reactor.

The archive counts every candidate page's decision by the shape of its URL
(:mod:`archive.db.shapes`); the news spider takes an outlet's links of its
proven shapes as candidates even when their shape alone would not have said
so, and fetches them first. Reading them is a convenience, never a
condition: without an archive, or with one that cannot be read, links are
taken by their shape alone.
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from archive.config import ArchivePaths
from archive.db.session import connect_database
from archive.db.shapes import learned_shapes as counted_shapes

__all__ = ["learned_shapes"]

logger = logging.getLogger(__name__)


async def learned_shapes(crawler: Crawler, outlets: list[str]) -> dict[str, frozenset[str]]:
    """The proven article shapes of these outlets, by name (none when the crawl archives nothing)."""
    settings = crawler.settings
    if not outlets or not settings.getbool("ARCHIVE_ENABLED"):
        return {}
    paths = ArchivePaths.resolve(
        data_dir=settings.get("ARCHIVE_DATA_DIR"),
        database_url=settings.get("ARCHIVE_DATABASE_URL"),
        warc_dir=settings.get("ARCHIVE_WARC_DIR"),
    )

    def read() -> dict[str, frozenset[str]]:
        # the archiver process has checked and migrated the schema before the spider starts
        engine = connect_database(paths.database_url)
        try:
            with engine.connect() as connection:
                counted = counted_shapes(connection, outlets)
        finally:
            engine.dispose()
        return {name: frozenset(s.shape for s in shapes if s.proven) for name, shapes in counted.items()}

    try:
        learned = await maybe_deferred_to_future(deferToThread(read))
    except Exception as e:  # noqa: BLE001 -- a convenience: the crawl goes on without it
        logger.warning("URL shapes learned in past crawls not read (%s); links are taken by their shape alone", e)
        return {}
    if learned:
        logger.info("URL shapes learned in past crawls: %s", {name: len(s) for name, s in learned.items()})
    return learned
