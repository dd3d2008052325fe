"""A memory-bounded request dupefilter for very large crawls: a Bloom filter in Redis.

scrapy-redis's ``RFPDupeFilter`` keeps every request fingerprint (40 hex
characters) in a Redis set: exact, but about 90 bytes per URL (measured with
Redis 7), so a crawl of 100 million URLs needs some 9 GB. :class:`BloomDupeFilter` keeps a
fixed-size bit array instead, sized once for a capacity *n* and a
false-positive rate *p*:

    bits  m = ceil(-n ln p / (ln 2)^2)        hashes  k = round(m / n * ln 2)

(The defaults of ``DISTRIBUTED_BLOOM_CAPACITY`` and ``DISTRIBUTED_BLOOM_ERROR_RATE``,
10 million and 0.0001, give m = 192 million bits = 24 MB and k = 13.) Up to *n* URLs, a new
URL is taken for one already seen with probability at most *p*, and then not
crawled; past *n* the rate grows (for the defaults 0.3 % at 1.5n, 2 % at 2n),
and the workers warn. A URL seen is never taken for new.

The *k* bit positions come from the request fingerprint by double hashing
(Kirsch and Mitzenmacher); one Lua script sets them all and reports whether
any was unset, so two workers offered the same URL at once cannot both take
it. RedisBloom is not needed (the Redis module is often not installed). The
filter's size is stored beside it when it is created and kept for the rest
of the crawl, whatever later workers are configured with.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import redis
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter

from crawler.distributed import frontier_keys

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider

__all__ = ["BloomDupeFilter", "bloom_size"]

logger = logging.getLogger(__name__)

#: Redis strings hold at most 2**32 bits.
MAX_BITS = 2**32

_TEST_AND_SET = """
local new = 0
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then new = 1 end
end
if new == 0 then return 0 end
return redis.call('HINCRBY', KEYS[2], 'added', 1)
"""


def bloom_size(capacity: int, error_rate: float) -> tuple[int, int]:
    """Bits and hash functions of a Bloom filter for ``capacity`` items at ``error_rate`` false positives."""
    if capacity < 1 or not 0 < error_rate < 1:
        raise ValueError(f"Bloom filter needs capacity >= 1 and 0 < error rate < 1, got {capacity!r}, {error_rate!r}")
    bits = math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2)
    if bits > MAX_BITS:
        raise ValueError(
            f"a Bloom filter for {capacity} URLs at {error_rate} needs {bits} bits, more than a Redis string holds "
            f"({MAX_BITS}): lower the capacity or raise the error rate"
        )
    return bits, max(1, round(bits / capacity * math.log(2)))


class BloomDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter with a Bloom filter in place of the fingerprint set."""

    def __init__(
        self, server: redis.Redis, key: str, params_key: str, capacity: int, error_rate: float, debug: bool = False
    ) -> None:
        super().__init__(server, key, debug)
        self.params_key = params_key
        bits, hashes = bloom_size(capacity, error_rate)
        created = {"capacity": capacity, "error_rate": repr(error_rate), "bits": bits, "hashes": hashes, "added": 0}
        with server.pipeline(transaction=True) as pipe:
            for name, value in created.items():
                pipe.hsetnx(params_key, name, value)
            pipe.hgetall(params_key)
            stored = {k.decode(): v.decode() for k, v in pipe.execute()[-1].items()}
        self.capacity = int(stored["capacity"])
        self.error_rate = float(stored["error_rate"])
        self.bits = int(stored["bits"])
        self.hashes = int(stored["hashes"])
        if (self.capacity, self.error_rate) != (capacity, error_rate):
            logger.warning(
                "the crawl's Bloom filter was made for %d URLs at %g; keeping it (this worker asked for %d at %g)",
                self.capacity,
                self.error_rate,
                capacity,
                error_rate,
            )
        self._test_and_set = server.register_script(_TEST_AND_SET)
        self._warned_full = False

    @classmethod
    def from_spider(cls, spider: Spider) -> Self:
        settings = spider.settings
        keys = frontier_keys(settings)
        return cls(
            get_redis_from_settings(settings),
            keys.bloom,
            keys.bloom_params,
            settings.getint("DISTRIBUTED_BLOOM_CAPACITY"),
            settings.getfloat("DISTRIBUTED_BLOOM_ERROR_RATE"),
            settings.getbool("DUPEFILTER_DEBUG"),
        )

    @classmethod
    def from_settings(cls, settings: object) -> Self:
        raise NotImplementedError("BloomDupeFilter is built per crawl by the scheduler (from_spider)")

    def positions(self, fingerprint: str) -> list[int]:
        """The filter's bit positions for a hex fingerprint (at least 128 bits)."""
        h1, h2 = int(fingerprint[:16], 16), int(fingerprint[16:32], 16) | 1
        return [(h1 + i * h2) % self.bits for i in range(self.hashes)]

    def request_seen(self, request: Request) -> bool:
        positions = self.positions(self.request_fingerprint(request))
        # 0 if every bit was set (seen), else how many URLs the filter now holds
        added = int(self._test_and_set(keys=[self.key, self.params_key], args=positions))
        if added > self.capacity and not self._warned_full:
            self._warned_full = True
            logger.warning(
                "the Bloom filter holds more than its %d URLs: new URLs are now taken for seen more often than %g",
                self.capacity,
                self.error_rate,
            )
        return added == 0

    def clear(self) -> None:
        self.server.delete(self.key, self.params_key)
