"""Crawl-wide per-host limits: leases, spacing and Retry-After pauses shared through Redis."""

from __future__ import annotations

import asyncio
from time import monotonic

import pytest
import redis
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.misc import build_from_crawler

from archive.frontier import FrontierKeys
from crawler.distributed.politeness import HostLeaseMiddleware, HostLimits
from crawler.distributed.retryafter import DistributedRetryAfterMiddleware
from tests.crawler import archive_crawler
from tests.crawler.distributed.conftest import REDIS_URL


def middleware(keys: FrontierKeys, cls: type = HostLeaseMiddleware, **settings: object) -> object:
    """A middleware of its own crawler, as if in its own worker process."""
    crawler = archive_crawler(Spider, REDIS_URL=REDIS_URL, DISTRIBUTED_KEY_PREFIX=keys.prefix, **settings)
    crawler.spider = Spider.from_crawler(crawler, name="politeness-test")
    return build_from_crawler(cls, crawler)


def test_off_without_a_redis_url() -> None:
    with pytest.raises(NotConfigured):
        build_from_crawler(HostLeaseMiddleware, archive_crawler(Spider))


def test_leases_are_limited_across_workers_spaced_and_paused(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    async def run() -> None:
        one, two = HostLimits(REDIS_URL, keys, "one"), HostLimits(REDIS_URL, keys, "two")
        assert await one.acquire("host", "one/1", 2, 0, 60) > 0
        assert await two.acquire("host", "two/1", 2, 0, 60) > 0
        assert await two.acquire("host", "two/2", 2, 0, 60) == 0  # full, whoever asks
        assert await one.acquire("other", "one/2", 2, 0, 60) > 0  # other hosts go on
        await one.release("host", "one/1")
        assert await two.acquire("host", "two/2", 2, 0, 60) > 0
        # spacing: the next start waits for the delay after the previous one
        granted = await one.acquire("spaced", "one/3", 5, 0.5, 60)
        wait = await two.acquire("spaced", "two/3", 5, 0.5, 60)
        assert granted > 0 and -500 <= wait < -400
        # a pause holds every worker back, and a shorter one does not shorten it
        await one.pause("paused", 2.0)
        await two.pause("paused", 0.5)
        assert -2000 <= await two.acquire("paused", "two/4", 5, 0, 60) < -1800
        # a lease expires by itself if never released (a worker that died)
        assert await one.acquire("expiring", "one/5", 1, 0, 0.2) > 0
        assert await two.acquire("expiring", "two/5", 1, 0, 60) == 0
        await asyncio.sleep(0.3)
        assert await two.acquire("expiring", "two/5", 1, 0, 60) > 0
        await one.close()
        await two.close()

    asyncio.run(run())
    # the hosts a worker holds leases on, for its recovery if it dies
    assert redis_client.smembers(keys.worker_hosts("two")) == {b"host", b"expiring"}


def test_a_request_waits_for_another_workers_lease(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    first = middleware(keys, CONCURRENT_REQUESTS_PER_DOMAIN=1)
    second = middleware(keys, CONCURRENT_REQUESTS_PER_DOMAIN=1)

    async def run() -> float:
        held = Request("http://news.example/a")
        await first.process_request(held)
        assert held.meta["host_lease"][0] == "news.example"

        async def answer_later() -> None:
            await asyncio.sleep(0.3)
            await first.process_response(held, Response(held.url, request=held))

        waiting = Request("http://news.example/b")
        started = monotonic()
        await asyncio.gather(answer_later(), second.process_request(waiting))
        waited = monotonic() - started
        await second.process_exception(waiting, ValueError("download failed"))
        await first.limits.close()
        await second.limits.close()
        return waited

    assert 0.3 <= asyncio.run(run()) < 0.6
    assert redis_client.zcard(keys.host_leases("news.example")) == 0
    assert second.crawler.stats.get_value("politeness/waited_requests") == 1


def test_retry_after_pauses_the_host_for_every_worker(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    retry_after = middleware(keys, DistributedRetryAfterMiddleware)
    request = Request("http://news.example/busy")
    response = Response(request.url, status=429, headers={"Retry-After": "3"}, request=request)

    async def run() -> int:
        retry = await retry_after.process_response(request, response)
        assert isinstance(retry, Request)  # retried, as the single-process middleware does
        other_worker = HostLimits(REDIS_URL, keys, "other")
        wait = await other_worker.acquire("news.example", "other/1", 2, 0, 60)
        await other_worker.close()
        await retry_after.limits.close()
        return wait

    assert -3000 <= asyncio.run(run()) < -2800
