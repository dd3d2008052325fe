"""Response records built from the head as received: byte for byte, but for the reframed headers."""

import gzip
from pathlib import Path

from archive.warc import WarcWriter, read_record
from archive.warc.records import exchange_records
from tests.archive.warc.test_writer import exchange, warcio_check


def stored_block(path: Path, offset: int, length: int) -> bytes:
    """The HTTP message (head and body) of the record in the gzip member at offset, as stored."""
    member = gzip.decompress(path.read_bytes()[offset : offset + length])
    return member.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n\r\n")  # inside the WARC header and end


def write_one(tmp_path: Path, **changes: object) -> tuple[Path, int, int]:
    writer = WarcWriter(tmp_path, info={"software": "test"})
    written = writer.write(exchange_records(exchange(**changes), writer.builder))
    writer.close()
    response = written[-1]
    return tmp_path / response.location.filename, response.location.offset, response.location.length


def test_a_received_head_is_stored_byte_for_byte(tmp_path: Path) -> None:
    head = (
        b"HTTP/1.1 200 Fine Thanks\r\n"
        b"content-TYPE: text/html; charset=utf-8\r\n"
        b"X-Dup: one\r\n"
        b"x-dup: two\r\n"
        b"Content-Length: 47\r\n"
        b"Keep-Alive: timeout=5, max=100\r\n"
        b"X-Caf\xe9: caf\xe9\r\n"
        b"\r\n"
    )
    path, offset, length = write_one(tmp_path, response_head=head)
    assert stored_block(path, offset, length) == head + exchange().body
    record = read_record(path, offset)
    assert record.http_headers.get_statuscode() == "200"
    assert record.http_headers.statusline == "200 Fine Thanks"
    assert [v for n, v in record.http_headers.headers if n.lower() == "x-dup"] == ["one", "two"]
    assert record.http_headers.get_header("Content-Type") == "text/html; charset=utf-8"
    warcio_check(path)


def test_transfer_encoding_keeps_its_line_under_the_orig_prefix(tmp_path: Path) -> None:
    head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nContent-Type: text/html\r\n\r\n"
    path, offset, length = write_one(tmp_path, response_head=head)
    stored = stored_block(path, offset, length)
    assert stored.startswith(
        b"HTTP/1.1 200 OK\r\nX-Archive-Orig-transfer-encoding: chunked\r\nContent-Type: text/html\r\n\r\n<html>"
    )
    record = read_record(path, offset)
    assert record.http_headers.get_header("Transfer-Encoding") is None
    assert record.content_stream().read().startswith(b"<html>")  # not taken for chunked framing
    warcio_check(path)


def test_bare_line_feeds_and_folded_lines_stay_as_sent(tmp_path: Path) -> None:
    head = b"HTTP/1.0 404\nContent-Type: text/html\nX-Long: first\n  second\nno colon here\n\n"
    path, offset, length = write_one(tmp_path, status=404, response_head=head)
    assert stored_block(path, offset, length) == head + exchange().body
    record = read_record(path, offset)
    assert record.http_headers.get_statuscode() == "404"
    assert " ".join(record.http_headers.get_header("X-Long").split()) == "first second"
    assert record.raw_stream.read() == exchange().body


def test_without_a_received_head_the_head_is_rebuilt(tmp_path: Path) -> None:
    path, offset, length = write_one(tmp_path, response_head=None)
    head = stored_block(path, offset, length)
    assert head.startswith(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n")


def test_a_cut_body_is_marked_truncated(tmp_path: Path) -> None:
    body = b"x" * 1000
    path, offset, _ = write_one(tmp_path, body=body[:100], truncated="length")
    record = read_record(path, offset)
    assert record.rec_headers.get_header("WARC-Truncated") == "length"
    assert record.raw_stream.read() == body[:100]
    warcio_check(path)
