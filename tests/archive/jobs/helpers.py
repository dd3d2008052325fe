"""What the scheduler tests share: crawl settings and seed lists for the fixture web, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable

#: Settings (the body of a TOML inline table) for quick crawls of the fixture web; the fixture
#: server queues five connections, so four requests at once.
FAST = (
    "AUTOTHROTTLE_ENABLED = false, DOWNLOAD_DELAY = 0, RETRY_TIMES = 0, CONCURRENT_REQUESTS = 4, "
    'EXTRACTION_WORKERS = 1, TELNETCONSOLE_ENABLED = false, ARCHIVE_CONTACT_URL = "http://localhost/tests"'
)
#: One outlet of the fixture web, for short crawls.
ONE_OUTLET = """
[[outlet]]
name = "Common Dreams"
allowed_domains = ["commondreams.org"]
start_urls = ["http://www.commondreams.org/news"]
article_patterns = ['^http://www\\.commondreams\\.org/news/\\d{4}/']
"""
#: The fixture's slow page and nothing else: a crawl that hangs as long as the server lets it.
SLOW_PAGE = """
[[outlet]]
name = "ThinkProgress"
allowed_domains = ["thinkprogress.org"]
start_urls = ["http://thinkprogress.org/trump-kim-summit-live-updates-2d7e9b0a6c14/"]
article_patterns = ['^http://thinkprogress\\.org/none$']
"""


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    ends = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > ends:
            raise AssertionError(f"waited {timeout}s for {what}")
        time.sleep(0.1)
