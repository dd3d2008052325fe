"""Settings of the news archive crawler.

Scrapy's settings first, as this project sets them. Defaults are polite:
robots.txt is obeyed, AutoThrottle adapts to each site, at most two requests
run per domain at once, 429/503 answers are honoured
(``RetryAfterMiddleware``), and the User-Agent names the project and a
contact URL (``ARCHIVE_CONTACT_URL``) so a site operator can reach us.

Then :data:`newsarchive_defaults`: every setting of newsarchive's own with
its default and meaning, the one place they are defined. The add-on
(:class:`crawler.addon.NewsArchive`) applies the table at ``addon``
priority, so it holds in every crawl the add-on is part of, with or without
this module (tests build crawlers from a dict), and a value set here or with
``-s`` wins. Components read these settings without a default of their own.
"""

from __future__ import annotations

import os
from typing import Any

# Imported first, while few modules are loaded: Scrapy's HTTP handler module (scrapy.core.downloader.
# contextfactory) builds deprecated aliases that inspect the whole stack, looking each frame's module
# up among all loaded ones; deep in the archive's imports that took a third of a second of start-up.
import crawler.handlers
from archive import archiver, opening
from archive.warc import writer as warc_writer

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

ADDONS = {"crawler.addon.NewsArchive": 0}

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
# Scrapy cancels a download announced or received past this size, and refuses to inflate a gzip or
# deflate body past it (a 1 MB gzip bomb inflates to gigabytes): 128 MB, not Scrapy's 1 GB, bounds
# what one page can cost in memory. Keep it above ARCHIVE_MAX_BODY_SIZE (100 MB), where bodies are
# archived cut instead of lost.
DOWNLOAD_MAXSIZE = 128 * 1024 * 1024
# Items processed at once per response. A callback here yields one item at most (an article or
# a listing), and Scrapy starts this many tasks per callback: 100 cost 10-20 % of the crawl's CPU.
CONCURRENT_ITEMS = 8
# Scrapy checks every callback that is a generator for a `return value` by reading and parsing its
# source, and caches the answer only while the bound method lives: once per response here, a tenth
# of a recheck crawl's CPU. The project's callbacks return nothing (tests/crawler/test_settings.py).
WARN_ON_GENERATOR_RETURN_VALUE = False

# Advertise only encodings that warcio and pywb can decode on replay
# (Scrapy would also offer br and zstd when their libraries are installed).
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en",
    "Accept-Encoding": "gzip, deflate",
}

# Scrapy's HTTP/1.1 handler, also keeping each response's status line and header lines
# exactly as received, for the WARC records (see crawler/handlers.py).
DOWNLOAD_HANDLERS = {
    "http": crawler.handlers.RawHeadHTTPDownloadHandler,
    "https": crawler.handlers.RawHeadHTTPDownloadHandler,
}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"

# Not an UPPERCASE name: Scrapy takes every UPPERCASE name of this module for a setting.
newsarchive_defaults: dict[str, Any] = {
    # -- the add-on (crawler/addon.py) --
    # A page where site operators can reach you, named in the User-Agent (set it before crawling real sites).
    "ARCHIVE_CONTACT_URL": "",
    # -- archiving (crawler/recorder.py) --
    # False: nothing is archived (the WARC recorder is off).
    "ARCHIVE_ENABLED": True,
    # The archive's folder, holding warcs/, indexes/ and archive.db (None: $NEWSARCHIVE_DATA, else ./data).
    "ARCHIVE_DATA_DIR": None,
    # The database (None: $NEWSARCHIVE_DATABASE_URL, else SQLite in the data folder); PostgreSQL at scale.
    "ARCHIVE_DATABASE_URL": None,
    # The WARC folder (None: warcs/ in the data folder).
    "ARCHIVE_WARC_DIR": None,
    # First part of WARC file names.
    "ARCHIVE_WARC_PREFIX": warc_writer.DEFAULT_PREFIX,
    # A WARC file is closed and a new one started past this many bytes (1 GB).
    "ARCHIVE_WARC_MAX_SIZE": warc_writer.DEFAULT_MAX_SIZE,
    # gzip level of each record's member (1 fastest, 9 smallest).
    "ARCHIVE_WARC_COMPRESSION": warc_writer.DEFAULT_COMPRESSION,
    # A longer body is archived cut there, marked WARC-Truncated: length (0: no limit); keep below DOWNLOAD_MAXSIZE.
    "ARCHIVE_MAX_BODY_SIZE": 100_000_000,
    # A 200 answer whose body equals the last archived one of its URL is stored as a revisit record.
    "ARCHIVE_DEDUP_ENABLED": True,
    # Force each group of written records to disk before the database is told of them (survives a power cut).
    "ARCHIVE_WARC_FSYNC": opening.DEFAULT_FSYNC,
    # Records indexed per database transaction, and the most submissions written as one group.
    "ARCHIVE_INDEX_BATCH": archiver.DEFAULT_BATCH_SIZE,
    # -- the news spider (crawler/spiders/news.py) --
    # Also archive an article's images, stylesheets and scripts on the outlet's domains, for replay.
    "ARCHIVE_PAGE_REQUISITES": True,
    # Section pages (follow_patterns) are followed at most this many links away from a start page.
    "SECTION_DEPTH_LIMIT": 2,
    # A sitemap or feed larger than this once inflated is archived but not read (the sitemap protocol's 50 MB).
    "LISTING_MAX_SIZE": 50_000_000,
    # -- rechecks (crawler/spiders/recheck.py, crawler/middlewares/) --
    # A known article listed again in a news crawl: fetched only when its recheck is "due", "always"
    # (conditionally), or "never" looked up (fetched in full every time, as new).
    "RECHECK_KNOWN_ARTICLES": "due",
    # Send a recheck with If-None-Match / If-Modified-Since from the article's last capture.
    "RECHECK_CONDITIONAL": True,
    # -- extraction (crawler/pipelines.py) --
    # Processes extracting articles (default: one per CPU); 0 extracts in one thread instead, for debugging.
    "EXTRACTION_WORKERS": os.cpu_count() or 1,
    # Longer pages (in characters) are archived but not extracted: their trees would take gigabytes (0: no limit).
    "EXTRACTION_MAX_SIZE": 5_000_000,
    # Seconds a page's extraction may take, then its worker process is killed (0, or EXTRACTION_WORKERS 0: no limit).
    "EXTRACTION_TIMEOUT": 30.0,
    # -- Retry-After (crawler/middlewares/retryafter.py) --
    # False switches the middleware off.
    "RETRY_AFTER_ENABLED": True,
    # Answers that pause their download slot and are retried.
    "RETRY_AFTER_HTTP_CODES": (429, 503),
    # Seconds of the first back-off when Retry-After is absent or unusable; doubles with each 429/503 in a row.
    "RETRY_AFTER_BASE_DELAY": 5.0,
    # Cap in seconds for both a Retry-After value and the back-off.
    "RETRY_AFTER_MAX_DELAY": 600.0,
    # -- stats (crawler/extensions/statsfile.py) --
    # Where to write the crawl's final stats as JSON (None: not written).
    "STATS_FILE": None,
    # -- distributed crawls (crawler/distributed/) --
    # The crawl's Redis server (None: $NEWSARCHIVE_REDIS_URL); setting either makes this process a worker.
    "REDIS_URL": None,
    # First part of the crawl's Redis keys; workers with the same prefix share a crawl
    # (None: $NEWSARCHIVE_KEY_PREFIX, else "newsarchive").
    "DISTRIBUTED_KEY_PREFIX": None,
    # "set" keeps every request fingerprint (exact); "bloom" a Bloom filter of fixed size.
    "DISTRIBUTED_DUPEFILTER": "set",
    # URLs the Bloom filter is sized for.
    "DISTRIBUTED_BLOOM_CAPACITY": 10_000_000,
    # The Bloom filter's false-positive rate up to its capacity.
    "DISTRIBUTED_BLOOM_ERROR_RATE": 0.0001,
    # Seconds a worker may stay silent before its unfinished requests go back to the queue.
    "DISTRIBUTED_WORKER_TIMEOUT": 60.0,
    # Seconds between two confirmations of finished requests.
    "DISTRIBUTED_ACK_INTERVAL": 0.5,
    # Per-host concurrency, delay and Retry-After pauses held for the whole crawl, not per worker.
    "DISTRIBUTED_POLITENESS_ENABLED": True,
    # A per-host lease lasts at most DOWNLOAD_TIMEOUT plus these seconds.
    "DISTRIBUTED_LEASE_MARGIN": 60.0,
    # scrapy-redis's: a worker exits once the whole crawl has had no work for this many seconds (0: never).
    "MAX_IDLE_TIME_BEFORE_CLOSE": 30,
}
