"""WARC records for HTTP exchanges and extraction results.

A response record holds the body bytes as received: still content-encoded
(gzip stays gzip), but de-chunked, because Twisted removes the chunked
framing before anyone sees the body. Its HTTP head is the status line and
header lines exactly as received when the HTTP client reported them
(:attr:`HttpExchange.response_head`, from the crawler's download handler);
otherwise it is rebuilt from the parsed status and headers, every value on
its own line. Either way a ``Transfer-Encoding`` line is kept under the name
``X-Archive-Orig-`` + its name, since it no longer describes the stored body.
A body cut short carries ``WARC-Truncated``. The warcinfo record says which
of these applies.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime

from archive.urls import UnparseableUrl, join_url

WARC_VERSION = "WARC/1.1"
METADATA_TYPE = "application/json"
#: WARC 1.1 revisit profiles: the body was received again and found the same, or the server said it was
#: unchanged (304 Not Modified to a conditional request) and sent none.
IDENTICAL_PAYLOAD_DIGEST = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

#: Headers that describe the transfer, not the stored bytes: kept under ``ORIG_PREFIX`` + their name.
REFRAMED_HEADERS = frozenset({b"transfer-encoding"})
ORIG_PREFIX = b"X-Archive-Orig-"


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warc_date(moment: datetime) -> str:
    return datetime_to_iso_date(moment.astimezone(timezone.utc).replace(tzinfo=None), use_micros=True)


def parse_warc_date(value: str) -> datetime:
    """A WARC-Date as an aware UTC datetime; ValueError if the value is not a W3C-ISO8601 date."""
    try:
        return iso_date_to_datetime(value).replace(tzinfo=timezone.utc)
    except (ValueError, TypeError, OverflowError) as e:  # warcio lets a short value reach datetime() (TypeError)
        raise ValueError(f"not a WARC date: {value[:40]!r}") from e


class UnreadableRecord(ValueError):
    """A record (another tool's, or damaged) lacking what indexing needs: readers skip it and go on."""


@dataclass
class HttpExchange:
    """One request and the response it got, as the crawler saw them."""

    url: str
    method: str
    request_headers: list[tuple[bytes, bytes]]
    status: int
    response_headers: list[tuple[bytes, bytes]]
    body: bytes
    fetched_at: datetime
    request_body: bytes = b""
    ip_address: str | None = None
    protocol: str = "HTTP/1.1"
    response_record_id: str = field(default_factory=new_record_id)
    #: Status line and header lines as received, up to and including the blank line that ends
    #: them; None if the HTTP client did not report them (the head is then rebuilt).
    response_head: bytes | None = None
    #: WARC-Truncated value when ``body`` is not the whole body ("length", "disconnect", ...).
    truncated: str | None = None
    #: The capture whose validators a conditional request sent (If-None-Match, If-Modified-Since):
    #: a 304 answer is archived as a server-not-modified revisit of it.
    previous: RevisitOf | None = None


@dataclass(frozen=True)
class RecordLocation:
    """Where a record sits: the file name (within the WARC folder), gzip member offset and length."""

    filename: str
    offset: int
    length: int


@dataclass(frozen=True)
class ArchivedRecord:
    """The facts about a written WARC record that the database indexes."""

    rec_type: str
    record_id: str
    target_uri: str
    date: datetime
    location: RecordLocation
    refers_to: str | None = None
    status: int | None = None
    content_type: str | None = None
    payload_digest: str | None = None
    ip_address: str | None = None
    redirect_url: str | None = None  # absolute Location of a 3xx response (as received if unparseable)
    data: dict[str, Any] | None = None  # JSON payload of metadata records, fields of warcinfo
    truncated: str | None = None  # WARC-Truncated: why the stored block is incomplete
    profile: str | None = None  # WARC-Profile of a revisit
    refers_to_target_uri: str | None = None  # a revisit's WARC-Refers-To-Target-URI
    refers_to_date: datetime | None = None  # a revisit's WARC-Refers-To-Date
    etag: str | None = None  # the response's ETag, as received
    last_modified: str | None = None  # the response's Last-Modified, as received


class _RawHeaders(StatusAndHeaders):
    """HTTP headers whose block is written exactly as given.

    warcio re-serialises headers and %-encodes non-ASCII values; archived
    headers must stay the bytes the server sent.
    """

    def __init__(self, block: bytes, statusline: str, headers: list[tuple[str, str]], protocol: str) -> None:
        super().__init__(statusline, headers, protocol)
        self.headers_buff = block

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        pass


def _header_block(first_line: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    lines = [first_line]
    lines.extend(name + b": " + value for name, value in headers)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _decoded(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in headers]


def _stored_response_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(ORIG_PREFIX + name if name.lower() in REFRAMED_HEADERS else name, value) for name, value in headers]


def _rebuilt_head(exchange: HttpExchange) -> _RawHeaders:
    """The response head from the parsed status and headers (the reason phrase is the standard one)."""
    status_line = f"{exchange.status} {_reason(exchange.status)}".strip()
    response_headers = _stored_response_headers(exchange.response_headers)
    return _RawHeaders(
        _header_block(f"{exchange.protocol} {status_line}".encode("ascii"), response_headers),
        status_line,
        _decoded(response_headers),
        exchange.protocol,
    )


def _received_head(head: bytes) -> _RawHeaders:
    """The response head as received, byte for byte but for the reframed headers' names.

    Lines end as they arrived (CRLF, or a bare LF from a sloppy server); a
    folded continuation line or a line without a colon stays where it was.
    """
    lines = [line + b"\n" for line in head.split(b"\n")[:-1]]
    stored = [lines[0]]
    parsed: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        content = line.rstrip(b"\r\n")
        if content[:1] in (b" ", b"\t") and parsed:  # obsolete line folding: part of the previous value
            parsed[-1] = (parsed[-1][0], parsed[-1][1] + b" " + content.strip())
        elif b":" in content:
            name, value = content.split(b":", 1)
            if name.strip().lower() in REFRAMED_HEADERS:
                line = ORIG_PREFIX + line
                name = ORIG_PREFIX + name
            parsed.append((name.strip(), value.strip()))
        stored.append(line)
    protocol, _, status_line = lines[0].rstrip(b"\r\n").decode("latin-1").partition(" ")
    return _RawHeaders(b"".join(stored), status_line, _decoded(parsed), protocol)


@dataclass(frozen=True)
class RevisitOf:
    """The earlier record holding the body that an unchanged response repeats, and how we know it is unchanged."""

    record_id: str
    target_uri: str
    date: datetime
    payload_digest: str | None
    profile: str = IDENTICAL_PAYLOAD_DIGEST


def exchange_records(
    exchange: HttpExchange, builder: RecordBuilder, revisit_of: RevisitOf | None = None
) -> tuple[ArcWarcRecord, ArcWarcRecord]:
    """The request and response records of one exchange, linked by WARC-Concurrent-To.

    With ``revisit_of``, the response is a ``revisit`` record: its HTTP head only, pointing
    at the record that holds the body. With the identical-payload-digest profile the body
    was received and found the same; with server-not-modified the server answered 304 to a
    conditional request, and the record carries the 304's head as received (and the
    original's payload digest, which replay tools use to find it).
    """
    date = warc_date(exchange.fetched_at)
    if exchange.response_head:
        http_response = _received_head(exchange.response_head)
    else:
        http_response = _rebuilt_head(exchange)
    warc_headers = {"WARC-Record-ID": exchange.response_record_id, "WARC-Date": date}
    if exchange.ip_address:
        warc_headers["WARC-IP-Address"] = exchange.ip_address
    if exchange.truncated:
        warc_headers["WARC-Truncated"] = exchange.truncated
    if revisit_of is not None and revisit_of.profile == SERVER_NOT_MODIFIED:
        warc_headers["WARC-Refers-To"] = revisit_of.record_id
        response = builder.create_warc_record(
            exchange.url, "revisit", http_headers=http_response, warc_headers_dict=warc_headers
        )
        response.rec_headers.add_header("WARC-Profile", SERVER_NOT_MODIFIED)
        response.rec_headers.add_header("WARC-Refers-To-Target-URI", revisit_of.target_uri)
        response.rec_headers.add_header("WARC-Refers-To-Date", warc_date(revisit_of.date))
        if revisit_of.payload_digest:
            response.rec_headers.add_header("WARC-Payload-Digest", revisit_of.payload_digest)
    elif revisit_of is not None:
        assert revisit_of.payload_digest, "an identical-payload-digest revisit needs the digest"
        warc_headers["WARC-Refers-To"] = revisit_of.record_id
        response = builder.create_revisit_record(
            exchange.url,
            revisit_of.payload_digest,
            revisit_of.target_uri,
            warc_date(revisit_of.date),
            http_headers=http_response,
            warc_headers_dict=warc_headers,
        )
    else:
        response = builder.create_warc_record(
            exchange.url,
            "response",
            payload=BytesIO(exchange.body),
            length=len(exchange.body),
            warc_headers_dict=warc_headers,
            http_headers=http_response,
        )

    target = _request_target(exchange.url)
    request_line = f"{exchange.method} {target} {exchange.protocol}"
    http_request = _RawHeaders(
        _header_block(request_line.encode("latin-1"), exchange.request_headers),
        f"{exchange.method} {target}",
        _decoded(exchange.request_headers),
        exchange.protocol,
    )
    request = builder.create_warc_record(
        exchange.url,
        "request",
        payload=BytesIO(exchange.request_body),
        length=len(exchange.request_body),
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": exchange.response_record_id},
        http_headers=http_request,
    )
    return request, response


def metadata_record(
    builder: RecordBuilder, target_uri: str, refers_to: str | None, payload: dict[str, Any], moment: datetime
) -> ArcWarcRecord:
    """A metadata record carrying JSON, so the archive alone holds what the database holds.

    ``target_uri`` names what the record describes without being that page's URL (the
    project's records take :func:`archive.format.metadata_target`), so that tools indexing
    every record never list it as a capture; ``refers_to`` is the record it describes.
    """
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"WARC-Date": warc_date(moment), "Content-Type": METADATA_TYPE}
    if refers_to:
        headers["WARC-Refers-To"] = refers_to
    return builder.create_warc_record(
        target_uri,
        "metadata",
        payload=BytesIO(body),
        length=len(body),
        warc_content_type=METADATA_TYPE,
        warc_headers_dict=headers,
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _request_target(url: str) -> str:
    """The origin-form target (path and query) as sent to the server."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _redirect_target(target: str, location: str) -> str:
    """A ``Location`` resolved against the URL it answered; as received if either cannot be parsed
    (the ingester then counts it as an unparseable URL)."""
    try:
        return join_url(target, location)
    except UnparseableUrl:
        return location


def describe_record(record: ArcWarcRecord, location: RecordLocation, payload: bytes | None) -> ArchivedRecord:
    """The indexable facts of a record; ``payload`` is its body for metadata and warcinfo records.

    Optional fields that cannot be read are left out; a record without a type,
    an id or a date cannot be indexed and raises :class:`UnreadableRecord`.
    """
    headers = record.rec_headers
    record_id, date = headers.get_header("WARC-Record-ID"), headers.get_header("WARC-Date")
    if not record.rec_type or not record_id or not date:
        missing = [
            name
            for name, value in (("WARC-Type", record.rec_type), ("WARC-Record-ID", record_id), ("WARC-Date", date))
            if not value
        ]
        raise UnreadableRecord(f"no {', '.join(missing)}")
    try:
        moment = parse_warc_date(date)
    except ValueError as e:
        raise UnreadableRecord(f"WARC-Date: {e}") from None
    status = content_type = redirect_url = etag = last_modified = None
    target = headers.get_header("WARC-Target-URI") or ""
    if record.http_headers is not None and record.rec_type in ("response", "revisit"):
        code = record.http_headers.get_statuscode()
        status = int(code) if code and len(code) == 3 and code.isascii() and code.isdigit() else None  # 3 digits
        content_type = record.http_headers.get_header("Content-Type")
        etag = record.http_headers.get_header("ETag")
        last_modified = record.http_headers.get_header("Last-Modified")
        moved_to = record.http_headers.get_header("Location")
        if status is not None and 300 <= status < 400 and moved_to:
            redirect_url = _redirect_target(target, moved_to)
    refers_date = headers.get_header("WARC-Refers-To-Date")
    return ArchivedRecord(
        rec_type=record.rec_type,
        record_id=record_id,
        target_uri=target,
        date=moment,
        location=location,
        refers_to=headers.get_header("WARC-Refers-To") or headers.get_header("WARC-Concurrent-To"),
        status=status,
        content_type=content_type,
        payload_digest=headers.get_header("WARC-Payload-Digest"),
        ip_address=headers.get_header("WARC-IP-Address"),
        redirect_url=redirect_url,
        data=_payload_data(record, payload),
        truncated=headers.get_header("WARC-Truncated"),
        profile=headers.get_header("WARC-Profile"),
        refers_to_target_uri=headers.get_header("WARC-Refers-To-Target-URI"),
        refers_to_date=_optional_date(refers_date),
        etag=etag,
        last_modified=last_modified,
    )


def _optional_date(value: str | None) -> datetime | None:
    """An optional date field, None when absent or unreadable (the record is indexed without it)."""
    try:
        return parse_warc_date(value) if value else None
    except ValueError:
        return None


def _payload_data(record: ArcWarcRecord, payload: bytes | None) -> dict[str, Any] | None:
    if payload is None:
        return None
    if record.rec_type == "warcinfo":
        fields: dict[str, Any] = {}
        for line in payload.decode("utf-8", "replace").splitlines():
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip()] = value.strip()
        return fields
    if record.rec_headers.get_header("Content-Type") == METADATA_TYPE:
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond the parser
            return None
        return data if isinstance(data, dict) else None
    return None
