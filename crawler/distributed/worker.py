"""A worker's membership of the shared crawl: registration, heartbeat, and recovery of dead workers.

Each worker registers in ``<prefix>:workers`` and keeps a heartbeat key that
expires ``DISTRIBUTED_WORKER_TIMEOUT`` seconds after its last renewal. A
registered worker without a heartbeat is dead (killed, crashed, its machine
gone): any live worker, at start and at every heartbeat, moves the dead
worker's processing set back into the queue, frees the download leases it
held, and removes it, all in one Lua script so that two workers cannot
recover the same requests twice.

A worker stalled for longer than the timeout (a frozen VM) is taken for
dead: its requests are fetched again elsewhere, and when it wakes up it
registers again and says so in its log. Work is then done twice, never lost.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections import deque
from datetime import datetime, timezone

import redis

from archive.frontier import FrontierKeys

__all__ = ["Worker"]

logger = logging.getLogger(__name__)

# KEYS: queue, processing, alive, workers, stats, hosts, worker stats.
# ARGV: worker id, then what a host lease key has before and after its slot (FrontierKeys.host_leases_affixes).
_RECOVER = """
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local n = redis.call('ZCARD', KEYS[2])
if n > 0 then
  redis.call('ZUNIONSTORE', KEYS[1], 2, KEYS[1], KEYS[2], 'AGGREGATE', 'MIN')
  redis.call('HINCRBY', KEYS[5], 'requeued', n)
end
local owner = ARGV[1] .. '/'
for _, slot in ipairs(redis.call('SMEMBERS', KEYS[6])) do
  local leases = ARGV[2] .. slot .. ARGV[3]
  for _, lease in ipairs(redis.call('ZRANGE', leases, 0, -1)) do
    if string.sub(lease, 1, #owner) == owner then redis.call('ZREM', leases, lease) end
  end
end
redis.call('DEL', KEYS[2], KEYS[6], KEYS[7])
redis.call('HDEL', KEYS[4], ARGV[1])
return n
"""

#: Window over which a worker's pages per second are measured.
RATE_WINDOW = 60.0


class Worker:
    """This process in the shared crawl (Redis calls are synchronous, one round trip each)."""

    def __init__(self, server: redis.Redis, keys: FrontierKeys, worker: str, timeout: float) -> None:
        if timeout <= 0:
            raise ValueError(f"DISTRIBUTED_WORKER_TIMEOUT must be positive, got {timeout!r}")
        self.server = server
        self.keys = keys
        self.id = worker
        self.timeout = timeout
        self._recover = server.register_script(_RECOVER)
        self._samples: deque[tuple[float, int]] = deque()

    @property
    def heartbeat_interval(self) -> float:
        """How often the heartbeat is renewed: four times per timeout."""
        return self.timeout / 4

    def register(self) -> None:
        info = {
            "host": platform.node(),
            "pid": os.getpid(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        with self.server.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.workers, self.id, json.dumps(info))
            pipe.set(self.keys.alive(self.id), 1, px=int(self.timeout * 1000))
            pipe.execute()

    def heartbeat(self, pages: int) -> int:
        """Renew the heartbeat, publish the page rate, recover dead workers; return requests requeued."""
        now = time.monotonic()
        self._samples.append((now, pages))
        while len(self._samples) > 2 and self._samples[0][0] < now - RATE_WINDOW:
            self._samples.popleft()
        (t0, p0), (t1, p1) = self._samples[0], self._samples[-1]
        rate = (p1 - p0) / (t1 - t0) if t1 > t0 else 0.0
        if not self.server.hexists(self.keys.workers, self.id):
            logger.warning(
                "worker %s was taken for dead (no heartbeat for %.0f s) and its requests were requeued; "
                "registering again: pages it was fetching may be archived twice",
                self.id,
                self.timeout,
            )
            self.register()
        with self.server.pipeline(transaction=False) as pipe:
            pipe.set(self.keys.alive(self.id), 1, px=int(self.timeout * 1000))
            pipe.hset(self.keys.worker_stats(self.id), mapping={"pages": pages, "pages_per_second": f"{rate:.2f}"})
            pipe.execute()
        return self.recover_dead()

    def recover_dead(self) -> int:
        """Requeue the requests of registered workers whose heartbeat expired; return how many."""
        requeued = 0
        for raw in self.server.hkeys(self.keys.workers):
            other = raw.decode() if isinstance(raw, bytes) else raw
            if other == self.id or self.server.exists(self.keys.alive(other)):
                continue
            n = self._requeue(other)
            if n >= 0:
                logger.warning("worker %s is gone: %d of its requests are back in the queue", other, n)
                requeued += n
        return requeued

    def others_busy(self) -> bool:
        """Whether any other registered worker, alive or not yet recovered, holds unfinished requests."""
        for raw in self.server.hkeys(self.keys.workers):
            other = raw.decode() if isinstance(raw, bytes) else raw
            if other != self.id and self.server.zcard(self.keys.processing(other)):
                return True
        return False

    def leave(self) -> int:
        """Deregister; requests still in the processing set go back to the queue (return how many)."""
        self.server.delete(self.keys.alive(self.id))
        return max(0, self._requeue(self.id))

    def _requeue(self, worker: str) -> int:
        """Run the recovery script for a worker without heartbeat: -1 if it turned out to be alive."""
        keys = self.keys
        return int(
            self._recover(
                keys=[
                    keys.requests,
                    keys.processing(worker),
                    keys.alive(worker),
                    keys.workers,
                    keys.stats,
                    keys.worker_hosts(worker),
                    keys.worker_stats(worker),
                ],
                args=[worker, *keys.host_leases_affixes()],
            )
        )
