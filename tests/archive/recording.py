"""Writing small archives for tests: pages, redirects, extractions, listings and revisits,
through the real WARC writer, so what is ingested is what a crawl would have written."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders

from archive.extract import Extraction
from archive.format import OUTLETS_FIELD, article_payload, listing_payload, outlets_field, reextraction_payload
from archive.warc import WarcWriter
from archive.warc.records import ArchivedRecord, HttpExchange, exchange_records, metadata_record, warc_date

T0 = datetime(2019, 2, 28, 15, 0, tzinfo=timezone.utc)
OUTLETS = [{"name": "Example News", "homepage": "http://www.example.com/", "allowed_domains": ["example.com"]}]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


class Recording:
    """A WARC folder being written, and the records written so far (as the indexer receives them)."""

    def __init__(self, folder: Path, prefix: str = "newsarchive") -> None:
        self.writer = WarcWriter(
            folder, info={"software": "test", OUTLETS_FIELD: outlets_field(OUTLETS)}, prefix=prefix
        )
        self.records: list[ArchivedRecord] = []

    def page(self, url: str, body: str, when: datetime, status: int = 200, location: str | None = None) -> str:
        """A response (and its request); returns the response's record id."""
        headers = [(b"Content-Type", b"text/html; charset=utf-8")]
        if location:
            headers.append((b"Location", location.encode()))
        exchange = HttpExchange(
            url=url,
            method="GET",
            request_headers=[(b"Host", url.split("/")[2].encode())],
            status=status,
            response_headers=headers,
            body=body.encode(),
            fetched_at=when,
        )
        self._write(list(exchange_records(exchange, self.writer.builder)))
        return exchange.response_record_id

    def article(self, response_id: str, url: str, title: str, text: str, when: datetime, **metadata: Any) -> str:
        """The ``article/1`` record of an extraction from a response."""
        fields = {"text": text, "title": title, "extractor": "trafilatura", "extractor_version": "2.0", **metadata}
        extraction = Extraction(**fields)
        payload = article_payload(None, extraction)
        return self._write([metadata_record(self.writer.builder, url, response_id, payload, when)])[0].record_id

    def reextraction(
        self, response_id: str, url: str, title: str, text: str, when: datetime, extractor_version: str
    ) -> str:
        """The ``reextraction/1`` record of a response read again by another extractor version."""
        extraction = Extraction(text=text, title=title, extractor="newsarchive", extractor_version=extractor_version)
        extractor = (extraction.extractor, extractor_version)
        payload = reextraction_payload(None, f"run-{extractor_version}", None, extractor, extraction)
        return self._write([metadata_record(self.writer.builder, url, response_id, payload, when)])[0].record_id

    def listing(self, response_id: str, url: str, entries: list[tuple[str, str | None]], when: datetime) -> None:
        payload = listing_payload(None, "feed", entries)
        self._write([metadata_record(self.writer.builder, url, response_id, payload, when)])

    def response(self, record_id: str) -> ArchivedRecord:
        return next(r for r in self.records if r.record_id == record_id)

    def revisit(self, url: str, when: datetime, original: ArchivedRecord, by_id: bool = True) -> str:
        """A revisit record (identical payload) of an earlier response, as deduplication writes it:
        naming the original by WARC-Refers-To, or (``by_id=False``) only by its URI and date."""
        headers = {"WARC-Date": warc_date(when)}
        if by_id:
            headers["WARC-Refers-To"] = original.record_id
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        record = self.writer.builder.create_revisit_record(
            url,
            original.payload_digest,
            original.target_uri,
            warc_date(original.date),
            http_headers=http,
            warc_headers_dict=headers,
        )
        return self._write([record])[0].record_id

    def close(self) -> list[Path]:
        self.writer.close()
        return self.writer.closed_files

    def _write(self, records: list[Any]) -> list[ArchivedRecord]:
        written = [r for r in self.writer.write(records) if r.rec_type != "request"]
        self.records += written
        return [r for r in written if r.rec_type != "warcinfo"]
