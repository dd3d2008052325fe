"""WARC files: building records, writing rotating files, reading them back."""

from archive.warc.reader import iter_records, read_record
from archive.warc.records import ArchivedRecord, HttpExchange, RecordLocation
from archive.warc.writer import WarcWriter

__all__ = ["ArchivedRecord", "HttpExchange", "RecordLocation", "WarcWriter", "iter_records", "read_record"]
