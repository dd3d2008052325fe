"""Opening the database: engine settings per backend and schema migrations.

SQLite gets WAL mode (a crawler writing and a researcher reading at once),
foreign keys, and a busy timeout. PostgreSQL is chosen by its URL
(``postgresql+psycopg://user@host/db``).

The schema is checked on open. A database made by an older release is
migrated to the latest Alembic revision, and the log says so; one made by a
newer release (a revision this code does not know), or one holding these
tables without a schema version, is refused and left exactly as it was.
A process that only reads a database another has opened this way (the
crawler's readers, beside its archiver process) connects without the check
(:func:`connect_database`), and without importing Alembic.
"""

from __future__ import annotations

import fcntl
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from archive.db.models import Base
from archive.errors import NewsArchiveError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaError(NewsArchiveError, RuntimeError):
    """The database's schema cannot be used by this version of newsarchive; nothing was changed."""


def open_database(url: str, migrate: bool = True) -> Engine:
    """An engine for the database at ``url``, its schema checked and (``migrate``) brought up to date."""
    engine = connect_database(url)
    try:
        with schema_lock(engine):
            prepare_schema(engine, migrate)
    except BaseException:
        engine.dispose()
        raise
    return engine


def connect_database(url: str) -> Engine:
    """An engine for the database at ``url``, its schema unchecked: for a reader of a database that
    :func:`open_database` has opened already (the crawler's archiver process opens it before the crawl)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


@contextmanager
def schema_lock(engine: Engine) -> Iterator[None]:
    """Only one process checks or migrates a database's schema at a time.

    Crawler workers started together on a new database would otherwise all try
    to create the schema, and the late ones would see half-made tables. On
    PostgreSQL an advisory lock (per schema), on SQLite an flock beside the file.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            key = {"key": "newsarchive-schema"}
            connection.execute(text("SELECT pg_advisory_lock(hashtext(:key || current_schema()))"), key)
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(hashtext(:key || current_schema()))"), key)
        return
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with open(f"{database}.schema-lock", "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield
        return
    yield


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    _import_alembic()
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The revisions the database is at, and the latest ones this code knows."""
    return _revisions(engine, _scripts(engine))


def _scripts(engine: Engine) -> ScriptDirectory:
    config = alembic_config(engine)
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config)


def _revisions(engine: Engine, script: ScriptDirectory) -> tuple[set[str], set[str]]:
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, set(script.get_heads())


def prepare_schema(engine: Engine, migrate: bool = True) -> None:
    """Create the schema in an empty database, migrate an older one, refuse anything else."""
    script = _scripts(engine)
    current, heads = _revisions(engine, script)
    where = engine.url.render_as_string()
    if current == heads:
        return
    known = {revision.revision for revision in script.walk_revisions()}
    if unknown := sorted(current - known):
        raise SchemaError(
            f"{where}: the database schema is at revision {', '.join(unknown)}, newer than this newsarchive "
            f"knows (up to {', '.join(sorted(heads))}); use a newer newsarchive. The database was not changed."
        )
    if not current:
        ours = set(Base.metadata.tables) & set(inspect(engine).get_table_names())
        if ours:
            raise SchemaError(
                f"{where}: the database has tables named like newsarchive's ({', '.join(sorted(ours))}) but no "
                "schema version; it was not made by newsarchive, or its alembic_version table was lost. "
                "The database was not changed."
            )
        logger.info("creating the newsarchive schema in %s (revision %s)", where, ", ".join(sorted(heads)))
    elif not migrate:
        raise SchemaError(
            f"{where}: the database schema is at revision {', '.join(sorted(current))}, older than this "
            f"newsarchive's ({', '.join(sorted(heads))}); open it with migration allowed to upgrade it."
        )
    else:
        logger.warning(
            "migrating the database %s from schema revision %s to %s",
            where,
            ", ".join(sorted(current)),
            ", ".join(sorted(heads)),
        )
    from alembic import command

    command.upgrade(alembic_config(engine), "heads")


def _import_alembic() -> None:
    """Import Alembic, on first use rather than with this module, as quietly as it was then: importing it
    announces each plugin it sets up at INFO, which a log configured by now would show."""
    if "alembic" in sys.modules:
        return
    plugins = logging.getLogger("alembic.runtime.plugins")
    level = plugins.level
    plugins.setLevel(logging.WARNING)
    try:
        import alembic  # noqa: F401 - imported for its side effect, under the quieter level
    finally:
        plugins.setLevel(level)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
