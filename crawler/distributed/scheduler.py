"""The shared scheduler: scrapy-redis's, reliable and fit for Scrapy 2.19.

:class:`FrontierScheduler` extends ``scrapy_redis.scheduler.Scheduler``
(queue and dupefilter in Redis, requests serialized with their callbacks by
name) in four ways.

Nothing taken is lost
=====================
Requests are taken with :meth:`ReliablePriorityQueue.take`, which parks
them in this worker's processing set. A request is *finished*, and leaves
the set, only when

1. the engine is done with it: it left the engine's in-progress set, which
   happens after its response or failure went through the spider and every
   item it produced went through the item pipelines, and after the requests
   it produced (links, redirects, retries) were pushed to the shared queue;
2. the WARC recorder has written every record submitted up to that moment
   (:meth:`WarcRecorder.written` of the :meth:`WarcRecorder.checkpoint`
   taken then), so its response record, its metadata records and its
   children's fate are all on disk or in Redis.

Finished requests are confirmed in one Redis transaction every
``DISTRIBUTED_ACK_INTERVAL`` seconds. If the worker is killed, everything
unconfirmed is in its processing set and goes back to the queue once its
heartbeat expires (:mod:`.worker`); a page whose record it had already
written is then fetched once more (archived twice), a page it had not
written is fetched for the first time (archived once). A request abandoned
on shutdown (``request.meta["frontier_release"]``) goes straight back.

The engine's in-progress set is read from ``engine._slot.inprogress``, the
one private Scrapy attribute this package reads (in :func:`_engine_slot`
alone; checked when the scheduler opens, so a Scrapy release that changes
it fails at once). Scrapy 2.19 offers no public way to know that the engine
is done with a request: the engine drops it from that set once
``Scraper.enqueue_scrape`` has run the response or failure through the
spider and every item through the pipelines, and sends no signal then. The
public pieces do not add up to it: spider middlewares never see an
errback's output; a callback's output is consumed by ``CONCURRENT_ITEMS``
tasks, so its end comes before its last items are through the pipelines
and its last requests are queued; a ``request_scheduled`` handler can drop
a child request without ``request_dropped``; and a request a downloader
middleware returns (redirect, retry) replaces the original without any
signal naming it. The same slot's ``nextcall`` is used once more: an engine
with nothing to do looks at its scheduler only every 5 seconds (its
heartbeat), while other workers may fill the shared queue at any moment, so
the scheduler wakes it when it has taken nothing and the queue is not
empty; no public call does that without a request to crawl.

A crawl is drained, not one worker's share
==========================================
:meth:`frontier_drained` is true only when the queue and the seed list are
empty and no worker, alive or dead, holds an unfinished request: a worker
that runs out of work keeps waiting while others may still produce links or
die and hand theirs back. The spider (:mod:`.spider`) closes after the
crawl has been drained for ``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds.

Scrapy 2.19 fixes
=================
scrapy-redis 0.9.1 passes ``spider=`` to the stats collector and calls
``Spider.log()``; both are deprecated in Scrapy 2.19 (errors under
``filterwarnings = error``), so :meth:`enqueue_request`,
:meth:`next_request` and :meth:`open` are rewritten without them.

Settings it ignores
===================
``SCHEDULER_IDLE_BEFORE_CLOSE`` (a blocking pop would block the reactor; use
``MAX_IDLE_TIME_BEFORE_CLOSE``), ``SCHEDULER_PERSIST`` (the queue is always
kept: one worker leaving must not wipe the others' crawl) and
``SCHEDULER_FLUSH_ON_START`` (for the same reason; ``newsarchive seeds reset``
clears a crawl). ``SCHEDULER_QUEUE_CLASS`` is always the reliable queue.

Redis calls here are synchronous, as in scrapy-redis: one round trip per
request pushed or taken, plus one per confirmation interval.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider
from scrapy.utils.asyncio import create_looping_call, sleep
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler
from twisted.internet.defer import Deferred

from crawler.distributed import RELEASE_META, engine, frontier_keys, worker_id
from crawler.distributed.queue import ReliablePriorityQueue, Taken
from crawler.distributed.worker import Worker
from crawler.recorder import WarcRecorder

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

__all__ = ["FrontierScheduler"]

logger = logging.getLogger(__name__)

#: Longest wait on close for the archive to write what finished requests produced.
CLOSE_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class _Settling:
    """A request the engine is done with, waiting for the archive to write up to ``mark``."""

    taken: Taken
    mark: int
    release: bool


class FrontierScheduler(Scheduler):
    """scrapy-redis's scheduler whose requests are confirmed only when processed and archived."""

    def __init__(self, server: Any, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.crawler: Crawler | None = None
        self.worker: Worker | None = None
        self.ack_interval = 0.5
        self._taken: dict[Request, Taken] = {}
        self._settling: list[_Settling] = []
        self._recorder: WarcRecorder | None = None
        self._loop: Any = None
        self._last_heartbeat = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = super().from_crawler(crawler)
        settings = crawler.settings
        scheduler.crawler = crawler
        scheduler.keys = frontier_keys(settings)
        scheduler.worker = Worker(
            scheduler.server,
            scheduler.keys,
            worker_id(crawler),
            settings.getfloat("DISTRIBUTED_WORKER_TIMEOUT"),
        )
        scheduler.ack_interval = settings.getfloat("DISTRIBUTED_ACK_INTERVAL")
        if scheduler.idle_before_close:
            logger.warning(
                "SCHEDULER_IDLE_BEFORE_CLOSE is not used by distributed crawls: see MAX_IDLE_TIME_BEFORE_CLOSE"
            )
        if scheduler.flush_on_start:
            logger.warning(
                "SCHEDULER_FLUSH_ON_START is not used: a distributed crawl's queue is kept "
                "until `newsarchive seeds reset`"
            )
        return scheduler

    # -- Scrapy's scheduler interface -------------------------------------------------

    def open(self, spider: Spider) -> None:
        assert self.crawler is not None and self.worker is not None
        self.spider = spider
        _engine_slot(self.crawler)  # fail now, not mid-crawl, if the engine no longer exposes what is needed
        self.queue = ReliablePriorityQueue(
            self.server, spider, self.queue_key, self.keys.processing(self.worker.id), self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        self._recorder = self.crawler.get_extension(WarcRecorder)
        self.worker.register()
        recovered = self.worker.recover_dead()
        logger.info(
            "worker %s joined crawl %r: %d requests queued (%d recovered from dead workers)",
            self.worker.id,
            self.keys.prefix,
            len(self.queue),
            recovered,
        )
        self._last_heartbeat = time.monotonic()
        self._loop = create_looping_call(self._tick)
        self._loop.start(self.ack_interval, now=False)

    def close(self, reason: str) -> Deferred[None]:
        return deferred_from_coro(self._close(reason))

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        taken = self.queue.take()
        if taken is None:
            return None
        request, entry = taken
        self._taken[request] = entry
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    # -- the shared crawl ----------------------------------------------------------

    def frontier_drained(self) -> bool:
        """Whether the whole crawl is out of work: no queue, no seeds, no unfinished request anywhere."""
        assert self.worker is not None
        self.worker.recover_dead()
        if len(self.queue) or self.server.llen(self.keys.seeds):
            return False
        if self._taken or self._settling:
            return False
        return not self.worker.others_busy()

    def _tick(self) -> None:
        assert self.worker is not None
        try:
            self._settle()
            self._wake_engine()
            now = time.monotonic()
            if now - self._last_heartbeat >= self.worker.heartbeat_interval:
                self._last_heartbeat = now
                pages = self.stats.get_value("response_received_count", 0)
                if requeued := self.worker.heartbeat(pages):
                    self.stats.inc_value("frontier/recovered", requeued)
        except Exception:  # noqa: BLE001 - the loop must go on: a worker without heartbeat is taken for dead
            # e.g. a Redis blip: nothing was confirmed that was not finished, and the next tick tries again
            logger.exception("worker %s: confirming requests or renewing the heartbeat failed", self.worker.id)

    def _settle(self) -> None:
        """Confirm the requests the engine is done with whose records the archive has written."""
        recorder = self._recorder
        slot = _engine_slot(self.crawler)
        in_progress = slot.inprogress if slot is not None else frozenset()
        mark = recorder.checkpoint() if recorder is not None else 0
        for request in [r for r in self._taken if r not in in_progress]:
            taken = self._taken.pop(request)
            self._settling.append(_Settling(taken, mark, bool(request.meta.get(RELEASE_META))))
        # Once the archive failed nothing is written any more: the rest goes back to the queue on close.
        ready: list[_Settling] = []
        waiting: list[_Settling] = []
        for settling in self._settling:
            written = settling.release or recorder is None or recorder.written(settling.mark)
            (ready if written else waiting).append(settling)
        if not ready:
            return
        done = [s.taken for s in ready if not s.release]
        released = [s.taken for s in ready if s.release]
        self.queue.finish(done, released)
        self._settling = waiting
        self.stats.inc_value("frontier/finished", len(done))
        if released:
            self.stats.inc_value("frontier/released", len(released))

    def _wake_engine(self) -> None:
        """Have an idle engine look at the queue now, not at its next 5 s heartbeat, if other workers filled it."""
        slot = _engine_slot(self.crawler)
        if slot is not None and not self._taken and len(self.queue):
            slot.nextcall.schedule()

    async def _close(self, reason: str) -> None:
        assert self.worker is not None
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        deadline = time.monotonic() + CLOSE_TIMEOUT
        while True:
            self._settle()
            if not (self._taken or self._settling) or time.monotonic() > deadline:
                break
            if self._recorder is not None and self._recorder.failed:
                break
            await sleep(0.05)
        unconfirmed = list(self._taken.values()) + [s.taken for s in self._settling]
        self.queue.finish((), unconfirmed)
        self._taken.clear()
        self._settling.clear()
        requeued = self.worker.leave()
        logger.info(
            "worker %s left crawl %r (%s): %d unconfirmed requests back in the queue",
            self.worker.id,
            self.keys.prefix,
            reason,
            len(unconfirmed) + requeued,
        )


def _engine_slot(crawler: Crawler | None) -> Any:
    """The engine's private slot, for its ``inprogress`` set and ``nextcall`` (see the module docstring).

    None before the crawl starts or after it ends. The only place this package
    reads a private Scrapy attribute.
    """
    running = engine(crawler) if crawler is not None else None
    if running is None:
        return None
    try:
        slot = running._slot
        if slot is not None:
            slot.inprogress, slot.nextcall  # noqa: B018 - fail here if a Scrapy upgrade renamed them
    except AttributeError:
        raise RuntimeError(
            "this Scrapy's engine has no _slot.inprogress or _slot.nextcall, which distributed crawls need"
        ) from None
    return slot
