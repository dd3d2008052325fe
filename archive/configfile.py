"""Reading the project's TOML configuration files (seed lists, jobs, stories).

Each kind of file has its own error class, all reporting the file and the
field at fault the same way (``seeds/x.toml: outlet[2].feeds[0]: ...``),
because a mistake found before a crawl starts costs nothing and one found
after an hour of crawling costs the hour.

Whatever a path points at (a directory, ``/dev/zero``, a FIFO, a binary or
a 10 GB file, TOML nested thousands deep), reading it either returns a table
or raises the file kind's :class:`ConfigFileError` within about a second,
without reading more than :data:`MAX_BYTES` or recursing without bound.
tomllib's time grows with the number of keys, values and tables (up to
12 µs each for dotted table headers, measured), not with the bytes, so
what bounds the time is :data:`MAX_ITEMS`, counted before parsing.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from archive.errors import NewsArchiveError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_ITEMS", "MAX_KEY_PARTS", "ConfigFileError", "read_toml"]

#: Largest configuration file read, in bytes. Long strings and comments parse at some 8 MiB a second,
#: so this bounds the time of a file that is mostly text; :data:`MAX_ITEMS` that of any other.
MAX_BYTES = 4 * 2**20
#: Most keys, values and tables a file may hold, counted as the characters that start or separate
#: them (``=``, ``,``, ``[``, ``{``, and ``.`` for dotted keys; inside strings too, so an estimate
#: from above): 80,000 parse within a second whatever their shape, and hold a seed list of some
#: 4,000 outlets with five URLs each (about 20 apiece).
MAX_ITEMS = 80_000
#: Deepest nesting of tables and arrays: the files use three or four levels
#: (``job`` → table → ``settings`` → value); a deeper one is a mistake.
MAX_DEPTH = 10
#: Most parts in a dotted key (``a.b.c``). tomllib takes time and memory quadratic in them (30,000 parts,
#: a 60 KB line, take 3 GB), so they are counted before it parses; each part is a level of nesting.
MAX_KEY_PARTS = MAX_DEPTH
#: A dotted key of more than ``MAX_KEY_PARTS`` parts, where a key can start: a line, a table header, an
#: inline table. Only at those places, so that the scan stays linear; it may also find one inside a string.
_LONG_KEY = re.compile(
    rf"""(?:^|[\[{{,])[ \t]*(?:(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')[ \t]*\.[ \t]*){{{MAX_KEY_PARTS}}}""",
    re.MULTILINE,
)


_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_DURATION_UNITS = (7 * 86400, 86400, 3600, 60, 1)


class ConfigFileError(NewsArchiveError, ValueError):
    """A configuration file that cannot be used, with the file and field at fault."""

    #: What the file is called in messages ("seed file", "jobs file"...).
    kind = "configuration file"

    def __init__(self, path: str | os.PathLike[str], field: str, message: str) -> None:
        self.path = str(path)
        self.field = field
        super().__init__(f"{self.path}: {field}: {message}" if field else f"{self.path}: {message}")


def read_toml(path: Path, error: type[ConfigFileError]) -> dict[str, Any]:
    """The file's TOML table; anything else (missing, not a file, too large, not UTF-8, bad TOML) raises ``error``."""
    text = _read_text(path, error)
    if (items := sum(text.count(mark) for mark in "=,[{.")) > MAX_ITEMS:
        raise error(
            path, "", f"about {items:,} keys, values and tables, more than the {MAX_ITEMS:,} a {error.kind} may hold"
        )
    if long_key := _LONG_KEY.search(text):
        line = text.count("\n", 0, long_key.end()) + 1
        raise error(path, "", f"line {line}: a dotted key of more than {MAX_KEY_PARTS} parts")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(path, "", f"not valid TOML: {e}") from None
    except RecursionError:
        raise error(path, "", f"not valid TOML: nested more than {MAX_DEPTH} levels deep") from None
    _check_values(path, error, data)
    return data


def _read_text(path: Path, error: type[ConfigFileError]) -> str:
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise error(path, "", f"no such {error.kind}") from None
    except IsADirectoryError:
        raise error(path, "", f"is a directory, not a {error.kind}") from None
    except OSError as e:
        raise error(path, "", f"cannot be read: {e.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise error(path, "", f"is a directory, not a {error.kind}")
        raise error(path, "", f"not a regular file (a {error.kind} is a TOML file)")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(MAX_BYTES + 1)
        except OSError as e:
            raise error(path, "", f"cannot be read: {e.strerror}") from None
    if len(data) > MAX_BYTES:
        raise error(path, "", f"larger than {MAX_BYTES // 2**20} MiB: not a {error.kind}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise error(path, "", f"not UTF-8 text: byte 0x{data[e.start]:02x} on line {line}") from None


def _check_values(path: Path, error: type[ConfigFileError], data: dict[str, Any]) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and NUL characters (PostgreSQL stores no NUL in text)."""
    pending: list[tuple[str, int, Any]] = [("", 0, data)]
    while pending:
        field, depth, value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise error(path, field, "contains a NUL character")
            continue
        if isinstance(value, dict):
            items = [(f"{field}.{key}" if field else key, key, item) for key, item in value.items()]
        elif isinstance(value, list):
            items = [(f"{field}[{i}]", "", item) for i, item in enumerate(value)]
        else:
            continue
        if depth >= MAX_DEPTH:
            raise error(path, field, f"nested more than {MAX_DEPTH} levels deep")
        for name, key, item in items:
            if "\x00" in key:
                raise error(path, field or "", "a key contains a NUL character")
            pending.append((name, depth + 1, item))


def parse_duration(value: Any, maximum: int) -> int:
    """Seconds in ``value``: an integer of seconds, or a string like ``90s``, ``15m``, ``1h30m``, ``2d``, ``1w``.

    ``ValueError`` unless it is positive and at most ``maximum`` seconds.
    """
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '15m'")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value.strip())) and any(match.groups()):
        # more digits than any bound has are too long however they read (and int() refuses 4,300 digits)
        numbers = [int(n) if len(n) <= 12 else maximum + 1 for n in match.groups() if n is not None]
        units = [unit for n, unit in zip(match.groups(), _DURATION_UNITS, strict=True) if n is not None]
        seconds = sum(n * unit for n, unit in zip(numbers, units, strict=True))
    else:
        raise ValueError(f"not a duration: {value!r} (seconds, or a string like '90s', '15m', '1h30m', '2d', '1w')")
    if seconds <= 0:
        raise ValueError(f"must be positive: {value!r}")
    if seconds > maximum:
        raise ValueError(f"too long: {value!r} (at most {format_duration(maximum)})")
    return seconds


def format_duration(seconds: int) -> str:
    """``5400`` as ``1h30m``: the form :func:`parse_duration` reads."""
    parts = []
    for unit, suffix in zip(_DURATION_UNITS, "wdhms", strict=True):
        if seconds >= unit:
            parts.append(f"{seconds // unit}{suffix}")
            seconds %= unit
    return "".join(parts) or "0s"
