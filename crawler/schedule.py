"""The crawler's reads of the recheck schedule (:mod:`archive.db.schedule`), off the reactor.

One per crawler (:meth:`ScheduleReader.of`): the recheck spider asks it
which articles are due, and the news crawl's :class:`~crawler.middlewares.known.KnownArticlesMiddleware`
whether a URL is a known article. Each question runs in Twisted's thread
pool on a connection of its own engine, so a slow database never blocks
downloads; the archiver process, not this one, writes the schedule.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TypeVar

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy import Engine, select
from twisted.internet.threads import deferToThread

from archive.config import ArchivePaths
from archive.db.models import Outlet as OutletRow
from archive.db.schedule import DUE_BATCH, DueCheck, due_batch, known_article
from archive.db.session import connect_database
from archive.seeds import Outlet

T = TypeVar("T")
_outlets = OutletRow.__table__

#: Request meta key: the :class:`~archive.db.schedule.DueCheck` of the known article a request rechecks.
RECHECK_META = "recheck"


class ScheduleReader:
    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._engine: Engine | None = None

    @classmethod
    def of(cls, crawler: Crawler) -> ScheduleReader:
        """The crawler's reader, made on first use."""
        reader = getattr(crawler, "_newsarchive_schedule", None)
        if reader is None:
            settings = crawler.settings
            paths = ArchivePaths.resolve(
                data_dir=settings.get("ARCHIVE_DATA_DIR"),
                database_url=settings.get("ARCHIVE_DATABASE_URL"),
                warc_dir=settings.get("ARCHIVE_WARC_DIR"),
            )
            reader = cls(paths.database_url)
            crawler._newsarchive_schedule = reader  # type: ignore[attr-defined]
        return reader

    async def due(self, now: datetime, outlet: str | None, everything: bool) -> AsyncIterator[DueCheck]:
        """The articles due at ``now`` (or all of them), read a batch at a time in a thread."""
        after: DueCheck | None = None
        while True:

            def read(after: DueCheck | None = after) -> list[DueCheck]:
                with self._connect_engine().connect() as connection:
                    return due_batch(connection, now, outlet, everything, after)

            batch = await self._in_thread(read)
            for check in batch:
                yield check
            if len(batch) < DUE_BATCH:
                return
            after = batch[-1]

    async def outlets(self) -> list[Outlet]:
        """The outlets as the archive last recorded them (their domains, for page requisites)."""

        def read() -> list[Outlet]:
            with self._connect_engine().connect() as connection:
                rows = connection.execute(select(_outlets.c.name, _outlets.c.homepage, _outlets.c.domains)).all()
            return [Outlet(row.name, tuple(row.domains or ()), (), homepage=row.homepage) for row in rows]

        return await self._in_thread(read)

    async def known(self, url: str) -> DueCheck | None:
        def ask() -> DueCheck | None:
            with self._connect_engine().connect() as connection:
                return known_article(connection, url)

        return await self._in_thread(ask)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _connect_engine(self) -> Engine:
        if self._engine is None:
            # the archiver process has checked and migrated the schema before the first request
            self._engine = connect_database(self._database_url)
        return self._engine

    @staticmethod
    async def _in_thread(call: Callable[[], T]) -> T:
        return await maybe_deferred_to_future(deferToThread(call))
