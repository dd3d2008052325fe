"""Storage and research side of the news archive: WARC files, the coverage
database that indexes them, and the tools to read both.

This package never imports Scrapy or Twisted, so researchers can install it
to read an archive without the crawler.
"""

import logging

from archive.config import ArchivePaths
from archive.extract import Extraction, extract_article
from archive.seeds import Outlet, SeedError, SeedList, load_seeds

__all__ = [
    "ArchivePaths",
    "Extraction",
    "Outlet",
    "SeedError",
    "SeedList",
    "extract_article",
    "load_seeds",
]

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
