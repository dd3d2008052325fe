"""Alembic environment: runs against the engine handed over by ``archive.db.session``.

SQLite alters a table by copying it into a new one and dropping the old
(batch mode), which its foreign-key enforcement forbids while other tables
refer to it: enforcement is off while migrating, and every reference is
checked once at the end instead.
"""

from alembic import context

from archive.db.models import Base

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                raise RuntimeError(f"the migration left broken references (table, row, parent, key): {broken[:10]}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
