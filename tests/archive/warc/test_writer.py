import fcntl
import gzip
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.warc import HttpExchange, WarcWriter, iter_records, read_record
from archive.warc.files import OPEN_SUFFIX, parse_name
from archive.warc.records import exchange_records, metadata_record

WHEN = datetime(2019, 2, 28, 14, 30, 5, 123456, tzinfo=timezone.utc)
HTML = "<html><body><p>Caf\u00e9 in Hanoi</p></body></html>".encode("utf-8")


def exchange(body: bytes = HTML, **changes: object) -> HttpExchange:
    fields: dict[str, object] = dict(
        url="http://www.example.com/news/2019/02/28/story?page=1",
        method="GET",
        request_headers=[(b"User-Agent", b"newsarchive/test"), (b"Accept-Encoding", b"gzip, deflate")],
        status=200,
        response_headers=[
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Set-Cookie", b"a=1"),
            (b"Set-Cookie", b"b=2"),
            (b"X-Name", "Caf\u00e9".encode("latin-1")),
        ],
        body=body,
        fetched_at=WHEN,
        ip_address="192.0.2.7",
        response_record_id="<urn:uuid:00000000-0000-0000-0000-000000000001>",
    )
    fields.update(changes)
    return HttpExchange(**fields)  # type: ignore[arg-type]


def warcio_check(path: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "warcio"), "check", "-v", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "digest pass" in result.stdout


def test_records_keep_body_and_every_header_byte_for_byte(tmp_path: Path) -> None:
    body = gzip.compress(HTML)
    ex = exchange(
        body=body,
        response_headers=[
            (b"Content-Type", b"text/html"),
            (b"Content-Encoding", b"gzip"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Set-Cookie", b"a=1"),
            (b"Set-Cookie", b"b=2"),
            (b"X-Name", "Caf\u00e9".encode("latin-1")),
        ],
    )
    writer = WarcWriter(tmp_path, info={"software": "test"})
    written = writer.write(exchange_records(ex, writer.builder))
    writer.close()
    path = tmp_path / written[0].location.filename

    warcinfo, request, response = written
    assert [r.rec_type for r in written] == ["warcinfo", "request", "response"]
    assert response.record_id == ex.response_record_id
    assert request.refers_to == ex.response_record_id  # WARC-Concurrent-To
    assert response.status == 200 and response.ip_address == "192.0.2.7"

    record = read_record(path, response.location.offset)
    assert record.raw_stream.read() == body  # still gzip: as received
    raw_headers = gzip.decompress(path.read_bytes()[response.location.offset :][: response.location.length])
    assert b"HTTP/1.1 200 OK\r\n" in raw_headers
    assert b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n" in raw_headers
    assert "X-Name: Caf\u00e9\r\n".encode("latin-1") in raw_headers
    assert b"X-Archive-Orig-Transfer-Encoding: chunked\r\n" in raw_headers
    assert b"\r\nTransfer-Encoding" not in raw_headers
    record.raw_stream.seek(0)
    assert record.content_stream().read() == HTML  # readers can decode it

    raw_request = gzip.decompress(path.read_bytes()[request.location.offset :][: request.location.length])
    assert b"GET /news/2019/02/28/story?page=1 HTTP/1.1\r\nUser-Agent: newsarchive/test\r\n" in raw_request
    assert b"WARC-Date: 2019-02-28T14:30:05.123456Z" in raw_request
    warcio_check(path)


def test_each_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, info={"software": "test"})
    written = writer.write(exchange_records(exchange(), writer.builder))
    written += writer.write(
        [metadata_record(writer.builder, "http://www.example.com/", written[-1].record_id, {"k": "v"}, WHEN)]
    )
    writer.close()
    data = (tmp_path / written[0].location.filename).read_bytes()
    assert written[0].location.offset == 0
    for record in written:
        member = data[record.location.offset : record.location.offset + record.location.length]
        assert gzip.decompress(member).startswith(b"WARC/1.1\r\n")
    end = written[-1].location
    assert end.offset + end.length == len(data)
    assert written[-1].data == {"k": "v"}
    assert written[-1].refers_to == written[-2].record_id


def test_open_suffix_while_writing_and_rotation_by_size(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, info={"software": "test"}, prefix="crawl", max_size=2000)
    for i in range(6):
        writer.write(exchange_records(exchange(body=HTML * 20, response_record_id=f"<urn:uuid:{i}>"), writer.builder))
        assert len(list(tmp_path.glob(f"*{OPEN_SUFFIX}"))) == 1
    writer.close()
    assert not list(tmp_path.glob(f"*{OPEN_SUFFIX}"))
    files = sorted(tmp_path.glob("crawl-*.warc.gz"))
    assert len(files) > 1
    assert files == sorted(writer.closed_files)
    serials = [parse_name(f.name).serial for f in files]  # type: ignore[union-attr]
    assert serials == list(range(1, len(files) + 1))
    responses = 0
    for path in files:
        warcio_check(path)
        records = list(iter_records(path))
        assert records[0].rec_type == "warcinfo"
        assert records[0].data == {"software": "test"}
        responses += sum(r.rec_type == "response" for r in records)
        with path.open("rb") as f:  # request and response stay together in one file
            types = [r.rec_type for r in ArchiveIterator(f)]
        assert types.count("request") == types.count("response")
    assert responses == 6


def test_a_new_file_briefly_locked_by_another_crawlers_recovery_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # another crawler starting on the same folder locks each .open file for a moment in its
    # recovery pass; here it gets in between our creating the file and locking it
    released = []

    def created_then_locked_elsewhere(path: Path, mode: str) -> BinaryIO:
        created = open(path, mode)  # noqa: SIM115 - the writer owns and closes it
        other = open(path, "rb")  # noqa: SIM115 - closed by the thread below
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

        def let_go() -> None:
            time.sleep(0.2)
            released.append(time.monotonic())
            other.close()

        threading.Thread(target=let_go).start()
        return created

    monkeypatch.setattr("archive.warc.writer.open", created_then_locked_elsewhere, raising=False)
    writer = WarcWriter(tmp_path, info={"software": "test"})
    writer.write(exchange_records(exchange(), writer.builder))
    assert released and time.monotonic() >= released[0]  # it waited for the lock instead of failing
    writer.close()
    (path,) = tmp_path.glob("*.warc.gz")
    warcio_check(path)


def test_iter_records_gives_the_offsets_the_writer_reported(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, info={"software": "test"})
    written = writer.write(exchange_records(exchange(), writer.builder))
    writer.close()
    read = list(iter_records(tmp_path / written[0].location.filename))
    assert [(r.record_id, r.location) for r in read] == [(r.record_id, r.location) for r in written]
    assert read[2].payload_digest == written[2].payload_digest
