"""The bare Scrapy baseline: fetch a list of URLs and keep nothing.

Run by stock Scrapy outside the project (no WARC recorder, raw-head download
handler, database or extraction pipeline), with the crawl's settings and request
headers: what is left is Scrapy's own cost of downloading the same pages.

    scrapy runspider bench/barespider.py -a urls=URLS.txt
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response


class BareSpider(Spider):
    name = "bare"

    def __init__(self, urls: str | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not urls:
            raise ValueError("the bare spider needs a URL list: -a urls=FILE")
        self.urls = Path(urls).read_text().split()

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:
            # robots.txt is fetched by RobotsTxtMiddleware already, as in the news spider's crawl
            if not url.endswith("/robots.txt"):
                yield Request(url, callback=self.parse)

    def parse(self, response: Response) -> None:
        """Nothing is kept."""
