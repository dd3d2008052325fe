"""Streaming exports: CSV, JSON Lines and Parquet, one row at a time.

Rows come from a query read in batches (``yield_per``) and are written as
they arrive; Parquet is written one row group per batch. Memory therefore
stays flat however many rows there are, bounded by one batch.

Columns are typed (``int``, ``float``, ``bool``, ``str``, ``datetime``,
``json``) so each format can write them faithfully: Parquet gets real
integer and timestamp columns, CSV and JSON Lines get ISO 8601 times and
JSON for list values.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, Numeric, Select

__all__ = ["FORMATS", "Column", "columns_of", "format_for", "write_rows"]

FORMATS = ("csv", "jsonl", "parquet")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
#: Column kinds and their Arrow (Parquet) types; a datetime is a timestamp to the microsecond.
ARROW_TYPES = {"int": "int64", "float": "float64", "bool": "bool_", "str": "string", "json": "string"}
#: A Parquet row group is written when either bound is reached.
BATCH_ROWS = 10_000
BATCH_BYTES = 32_000_000
#: How often (rows) the progress callback is called.
PROGRESS_EVERY = 1_000

Column = tuple[str, str]  # (name, kind)


def columns_of(query: Select[Any], extra: Mapping[str, str] | None = None) -> list[Column]:
    """The typed columns of a query's rows (plus ``extra`` computed ones)."""
    columns = [(c.name, _kind(c.type)) for c in query.selected_columns]
    return columns + list((extra or {}).items())


def format_for(path: str | os.PathLike[str], explicit: str | None = None) -> str:
    """The export format: as given, else from the file suffix."""
    if explicit:
        if explicit not in FORMATS:
            raise ValueError(f"unknown export format {explicit!r} (known: {', '.join(FORMATS)})")
        return explicit
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"cannot tell the export format of {str(path)!r}: name it *.csv, *.jsonl or *.parquet")
    return SUFFIXES[suffix]


def write_rows(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[Column],
    out: IO[bytes],
    fmt: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the rows to a binary stream in the format; returns how many were written.

    ``progress`` is called with the running count every :data:`PROGRESS_EVERY` rows and at the end.
    """
    writer = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}[fmt]
    count = writer(_counted(rows, progress), columns, out)
    if progress:
        progress(count)
    return count


def _counted(rows: Iterable[Mapping[str, Any]], progress: Callable[[int], None] | None) -> Iterable[Mapping[str, Any]]:
    for count, row in enumerate(rows, 1):
        yield row
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)


def _write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], out: IO[bytes]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow([name for name, _ in columns])
    count = 0
    for row in rows:
        writer.writerow([_text_cell(row[name], kind) for name, kind in columns])
        count += 1
    text.flush()
    text.detach()  # leave the caller's stream open
    return count


def _write_jsonl(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], out: IO[bytes]) -> int:
    count = 0
    for row in rows:
        record = {name: _json_value(row[name]) for name, _ in columns}
        out.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        count += 1
    return count


def _write_parquet(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], out: IO[bytes]) -> int:
    import pyarrow as pa  # loaded for Parquet only: it doubles the command line's start-up time
    import pyarrow.parquet as pq

    def arrow(kind: str) -> Any:
        return pa.timestamp("us") if kind == "datetime" else getattr(pa, ARROW_TYPES[kind])()

    schema = pa.schema([(name, arrow(kind)) for name, kind in columns])
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        batch: dict[str, list[Any]] = {name: [] for name, _ in columns}
        size = 0
        for row in rows:
            for name, kind in columns:
                value = row[name]
                if kind == "json" and value is not None:
                    value = json.dumps(value, ensure_ascii=False)
                if isinstance(value, str):
                    size += len(value)
                batch[name].append(value)
            count += 1
            if count % BATCH_ROWS == 0 or size >= BATCH_BYTES:
                writer.write_table(pa.Table.from_pydict(batch, schema=schema))
                batch = {name: [] for name, _ in columns}
                size = 0
        if any(batch.values()) or count == 0:
            writer.write_table(pa.Table.from_pydict(batch, schema=schema))
    return count


def _kind(sql_type: Any) -> str:
    if isinstance(sql_type, Boolean):
        return "bool"
    if isinstance(sql_type, Integer):
        return "int"
    if isinstance(sql_type, Float | Numeric):
        return "float"
    if isinstance(sql_type, DateTime):
        return "datetime"
    if isinstance(sql_type, JSON):
        return "json"
    return "str"


def _text_cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "json":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
