"""Streaming exports: the same rows in CSV, JSON Lines and Parquet, typed, in flat memory."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from archive.db import Capture
from archive.export import columns_of, format_for, write_rows
from archive.queries import captures_query, coverage_query

COLUMNS = [("n", "int"), ("when", "datetime"), ("name", "str"), ("revisit", "bool"), ("terms", "json")]
WHEN = datetime(2019, 2, 28, 15, 0, 1, 500)


def rows(count: int) -> Iterator[dict]:
    for n in range(count):
        yield {
            "n": n,
            "when": WHEN,
            "name": None if n % 3 == 0 else f"Kim Jong-un, “row” {n}\nsecond line",
            "revisit": n % 2 == 0,
            "terms": ["Hanoi summit", "Kim"] if n % 2 else None,
        }


def test_csv_keeps_every_value_readable_by_the_csv_module() -> None:
    out = io.BytesIO()
    assert write_rows(rows(4), COLUMNS, out, "csv") == 4
    read = list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert [r["n"] for r in read] == ["0", "1", "2", "3"]
    assert read[1] == {
        "n": "1",
        "when": "2019-02-28T15:00:01.000500",
        "name": "Kim Jong-un, “row” 1\nsecond line",
        "revisit": "false",
        "terms": '["Hanoi summit", "Kim"]',
    }
    assert read[0]["name"] == "" and read[0]["terms"] == ""


def test_json_lines_are_one_object_per_line() -> None:
    out = io.BytesIO()
    write_rows(rows(3), COLUMNS, out, "jsonl")
    lines = out.getvalue().decode("utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[1]) == {
        "n": 1,
        "when": "2019-02-28T15:00:01.000500",
        "name": "Kim Jong-un, “row” 1\nsecond line",
        "revisit": False,
        "terms": ["Hanoi summit", "Kim"],
    }


def test_parquet_has_typed_columns_and_a_row_group_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("archive.export.BATCH_ROWS", 1000)
    out = io.BytesIO()
    assert write_rows(rows(2500), COLUMNS, out, "parquet") == 2500
    parquet = pq.ParquetFile(io.BytesIO(out.getvalue()))
    assert parquet.metadata.num_rows == 2500 and parquet.metadata.num_row_groups == 3
    schema = parquet.schema_arrow
    assert schema.field("n").type == pa.int64() and schema.field("when").type == pa.timestamp("us")
    assert schema.field("revisit").type == pa.bool_() and schema.field("terms").type == pa.string()
    table = parquet.read().to_pylist()
    assert table[1] == {
        "n": 1,
        "when": WHEN,
        "name": "Kim Jong-un, “row” 1\nsecond line",
        "revisit": False,
        "terms": '["Hanoi summit", "Kim"]',
    }


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_an_empty_export_is_a_valid_empty_file(fmt: str) -> None:
    out = io.BytesIO()
    assert write_rows(iter(()), COLUMNS, out, fmt) == 0
    if fmt == "parquet":
        assert pq.read_table(io.BytesIO(out.getvalue())).num_rows == 0
    elif fmt == "csv":
        assert out.getvalue().decode() == "n,when,name,revisit,terms\r\n"
    else:
        assert out.getvalue() == b""


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_memory_stays_flat_however_many_rows(fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Peak Python memory for 40,000 rows is that for 4,000: nothing grows with the row count
    (Parquet holds one row group of BATCH_ROWS rows at a time)."""
    monkeypatch.setattr("archive.export.BATCH_ROWS", 2000)

    def peak(count: int) -> int:
        tracemalloc.start()
        with (tmp_path / f"out.{fmt}").open("wb") as out:
            write_rows(rows(count), COLUMNS, out, fmt)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    small, large = peak(4_000), peak(40_000)
    assert large < small * 1.3 + 200_000, (small, large)


def test_progress_is_reported_while_writing() -> None:
    seen: list[int] = []
    write_rows(rows(2500), COLUMNS, io.BytesIO(), "jsonl", seen.append)
    assert seen == [1000, 2000, 2500]


def test_query_columns_are_typed_from_the_schema() -> None:
    kinds = dict(columns_of(captures_query()))
    assert kinds["fetched_at"] == "datetime" and kinds["status"] == "int"
    assert kinds["is_revisit"] == "bool" and kinds["url"] == "str" and kinds["version"] == "int"
    coverage = dict(columns_of(coverage_query()))
    assert coverage["matched_terms"] == "json" and coverage["versions"] == "int"
    assert dict(columns_of(select(Capture.warc_offset)))["warc_offset"] == "int"


def test_the_format_comes_from_the_suffix_unless_given() -> None:
    assert format_for("x/coverage.parquet") == "parquet"
    assert format_for("v.JSONL") == "jsonl" and format_for("v.ndjson") == "jsonl"
    assert format_for("whatever.txt", "csv") == "csv"
    with pytest.raises(ValueError, match=r"\*\.csv, \*\.jsonl or \*\.parquet"):
        format_for("out.xlsx")
