"""One scheduler per archive database.

APScheduler 3 does not coordinate schedulers that share a job store: two of
them would both find a job due and both run it. So a scheduler holds a lock
on its database for as long as it runs, and a second one either stops at
once with a message naming the holder, or (``--standby``) waits and takes
over when the holder goes away:

- PostgreSQL: a session-level advisory lock, held on a connection of its
  own. Its key is made from the archive's schema (advisory locks are per
  database already), so archives in separate schemas of one database
  schedule independently. It is released when that connection closes, so a
  scheduler that dies or loses its connection frees it; the holder is found
  in ``pg_locks`` and ``pg_stat_activity`` (its ``application_name``).
- SQLite: ``flock`` on a file beside the database (``archive.db.scheduler-lock``),
  released by the kernel when the process ends; the holder writes its name
  into the file.

A running scheduler checks its lock regularly (:meth:`SchedulerLock.check`)
and stops if it was lost, rather than risk running beside a successor.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import zlib
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

from archive.errors import NewsArchiveError
from archive.jobs.history import HOST

logger = logging.getLogger(__name__)

#: First half of the advisory lock's key ("news"); the second is the CRC-32 of the schema's name.
PG_LOCK_CLASS = 0x6E657773
LOCK_FILE_SUFFIX = ".scheduler-lock"


class SchedulerLockError(NewsArchiveError, RuntimeError):
    """Another scheduler holds the lock, or none can be taken on this database."""

    #: EX_TEMPFAIL: a service manager should not restart a scheduler into the same lock in a loop.
    exit_code = 75


class SchedulerLockLost(NewsArchiveError, RuntimeError):
    """The lock this scheduler held is gone: another scheduler may have taken over."""


def identity() -> str:
    """Who holds a lock: process, host and start time (short: PostgreSQL keeps 63 bytes of it)."""
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
    return f"newsarchive scheduler pid {os.getpid()} since {since} on {HOST}"


class SchedulerLock:
    """The lock of one database; see the module's documentation."""

    def acquire(self, wait: bool = False, poll: float = 10.0, stop: threading.Event | None = None) -> bool:
        """Take the lock, or raise :class:`SchedulerLockError` naming the holder.

        With ``wait``, try again every ``poll`` seconds instead, until taken
        (True) or ``stop`` is set (False).
        """
        stop = stop or threading.Event()
        announced = False
        while True:
            holder = self._try()
            if holder is None:
                logger.info("scheduler lock taken (%s)", self.where)
                return True
            if not wait:
                raise SchedulerLockError(f"another scheduler is running on this database ({self.where}): {holder}")
            if not announced:
                logger.warning("standing by: another scheduler holds the lock (%s): %s", self.where, holder)
                announced = True
            if stop.wait(poll):
                return False

    @property
    def where(self) -> str:
        raise NotImplementedError

    def check(self) -> None:
        """Raise :class:`SchedulerLockLost` if the lock is no longer held."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def _try(self) -> str | None:
        """Take the lock if free: None, else a description of the holder."""
        raise NotImplementedError


def lock_for(engine: Engine) -> SchedulerLock:
    """The scheduler lock of the database behind ``engine``."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        return PostgresLock(engine)
    if backend == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:":
            raise SchedulerLockError("the scheduler needs a database file that its crawls can share")
        return FileLock(Path(database + LOCK_FILE_SUFFIX))
    raise SchedulerLockError(f"no scheduler lock for {backend} databases: use SQLite or PostgreSQL")


class PostgresLock(SchedulerLock):
    def __init__(self, engine: Engine) -> None:
        # A connection of its own, outside the pool the job store disposes of at shutdown.
        self.engine = create_engine(engine.url, poolclass=NullPool)
        self.connection: Connection | None = None
        self.schema = ""

    @property
    def where(self) -> str:
        return f"advisory lock on {self.engine.url.render_as_string()}, schema {self.schema or '?'}"

    def _key(self) -> dict[str, int]:
        """The key as the two int4 arguments of ``pg_try_advisory_lock``."""
        objid = self._oids()["b"]
        return {"a": PG_LOCK_CLASS, "b": objid - (1 << 32) if objid >= 1 << 31 else objid}

    def _oids(self) -> dict[str, int]:
        """The key as ``pg_locks`` shows it (``classid``, ``objid``: unsigned)."""
        return {"a": PG_LOCK_CLASS, "b": zlib.crc32(self.schema.encode())}

    def _try(self) -> str | None:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            self.schema = connection.scalar(text("SELECT current_schema()")) or ""
            connection.execute(text("SELECT set_config('application_name', :name, false)"), {"name": identity()})
            if connection.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"), self._key()):
                self.connection = connection
                return None
            holder = connection.execute(
                text(
                    "SELECT a.application_name, a.client_addr, a.pid FROM pg_locks l"
                    " JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
                    " AND l.classid::bigint = :a AND l.objid::bigint = :b"
                    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                self._oids(),
            ).first()
        except BaseException:
            connection.close()
            raise
        connection.close()
        if holder is None:  # released in between
            return "(released just now)"
        name, address, pid = holder
        return f"{name or 'unnamed session'} (backend pid {pid}, client {address or 'local'})"

    def check(self) -> None:
        try:
            assert self.connection is not None
            held = self.connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'"
                    " AND granted AND objsubid = 2 AND classid::bigint = :a AND objid::bigint = :b"
                ),
                self._oids(),
            )
        except Exception as e:
            raise SchedulerLockLost(f"lost the connection holding the scheduler lock: {e}") from e
        if held != 1:
            raise SchedulerLockLost("the scheduler lock is no longer held")

    def release(self) -> None:
        if self.connection is None:
            return
        connection, self.connection = self.connection, None
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), self._key())
        except Exception:  # noqa: BLE001 - closing the session releases the lock anyway
            logger.debug("unlocking failed; closing the connection releases the lock", exc_info=True)
        finally:
            connection.close()


class FileLock(SchedulerLock):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    @property
    def where(self) -> str:
        return f"lock file {self.path}"

    def _try(self) -> str | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 1000).decode("utf-8", "replace").strip()
            os.close(fd)
            return holder or "(a process that has not written its name yet)"
        os.ftruncate(fd, 0)
        os.write(fd, (identity() + "\n").encode())
        self.fd = fd
        return None

    def check(self) -> None:
        assert self.fd is not None
        try:
            same = os.stat(self.path).st_ino == os.fstat(self.fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            raise SchedulerLockLost(f"the lock file {self.path} was removed or replaced")

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
