"""WARC records for HTTP exchanges and extraction results.

Scrapy hands us a response after Twisted has parsed it: the body is
de-chunked (but still content-encoded), header names are title-cased and
repeated headers grouped, and the reason phrase is gone. The records below
store the body bytes as received, keep every header value on its own line,
and rename ``Transfer-Encoding`` to ``X-Archive-Orig-Transfer-Encoding`` since
the stored body is no longer chunked; the warcinfo record says so.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import urljoin, urlsplit

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime

WARC_VERSION = "WARC/1.1"
METADATA_TYPE = "application/json"

#: Headers that describe the transfer, not the stored bytes, with the name they are kept under.
RENAMED_HEADERS = {b"transfer-encoding": b"X-Archive-Orig-Transfer-Encoding"}


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warc_date(moment: datetime) -> str:
    return datetime_to_iso_date(moment.astimezone(timezone.utc).replace(tzinfo=None), use_micros=True)


def parse_warc_date(value: str) -> datetime:
    return iso_date_to_datetime(value).replace(tzinfo=timezone.utc)


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
    redirect_url: str | None = None  # absolute Location of a 3xx response
    data: dict[str, Any] | None = None  # JSON payload of metadata records, fields of warcinfo


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
    return [(RENAMED_HEADERS.get(name.lower(), name), value) for name, value in headers]


def exchange_records(exchange: HttpExchange, builder: RecordBuilder) -> tuple[ArcWarcRecord, ArcWarcRecord]:
    """The request and response records of one exchange, linked by WARC-Concurrent-To."""
    date = warc_date(exchange.fetched_at)
    reason = _reason(exchange.status)
    status_line = f"{exchange.status} {reason}".strip()
    response_headers = _stored_response_headers(exchange.response_headers)
    http_response = _RawHeaders(
        _header_block(f"{exchange.protocol} {status_line}".encode("ascii"), response_headers),
        status_line,
        _decoded(response_headers),
        exchange.protocol,
    )
    warc_headers = {"WARC-Record-ID": exchange.response_record_id, "WARC-Date": date}
    if exchange.ip_address:
        warc_headers["WARC-IP-Address"] = exchange.ip_address
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
    builder: RecordBuilder, url: str, refers_to: str | None, payload: dict[str, Any], moment: datetime
) -> ArcWarcRecord:
    """A metadata record carrying JSON, so the archive alone holds what the database holds."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"WARC-Date": warc_date(moment), "Content-Type": METADATA_TYPE}
    if refers_to:
        headers["WARC-Refers-To"] = refers_to
    return builder.create_warc_record(
        url,
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


def describe_record(record: ArcWarcRecord, location: RecordLocation, payload: bytes | None) -> ArchivedRecord:
    """The indexable facts of a record; ``payload`` is its body for metadata and warcinfo records."""
    headers = record.rec_headers
    status = content_type = redirect_url = None
    target = headers.get_header("WARC-Target-URI") or ""
    if record.http_headers is not None and record.rec_type in ("response", "revisit"):
        code = record.http_headers.get_statuscode()
        status = int(code) if code and code.isdigit() else None
        content_type = record.http_headers.get_header("Content-Type")
        moved_to = record.http_headers.get_header("Location")
        if status is not None and 300 <= status < 400 and moved_to:
            redirect_url = urljoin(target, moved_to.strip())
    return ArchivedRecord(
        rec_type=record.rec_type,
        record_id=headers.get_header("WARC-Record-ID"),
        target_uri=target,
        date=parse_warc_date(headers.get_header("WARC-Date")),
        location=location,
        refers_to=headers.get_header("WARC-Refers-To") or headers.get_header("WARC-Concurrent-To"),
        status=status,
        content_type=content_type,
        payload_digest=headers.get_header("WARC-Payload-Digest"),
        ip_address=headers.get_header("WARC-IP-Address"),
        redirect_url=redirect_url,
        data=_payload_data(record, payload),
    )


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
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return None
