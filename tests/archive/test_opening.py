"""Opening an archive: the files a killed crawl left open are recovered, then indexed, as far as they read;
no file stops the others, nor the opening."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.cli import main
from archive.config import ArchivePaths
from archive.db import Capture, open_database, session_factory
from archive.db.ingester import Ingester
from archive.index import IndexStore
from archive.opening import ArchiveSettings, open_archive, recover_archive
from archive.warc import iter_records
from archive.warc.files import file_host
from archive.warc.reader import MANY_RECORDS
from tests.archive.warc.test_reader import DATE, record
from tests.archive.warc.test_recovery import SITE, complete_warc, member_ends, open_copy  # noqa: F401 (a fixture)


def test_recovery_indexes_what_the_database_and_cdxj_had_not_heard_of(complete_warc: Path, tmp_path: Path) -> None:  # noqa: F811
    paths = ArchivePaths.resolve(data_dir=tmp_path)
    engine = open_database(paths.database_url)
    sessions = session_factory(engine)
    ends = member_ends(complete_warc)
    (tmp_path / "warcs").mkdir()
    path = open_copy(complete_warc, tmp_path / "warcs", ends[8] + 100)  # torn inside the fifth request
    ingester = Ingester(sessions)
    # the indexer thread had ingested the first two responses when the crawler died
    ingester.ingest([r for r in iter_records(complete_warc) if r.record_id in ("<urn:uuid:0>", "<urn:uuid:1>")])
    index = IndexStore(paths.index_dir)
    (result,) = recover_archive(paths, Ingester(sessions), index)
    with sessions() as session:
        captures = session.scalars(select(Capture).order_by(Capture.record_id)).all()
        assert [c.record_id for c in captures] == [f"<urn:uuid:{i}>" for i in range(4)]
        for capture in captures:
            assert capture.warc_filename == result.path.name
            assert capture.warc_offset in ends
    engine.dispose()
    assert not path.exists()
    lines = index.index_path(result.path.name).read_text().splitlines()
    assert [json.loads(line.split(" ", 2)[2])["url"] for line in lines] == [f"{SITE}{i}" for i in range(4)]


def odd_response(
    record_id: str, version: str = "WARC/1.1", date: str = DATE, uri: str = "http://example.com/a"
) -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>hi</p>"
    fields = {"WARC-Type": "response", "WARC-Record-ID": record_id, "WARC-Date": date, "WARC-Target-URI": uri}
    head = "\n".join([version, *(f"{k}: {v}" for k, v in fields.items() if v), "Content-Type: application/http"])
    return record(head, http)


def test_foreign_records_are_indexed_as_far_as_they_are_valid(tmp_path: Path) -> None:
    paths = ArchivePaths.resolve(data_dir=tmp_path)
    engine = open_database(paths.database_url)
    sessions = session_factory(engine)
    (tmp_path / "warcs").mkdir()
    members = [
        odd_response("<urn:uuid:good>"),
        odd_response("<urn:uuid:future>", version="WARC/9.9", uri="http://example.com/b"),
        odd_response(""),
        odd_response("<urn:uuid:baddate>", date="not a date"),
        odd_response("<urn:uuid:last>", uri="http://example.com/c"),
    ]
    path = tmp_path / "warcs" / "foreign.warc.gz.open"
    path.write_bytes(b"".join(members))
    index = IndexStore(paths.index_dir)
    (result,) = recover_archive(paths, Ingester(sessions), index)
    assert result.closed and result.records == 5 and not result.problems
    with sessions() as session:
        assert set(session.scalars(select(Capture.record_id))) == {
            "<urn:uuid:good>",
            "<urn:uuid:future>",
            "<urn:uuid:last>",
        }
    engine.dispose()
    lines = index.index_path(result.path.name).read_text().splitlines()
    assert sorted(json.loads(line.split(" ", 2)[2])["url"] for line in lines) == [
        f"http://example.com/{c}" for c in "abc"
    ]


def test_stray_entries_are_reported_and_the_crawl_still_opens(complete_warc: Path, tmp_path: Path) -> None:  # noqa: F811
    warcs = tmp_path / "warcs"
    warcs.mkdir()
    (warcs / "a-directory.warc.gz.open").mkdir()
    (warcs / "b-dangling.warc.gz.open").symlink_to(tmp_path / "nowhere")
    ends = member_ends(complete_warc)
    crafted = warcs / f"newsarchive-99999999999999999-00001-0~{file_host()}.warc.gz.open"
    crafted.write_bytes(complete_warc.read_bytes()[: ends[4] + 10])
    whole_gzip = warcs / "whole.warc.gz.open"
    whole_gzip.write_bytes(gzip.compress(b"".join(gzip.decompress(m) for m in members(complete_warc))))
    settings = ArchiveSettings(ArchivePaths.resolve(data_dir=tmp_path), info={"software": "test"})
    archiver, recovered = open_archive(settings)
    try:
        results = {r.path.name: r for r in recovered}
        assert "not a regular file" in " ".join(results["a-directory.warc.gz.open"].problems)
        assert "a symlink, not" in " ".join(results["b-dangling.warc.gz.open"].problems)
        closed = results[crafted.name.removesuffix(".open")]
        assert closed.closed and closed.records == 5 and not closed.problems
        whole = results["whole.warc.gz"]
        assert whole.closed and whole.records == 11
        assert f"database: indexed up to offset 0: {MANY_RECORDS}" in whole.problems
        with session_factory(open_database(settings.paths.database_url))() as session:
            assert set(session.scalars(select(Capture.record_id))) == {"<urn:uuid:0>", "<urn:uuid:1>"}
    finally:
        archiver.close()


def members(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return [data[r.location.offset : r.location.offset + r.location.length] for r in iter_records(path)]


def test_newsarchive_recover_reports_damage_with_offsets(
    complete_warc: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    warcs = tmp_path / "warcs"
    warcs.mkdir()
    ends = member_ends(complete_warc)
    damaged = bytearray(complete_warc.read_bytes())
    damaged[(ends[3] + ends[4]) // 2] ^= 0x20  # in the second response
    (warcs / complete_warc.name).with_name(complete_warc.name + ".open").write_bytes(damaged)
    (warcs / "stray.warc.gz.open").mkdir()
    assert main(["--data", str(tmp_path), "recover"]) == 0
    out = capsys.readouterr().out
    assert f"{complete_warc.name}: skipped {ends[4] - ends[3]} damaged bytes at offset {ends[3]} of the original" in out
    assert f"{complete_warc.name}: the damaged original is kept as {complete_warc.name}.damaged" in out
    assert "stray.warc.gz.open: a directory, not a regular file; left alone" in out
    row = next(line for line in out.splitlines() if line.startswith(complete_warc.name + " "))
    assert row.split()[1:] == ["10", str(ends[-1] - (ends[4] - ends[3])), "0", str(ends[4] - ends[3])]
    engine = open_database(ArchivePaths.resolve(data_dir=tmp_path).database_url)
    with session_factory(engine)() as session:
        assert len(session.scalars(select(Capture.record_id)).all()) == 4  # the second response is gone
    engine.dispose()
