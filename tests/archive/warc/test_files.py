"""WARC file names and folders: one naming convention, and only closed files listed as finished."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from archive.warc import WarcWriter
from archive.warc.files import (
    OPEN_SUFFIX,
    closed_warcs,
    file_host,
    is_closed_warc,
    new_name,
    open_warcs,
    parse_name,
    warc_files,
)

WHEN = datetime(2019, 2, 28, 14, 30, 5, 123456, tzinfo=timezone.utc)


def test_a_new_name_parses_back_into_its_parts() -> None:
    name = new_name("news-archive", 7, WHEN)
    assert name == f"news-archive-20190228143005123-00007-{os.getpid()}~{file_host()}.warc.gz"
    parsed = parse_name(name)
    assert parsed is not None
    assert (parsed.prefix, parsed.serial, parsed.pid, parsed.host) == ("news-archive", 7, os.getpid(), file_host())
    assert parsed.created == WHEN.replace(microsecond=123000)
    assert parse_name(name + OPEN_SUFFIX) == parsed


@pytest.mark.parametrize(
    "name",
    [
        "crawl.warc.gz",
        "x-2019-00001-12~h.warc.gz",
        "x-20190228143005123-00001-12~h.warc",
        "notes.txt",
        "x-99999999999999999-00001-12~h.warc.gz.open",  # seventeen digits that are no time
        "x-20191399143005123-00001-12~h.warc.gz",  # month 13
    ],
)
def test_names_of_other_forms_are_not_parsed(name: str) -> None:
    assert parse_name(name) is None


def test_the_writer_names_its_files_by_the_convention(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, info={"software": "test"}, prefix="crawl")
    writer.write([])
    (being_written,) = open_warcs(tmp_path)
    assert closed_warcs(tmp_path) == []
    writer.close()
    (closed,) = closed_warcs(tmp_path)
    assert being_written.name == closed.name + OPEN_SUFFIX
    parsed = parse_name(closed.name)
    assert parsed is not None and (parsed.prefix, parsed.serial, parsed.pid) == ("crawl", 1, os.getpid())


def test_listings_take_finished_files_only_in_name_order(tmp_path: Path) -> None:
    for name in [
        "b.warc.gz",
        "a.warc.gz",
        "c.warc.gz.open",
        "d.warc",
        "e.cdxj",
        "g.warc.gz.damaged",
        "h.warc.gz.repairing",
    ]:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "f.warc.gz").mkdir()
    assert [p.name for p in closed_warcs(tmp_path)] == ["a.warc.gz", "b.warc.gz"]
    assert [p.name for p in open_warcs(tmp_path)] == ["c.warc.gz.open"]
    assert not is_closed_warc(tmp_path / "f.warc.gz")
    assert closed_warcs(tmp_path / "missing") == [] and open_warcs(tmp_path / "missing") == []


def test_files_given_by_hand_include_uncompressed_warcs_but_never_open_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "warcs"
    folder.mkdir()
    for name in ["b.warc.gz", "a.warc", "c.warc.gz.open", "d.warc.gz.damaged", "e.warc.gz.repairing"]:
        (folder / name).write_bytes(b"")
    elsewhere = tmp_path / "0-other.warc.gz"
    elsewhere.write_bytes(b"")
    found = warc_files([folder, elsewhere, folder / "c.warc.gz.open"])
    assert [p.name for p in found] == ["0-other.warc.gz", "a.warc", "b.warc.gz"]
    assert "still being written" in caplog.text
