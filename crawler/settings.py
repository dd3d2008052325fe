"""Settings of the news archive crawler.

Defaults are polite: robots.txt is obeyed, AutoThrottle adapts to each
site, at most two requests run per domain at once, 429/503 answers are
honoured (``RetryAfterMiddleware``), and the User-Agent names the project and
a contact URL (``ARCHIVE_CONTACT_URL``) so a site operator can reach us.
The add-on in ``crawler.addon`` wires the archive components; its own
settings and their defaults are listed there.
"""

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
# Section pages (follow_patterns) are followed at most this many links away from a start page.
SECTION_DEPTH_LIMIT = 2
# Items processed at once per response. A callback here yields one item at most (an article or
# a listing), and Scrapy starts this many tasks per callback: 100 cost 10-20 % of the crawl's CPU.
CONCURRENT_ITEMS = 8

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
    "http": "crawler.handlers.RawHeadHTTPDownloadHandler",
    "https": "crawler.handlers.RawHeadHTTPDownloadHandler",
}

# Distributed crawling: with a Redis URL (REDIS_URL, or $NEWSARCHIVE_REDIS_URL) this process is one
# worker of a crawl shared by every process on the same Redis and DISTRIBUTED_KEY_PREFIX (default
# "newsarchive"), and the per-domain limits above hold for the whole crawl. The settings and their
# defaults are in crawler/distributed/addon.py; deployment across machines in deploy/distributed.md.

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
