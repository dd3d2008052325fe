"""scrapy-redis's priority queue with a reliable pop.

scrapy-redis pops a request by removing it from the shared sorted set: if
the worker then dies, the request is gone. Here a pop *moves* it, in one Lua
script, into the worker's own processing set with its score, and it leaves
that set only when the worker says the request is finished (:meth:`finish`)
or gives it back (:meth:`release`). A dead worker's processing set is
returned to the queue whole by :func:`requeue_dead_worker` (in
:mod:`.worker`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis
from scrapy import Request, Spider
from scrapy_redis.queue import PriorityQueue

__all__ = ["ReliablePriorityQueue", "Taken"]

# KEYS[1] queue, KEYS[2] processing set. Lowest score first: scrapy-redis scores a request -priority.
_TAKE = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if item[1] == nil then return false end
redis.call('ZREM', KEYS[1], item[1])
redis.call('ZADD', KEYS[2], item[2], item[1])
return item
"""


@dataclass(frozen=True, slots=True)
class Taken:
    """A request this worker took from the queue: its queue member and score, to finish or release it."""

    member: bytes
    score: float


class ReliablePriorityQueue(PriorityQueue):
    """scrapy-redis's ``PriorityQueue`` whose pop parks the request in a processing set."""

    def __init__(
        self, server: redis.Redis, spider: Spider, key: str, processing_key: str, serializer: Any = None
    ) -> None:
        super().__init__(server, spider, key, serializer)
        self.processing_key = processing_key
        self._take = server.register_script(_TAKE)

    def take(self) -> tuple[Request, Taken] | None:
        """The next request, now in the processing set until finished or released."""
        item = self._take(keys=[self.key, self.processing_key])
        if not item:
            return None
        member, score = item
        return self._decode_request(member), Taken(member, float(score))

    def pop(self, timeout: int = 0) -> Request | None:
        """Refused: a request popped without its :class:`Taken` could never be finished."""
        raise NotImplementedError("use take(): a reliable queue's requests must be finished or released")

    def finish(self, done: Iterable[Taken], released: Iterable[Taken] = ()) -> None:
        """Forget finished requests and put released ones back in the queue, in one transaction."""
        done, released = list(done), list(released)
        if not done and not released:
            return
        with self.server.pipeline(transaction=True) as pipe:
            if done:
                pipe.zrem(self.processing_key, *(t.member for t in done))
            if released:
                pipe.zadd(self.key, {t.member: t.score for t in released})
                pipe.zrem(self.processing_key, *(t.member for t in released))
            pipe.execute()

    def in_processing(self) -> int:
        """How many of this worker's requests are taken and not finished."""
        return int(self.server.zcard(self.processing_key))
