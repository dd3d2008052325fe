"""A WARC writer that rotates files and knows where every record landed.

Follows warcprox's discipline: a file being written is named ``*.open`` and
renamed when closed, so readers and indexers never see a torn file as
finished; offsets come from ``tell()`` around each record so the index needs
no re-read; each file starts with its own warcinfo record, so any one file
explains how it was made. File names follow the IIPC convention
(prefix-timestamp-serial-pid~host) so several crawler processes can share one
folder.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from warcio.recordloader import ArcWarcRecord
from warcio.warcwriter import WARCWriter

from archive.warc.records import WARC_VERSION, ArchivedRecord, RecordLocation, describe_record

OPEN_SUFFIX = ".open"
DEFAULT_MAX_SIZE = 1_000_000_000


class WarcWriter:
    """Writes groups of records into gzip WARC files, one gzip member per record."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        info: dict[str, str],
        prefix: str = "newsarchive",
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.info = info
        self.prefix = prefix
        self.max_size = max_size
        self._writer = WARCWriter(None, gzip=True, warc_version=WARC_VERSION)
        self._file: BinaryIO | None = None
        self._name = ""
        self._serial = 0
        self.closed_files: list[Path] = []

    @property
    def builder(self) -> WARCWriter:
        """The record builder whose WARC version and digests match this writer's files."""
        return self._writer

    def write(self, records: Iterable[ArcWarcRecord]) -> list[ArchivedRecord]:
        """Write records together into the current file, rotating first if it is full.

        Returns what was written, starting with the new file's warcinfo record
        when this call opened one.
        """
        if self._file is not None and self._file.tell() >= self.max_size:
            self.close()
        written = []
        if self._file is None:
            written.append(self._open())
        out = self._file
        assert out is not None
        for record in records:
            written.append(self._write_one(out, record))
        out.flush()
        return written

    def close(self) -> None:
        """Close the current file and drop its ``.open`` suffix."""
        if self._file is None:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        final = self.directory / self._name
        os.replace(self.directory / (self._name + OPEN_SUFFIX), final)
        self.closed_files.append(final)

    def _open(self) -> ArchivedRecord:
        self._serial += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
        host = socket.gethostname().replace("-", "").replace("~", "") or "localhost"
        self._name = f"{self.prefix}-{stamp}-{self._serial:05d}-{os.getpid()}~{host}.warc.gz"
        self._file = open(self.directory / (self._name + OPEN_SUFFIX), "xb")
        return self._write_one(self._file, self._writer.create_warcinfo_record(self._name, self.info))

    def _write_one(self, out: BinaryIO, record: ArcWarcRecord) -> ArchivedRecord:
        payload = None
        if record.rec_type in ("metadata", "warcinfo"):
            payload = record.raw_stream.read()
            record.raw_stream.seek(0)
        offset = out.tell()
        self._writer.out = out
        self._writer.write_record(record)
        location = RecordLocation(self._name, offset, out.tell() - offset)
        return describe_record(record, location, payload)
