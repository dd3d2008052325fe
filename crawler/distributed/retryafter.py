"""Retry-After pauses shared by every worker of a distributed crawl.

:class:`DistributedRetryAfterMiddleware` is
:class:`~crawler.middlewares.retryafter.RetryAfterMiddleware` (parsing,
back-off, retries, stats: all unchanged) plus one thing: each pause it sets
on a slot is also written to Redis (``<prefix>:host:<slot>:pause``, on the
Redis server's clock, only ever extended), where
:class:`~crawler.distributed.politeness.HostLeaseMiddleware` refuses every
worker a lease on that slot until the pause ends. A 429 seen by one worker
thus holds back all of them. The back-off *count* stays per worker: each
worker doubles its own pause on its own consecutive 429s, and the longest
pause wins.

The pause is written before the response goes on down the chain (the
retry request it produces is queued only after that), so no worker can
take the retry before the pause is in Redis.

The add-on puts it in place of ``RetryAfterMiddleware`` (same priority, 650)
in distributed crawls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.distributed import frontier_keys, redis_url, worker_id
from crawler.distributed.politeness import HostLimits
from crawler.middlewares.retryafter import RetryAfterMiddleware

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

__all__ = ["DistributedRetryAfterMiddleware"]


class DistributedRetryAfterMiddleware(RetryAfterMiddleware):
    """Retry-After handling whose pauses apply to the whole crawl."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        url = redis_url(crawler.settings)
        if url is None:
            raise NotConfigured("DistributedRetryAfterMiddleware needs a Redis URL")
        self.limits = HostLimits(url, frontier_keys(crawler.settings), worker_id(crawler))
        self._to_publish: WeakKeyDictionary[Request, tuple[str, float]] = WeakKeyDictionary()
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    def slot_paused(self, request: Request, key: str, delay: float) -> None:
        self._to_publish[request] = (key, delay)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        result = super().process_response(request, response)
        if (paused := self._to_publish.pop(request, None)) is not None:
            await self.limits.pause(*paused)
        return result

    async def _spider_closed(self) -> None:
        await self.limits.close()
