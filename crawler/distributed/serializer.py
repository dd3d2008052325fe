"""``SCHEDULER_SERIALIZER`` of distributed crawls: scrapy-redis's pickle, behind four random bytes.

scrapy-redis keeps requests in a sorted set scored by priority; among
requests of equal priority Redis orders members by their bytes, which for a
pickled request dict means roughly by URL, so one host's pages leave the
queue together and every worker waits on that host's per-host limit while
other hosts idle. A random prefix shuffles requests of equal priority
(priorities still come first), so workers draw from all hosts at once.

Pickle is scrapy-redis's own default (requests carry arbitrary meta): the
Redis server must be reachable only by the crawl.
"""

from __future__ import annotations

import os
import pickle
from typing import Any

__all__ = ["dumps", "loads"]

_SALT = 4


def dumps(obj: Any) -> bytes:
    """A request dict as queue member bytes."""
    return os.urandom(_SALT) + pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """The request dict of queue member bytes."""
    return pickle.loads(data[_SALT:])  # noqa: S301 - the crawl's own Redis (see the module docstring)
