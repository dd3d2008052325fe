"""Reading WARC files back: other tools' odd records are read as far as they are valid, and memory does not
grow with the size of a record."""

from __future__ import annotations

import gzip
import logging
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from archive.warc.reader import PAYLOAD_LIMIT, checked_records, iter_records, read_record

DATE = "2024-05-01T10:00:00Z"


def record(head: str, block: bytes = b"hello") -> bytes:
    """One gzip member holding a WARC record with these header lines (CRLF-joined) and block."""
    lines = head.strip().replace("\n", "\r\n").encode()
    return gzip.compress(lines + b"\r\nContent-Length: %d\r\n\r\n" % len(block) + block + b"\r\n\r\n")


def resource(version: str = "WARC/1.1", uri: str = "http://example.com/", **fields: str) -> str:
    values = {"WARC-Type": "resource", "WARC-Record-ID": "<urn:uuid:r>", "WARC-Date": DATE, "WARC-Target-URI": uri}
    values.update({name.replace("_", "-"): value for name, value in fields.items()})
    return version + "\n" + "\n".join(f"{name}: {value}" for name, value in values.items() if value)


def response(status_line: str, record_id: str) -> bytes:
    http = f"{status_line}\r\nContent-Type: text/html\r\n\r\n<p>hi</p>".encode()
    head = f"""WARC/1.1
WARC-Type: response
WARC-Record-ID: {record_id}
WARC-Date: {DATE}
WARC-Target-URI: http://example.com/page
Content-Type: application/http; msgtype=response"""
    return record(head, http)


def test_odd_records_are_read_as_far_as_they_are_valid_and_unindexable_ones_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    members = [
        record(resource(WARC_Record_ID="<urn:uuid:good>")),
        record(resource("WARC/9.9", WARC_Record_ID="<urn:uuid:future>")),
        record(resource(WARC_Record_ID="")),  # no id
        record(resource(WARC_Record_ID="<urn:uuid:baddate>", WARC_Date="yesterday")),
        record(resource(WARC_Record_ID="<urn:uuid:shortdate>", WARC_Date="2024")),
        record(resource(WARC_Record_ID="<urn:uuid:notype>", WARC_Type="")),
        record(resource(WARC_Record_ID="<urn:uuid:refdate>", WARC_Refers_To_Date="13/13/13")),
        record(resource(uri="http://host:99999/[x", WARC_Record_ID="<urn:uuid:baduri>")),
        response("HTTP/1.1 2x0 Odd", "<urn:uuid:badstatus>"),
        response("HTTP/1.1 99999999999999999999 Huge", "<urn:uuid:hugestatus>"),
        record(resource(WARC_Record_ID="<urn:uuid:last>")),
    ]
    path = tmp_path / "foreign.warc.gz"
    path.write_bytes(b"".join(members))
    offsets = [sum(len(m) for m in members[:i]) for i in range(len(members))]
    with caplog.at_level(logging.WARNING, logger="archive.warc.reader"):
        read = {r.record_id: r for r in checked_records(path)}
    assert list(read) == [
        "<urn:uuid:good>",
        "<urn:uuid:future>",
        "<urn:uuid:refdate>",
        "<urn:uuid:baduri>",
        "<urn:uuid:badstatus>",
        "<urn:uuid:hugestatus>",
        "<urn:uuid:last>",
    ]
    assert read["<urn:uuid:future>"].target_uri == "http://example.com/"
    assert read["<urn:uuid:refdate>"].refers_to_date is None
    assert read["<urn:uuid:baduri>"].target_uri == "http://host:99999/[x"
    assert read["<urn:uuid:badstatus>"].status is None and read["<urn:uuid:hugestatus>"].status is None
    for index, reason in [(2, "no WARC-Record-ID"), (3, "WARC-Date"), (4, "WARC-Date"), (5, "no WARC-Type")]:
        assert f"offset {offsets[index]}: record skipped: {reason}" in caplog.text
    assert [r.location.offset for r in iter_records(path)] == [offsets[i] for i in (0, 1, 6, 7, 8, 9, 10)]


def test_a_metadata_payload_beyond_the_limit_is_indexed_without_its_fields(tmp_path: Path) -> None:
    head = resource(WARC_Type="metadata", Content_Type="application/json")
    path = tmp_path / "big-metadata.warc.gz"
    path.write_bytes(record(head, b'{"a": 1}') + record(head, b'{"a": "' + b"x" * PAYLOAD_LIMIT + b'"}'))
    assert [r.data for r in iter_records(path)] == [{"a": 1}, None]


RECORD_SIZE = 512 << 20


def huge_record_warc(path: Path, size: int) -> None:
    """A gzip WARC of one resource record whose block is ``size`` bytes, written without holding it."""
    head = resource().replace("\n", "\r\n").encode() + b"\r\nContent-Length: %d\r\n\r\n" % size
    compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(range(256)) * 4096  # 1 MiB
    with path.open("wb") as out:
        out.write(compressor.compress(head))
        for _ in range(size // len(chunk)):
            out.write(compressor.compress(chunk))
        out.write(compressor.compress(b"\r\n\r\n") + compressor.flush())


def test_reading_a_huge_record_takes_memory_bounded_by_a_chunk_not_the_record(tmp_path: Path) -> None:
    path = tmp_path / "huge.warc.gz"
    huge_record_warc(path, RECORD_SIZE)
    measure = (
        "import resource, sys\n"
        "from archive.warc.reader import checked_records\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "records = list(checked_records(__import__('pathlib').Path(sys.argv[1])))\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(len(records), records[0].location.length, after - before)\n"
    )
    result = subprocess.run([sys.executable, "-c", measure, str(path)], capture_output=True, text=True, check=True)
    count, length, grown_kib = map(int, result.stdout.split())
    assert (count, length) == (1, path.stat().st_size)
    assert grown_kib < 32 << 10, f"peak memory grew {grown_kib} KiB reading a {RECORD_SIZE >> 20} MiB record"


def test_a_record_of_an_unknown_warc_version_reads_back_at_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "future.warc.gz"
    first = record(resource(WARC_Record_ID="<urn:uuid:a>"))
    path.write_bytes(first + record(resource("WARC/9.9", WARC_Record_ID="<urn:uuid:b>"), b"from the future"))
    (_, future) = iter_records(path)
    assert future.location.offset == len(first)
    assert read_record(path, future.location.offset).content_stream().read() == b"from the future"
