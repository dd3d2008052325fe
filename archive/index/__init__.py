"""The CDXJ index of the WARC files (the format pywb reads): built as files close, rebuilt on demand."""

from archive.index.cdxj import CdxjEntry, cdxj_line, parse_line
from archive.index.store import INDEX_SUFFIX, IndexStore
from archive.index.surt import surt

__all__ = ["INDEX_SUFFIX", "CdxjEntry", "IndexStore", "cdxj_line", "parse_line", "surt"]
