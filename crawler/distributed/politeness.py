"""Per-host politeness held for the whole crawl, not per worker.

Scrapy enforces ``CONCURRENT_REQUESTS_PER_DOMAIN`` (or ``_PER_IP``),
``DOWNLOAD_DELAY`` and, with :mod:`crawler.middlewares.retryafter`, Retry-After
pauses per download slot, inside one process: ten workers would hit a site
ten times as hard. :class:`HostLeaseMiddleware` makes each request take a
*lease* on its slot in Redis before it is sent and give it back when its
response or failure returns:

- at most the slot's concurrency leases exist at once, across all workers;
- a lease is granted no sooner than the slot's delay after the previous
  grant (start to start, as Scrapy spaces a slot's requests), measured on the
  Redis server's clock so that the workers' clocks do not matter;
- no lease is granted while the slot is paused by a Retry-After answer that
  any worker received (:class:`~crawler.distributed.retryafter.DistributedRetryAfterMiddleware`
  publishes those pauses).

A slot's concurrency and delay are the worker's own for that slot: the
downloader slot's (``DOWNLOAD_SLOTS``, and the delay AutoThrottle keeps
adjusting) once it exists, ``CONCURRENT_REQUESTS_PER_DOMAIN`` (``_PER_IP``)
and ``DOWNLOAD_DELAY`` before. The add-on sets ``DOWNLOAD_DELAY_JITTER`` to 0
in distributed crawls: a local random delay on top of the shared spacing
could push a request past its turn.

Waiting is a coroutine sleep in ``process_request`` (the reactor keeps
running): until the slot's next start or the end of its pause when Redis
says so, otherwise until this worker frees a lease on the slot or 0.1 s
pass (another worker may have freed one). Each grant is one Lua script, so
two workers cannot take the last lease together. A lease expires by itself
after ``DOWNLOAD_TIMEOUT`` + ``DISTRIBUTED_LEASE_MARGIN`` seconds, and a dead
worker's leases are freed when it is recovered (:mod:`.worker`), so a killed
worker does not block a site. If the crawl stops while a request waits, the
request is dropped with ``IgnoreRequest`` and marked to go back to the shared
queue.

Register after the Retry-After wait and before the cookie, proxy and stats
middlewares: 670 (the add-on does). The grant time (Redis clock, ms) is kept
in ``request.meta["host_lease"]`` with the slot.

Stats: ``politeness/waited_requests``, ``politeness/waited_seconds``,
``politeness/dropped_on_shutdown``.
"""

from __future__ import annotations

import asyncio
import logging
from itertools import count
from time import monotonic
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import redis.asyncio
from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from archive.frontier import FrontierKeys
from crawler.distributed import RELEASE_META, engine, frontier_keys, redis_url, worker_id

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

__all__ = ["HostLeaseMiddleware", "HostLimits"]

logger = logging.getLogger(__name__)

#: Longest wait between two tries when the slot is full (another worker may free a lease meanwhile).
LEASE_POLL = 0.1
#: Longest single sleep, so a stopping crawl is noticed within a second.
LONGEST_SLEEP = 1.0

# KEYS: leases, next, pause, worker hosts. ARGV: lease id, concurrency, delay ms, lease ms, slot.
# Returns {1, now} when granted, {0, ms to wait} when spaced or paused, {0, -1} when the slot is full.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local pause = tonumber(redis.call('GET', KEYS[3]) or 0)
if pause > now then return {0, pause - now} end
local nxt = tonumber(redis.call('GET', KEYS[2]) or 0)
if nxt > now then return {0, nxt - now} end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return {0, -1} end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
redis.call('SADD', KEYS[4], ARGV[5])
local delay = tonumber(ARGV[3])
if delay > 0 then redis.call('SET', KEYS[2], now + delay, 'PX', delay) end
return {1, now}
"""

# KEYS: pause. ARGV: ms. Extends the pause, never shortens it.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or 0)
if untl > cur then redis.call('SET', KEYS[1], untl, 'PX', tonumber(ARGV[1])) end
return untl
"""


class HostLimits:
    """The crawl's per-slot leases, spacing and pauses in Redis (asyncio client)."""

    def __init__(self, url: str, keys: FrontierKeys, worker: str) -> None:
        self.keys = keys
        self.worker = worker
        self.client = redis.asyncio.from_url(url)
        self._acquire = self.client.register_script(_ACQUIRE)
        self._pause = self.client.register_script(_PAUSE)
        self._serial = count(1)

    def lease_id(self) -> str:
        """A new lease name; the worker id first, so a dead worker's leases can be found."""
        return f"{self.worker}/{next(self._serial)}"

    async def acquire(self, slot: str, lease: str, concurrency: int, delay: float, lease_seconds: float) -> int:
        """Take a lease: the Redis time of the grant (ms, > 0), the ms to wait, negated, or 0 if the slot is full."""
        keys = self.keys
        granted, value = await self._acquire(
            keys=[keys.host_leases(slot), keys.host_next(slot), keys.host_pause(slot), keys.worker_hosts(self.worker)],
            args=[lease, max(1, concurrency), int(delay * 1000), int(lease_seconds * 1000), slot],
        )
        if granted:
            return int(value)
        return 0 if int(value) < 0 else -max(1, int(value))

    async def release(self, slot: str, lease: str) -> None:
        await self.client.zrem(self.keys.host_leases(slot), lease)

    async def pause(self, slot: str, seconds: float) -> None:
        """Pause the slot for every worker (a pause already longer is kept)."""
        await self._pause(keys=[self.keys.host_pause(slot)], args=[max(1, int(seconds * 1000))])

    async def close(self) -> None:
        await self.client.aclose()


class HostLeaseMiddleware:
    """Take a crawl-wide lease on the request's download slot before it is sent."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        url = redis_url(settings)
        if url is None or not settings.getbool("DISTRIBUTED_POLITENESS_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.limits = HostLimits(url, frontier_keys(settings), worker_id(crawler))
        per_ip = settings.getint("CONCURRENT_REQUESTS_PER_IP")
        self.concurrency = per_ip or settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self.slot_settings = settings.getdict("DOWNLOAD_SLOTS")
        self.lease_seconds = settings.getfloat("DOWNLOAD_TIMEOUT") + settings.getfloat("DISTRIBUTED_LEASE_MARGIN")
        self._leases: WeakKeyDictionary[Request, tuple[str, str]] = WeakKeyDictionary()
        self._freed: dict[str, asyncio.Event] = {}
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def slot_key(self, request: Request) -> str:
        """The request's download slot, as the downloader names it."""
        if (running := engine(self.crawler)) is not None:
            return running.downloader.get_slot_key(request)
        return request.meta.get("download_slot") or urlparse_cached(request).hostname or ""

    def slot_limits(self, key: str) -> tuple[int, float]:
        """Concurrency and delay of a slot: the live downloader slot's, else the settings'."""
        running = engine(self.crawler)
        slot = running.downloader.slots.get(key) if running is not None else None
        if slot is not None:
            return slot.concurrency, max(slot.delay, 0.0)
        configured = self.slot_settings.get(key, {})
        return int(configured.get("concurrency", self.concurrency)), float(configured.get("delay", self.delay))

    async def process_request(self, request: Request) -> None:
        key = self.slot_key(request)
        lease = self.limits.lease_id()
        started = monotonic()
        waited = False
        while True:
            concurrency, delay = self.slot_limits(key)
            result = await self.limits.acquire(key, lease, concurrency, delay, self.lease_seconds)
            if result > 0:
                break
            waited = True
            running = engine(self.crawler)
            if running is not None and not running.running:
                request.meta[RELEASE_META] = True
                self.crawler.stats.inc_value("politeness/dropped_on_shutdown")
                raise IgnoreRequest(f"crawl stopping while slot {key!r} waits for a lease")
            if result < 0:
                await asyncio.sleep(min(-result / 1000, LONGEST_SLEEP))
            else:
                freed = self._freed.setdefault(key, asyncio.Event())
                try:
                    await asyncio.wait_for(freed.wait(), LEASE_POLL)
                except TimeoutError:
                    pass
        if waited:
            self.crawler.stats.inc_value("politeness/waited_requests")
            self.crawler.stats.inc_value("politeness/waited_seconds", monotonic() - started)
        self._leases[request] = (key, lease)
        request.meta["host_lease"] = (key, result)

    async def process_response(self, request: Request, response: Response) -> Response:
        await self._release(request)
        return response

    async def process_exception(self, request: Request, exception: Exception) -> None:
        await self._release(request)

    async def _release(self, request: Request) -> None:
        held = self._leases.pop(request, None)
        if held is None:
            return
        key, lease = held
        try:
            await self.limits.release(key, lease)
        except RedisError:
            logger.warning("could not free lease %s on slot %r; it expires by itself", lease, key, exc_info=True)
        if (freed := self._freed.pop(key, None)) is not None:
            freed.set()

    async def _spider_closed(self) -> None:
        await self.limits.close()
