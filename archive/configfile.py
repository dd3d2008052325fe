"""Reading the project's TOML configuration files (seed lists, jobs, stories).

Each kind of file has its own error class, all reporting the file and the
field at fault the same way (``seeds/x.toml: outlet[2].feeds[0]: ...``),
because a mistake found before a crawl starts costs nothing and one found
after an hour of crawling costs the hour.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from archive.errors import NewsArchiveError


class ConfigFileError(NewsArchiveError, ValueError):
    """A configuration file that cannot be used, with the file and field at fault."""

    #: What the file is called in messages ("seed file", "jobs file"...).
    kind = "configuration file"

    def __init__(self, path: str | os.PathLike[str], field: str, message: str) -> None:
        self.path = str(path)
        self.field = field
        super().__init__(f"{self.path}: {field}: {message}" if field else f"{self.path}: {message}")


def read_toml(path: Path, error: type[ConfigFileError]) -> dict[str, Any]:
    """The file's TOML table; a missing file or a syntax error raises ``error``."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise error(path, "", f"no such {error.kind}") from None
    except tomllib.TOMLDecodeError as e:
        raise error(path, "", f"not valid TOML: {e}") from None
