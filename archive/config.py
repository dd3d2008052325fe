"""Where an archive lives on disk.

One data directory holds everything a crawl produces (``warcs/`` and the
SQLite database), so moving or backing up an archive is moving one folder.
``NEWSARCHIVE_DATA`` moves it, ``NEWSARCHIVE_DATABASE_URL`` points the
database elsewhere (PostgreSQL at scale).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "NEWSARCHIVE_DATA"
DATABASE_URL_ENV = "NEWSARCHIVE_DATABASE_URL"
DEFAULT_DATA_DIR = "data"


@dataclass(frozen=True)
class ArchivePaths:
    """The locations of one archive: its data directory, WARC folder and database URL."""

    data_dir: Path
    warc_dir: Path
    database_url: str

    @property
    def index_dir(self) -> Path:
        """The CDXJ index: one ``<WARC name>.cdxj`` per closed WARC file."""
        return self.data_dir / "indexes"

    @classmethod
    def resolve(
        cls,
        data_dir: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        warc_dir: str | os.PathLike[str] | None = None,
    ) -> ArchivePaths:
        """Explicit arguments win, then the environment, then ``./data``."""
        data = Path(data_dir or os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR).absolute()
        url = database_url or os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{data / 'archive.db'}"
        warcs = Path(warc_dir).absolute() if warc_dir else data / "warcs"
        return cls(data_dir=data, warc_dir=warcs, database_url=url)
