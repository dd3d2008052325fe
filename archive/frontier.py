"""The shared frontier of a distributed crawl, as stored in Redis.

Many ``scrapy crawl news`` workers on several machines share one crawl
through Redis (scrapy-redis, see ``crawler/distributed/``). This module is
the part both sides agree on, without Scrapy: the key names
(:class:`FrontierKeys`, the only place they are spelled), the seed messages
that ``newsarchive seeds push`` writes and the workers read (one per seed
URL of an outlet, :meth:`archive.seeds.Outlet.seeds`), the outlet
definitions every worker needs, and the status ``newsarchive seeds status``
shows.

All keys of one crawl start with its prefix (``DISTRIBUTED_KEY_PREFIX``,
default ``newsarchive``), so several crawls, or test runs, share one Redis
server without meeting::

    <prefix>:requests                  sorted set: the scheduler queue (scrapy-redis)
    <prefix>:dupefilter                set: request fingerprints (scrapy-redis)
    <prefix>:bloom, <prefix>:bloom:params  the Bloom filter dupefilter, when chosen
    <prefix>:start_urls                list: seed messages, JSON {"outlet", "kind", "url"} (scrapy-redis start URLs);
                                       kind "recheck": a known article due for a recheck
    <prefix>:outlets                   hash: outlet name -> definition, JSON
    <prefix>:crawl                     hash: seed file, push time
    <prefix>:stats                     hash: crawl-wide counters (requeued requests)
    <prefix>:workers                   hash: worker id -> host, pid, start time, JSON
    <prefix>:worker:<id>:alive         heartbeat, expires unless renewed
    <prefix>:worker:<id>:processing    sorted set: requests taken and not yet finished
    <prefix>:worker:<id>:stats         hash: pages fetched, pages per second
    <prefix>:worker:<id>:hosts         set: hosts this worker holds download leases on
    <prefix>:host:<slot>:leases        sorted set: download leases -> expiry (ms)
    <prefix>:host:<slot>:next          earliest start of the host's next request (ms)
    <prefix>:host:<slot>:pause         end of a Retry-After pause of the host (ms)

The Redis server must be private to the crawl: the request queue holds
pickled Scrapy requests (scrapy-redis's format), which the workers load.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.db.schedule import due_batch
from archive.db.session import open_database
from archive.errors import NewsArchiveError
from archive.rechecks import RecheckPolicy
from archive.seeds import RECHECK_KIND, Outlet, SeedList

if TYPE_CHECKING:  # clients are passed in: a crawl that is not distributed never loads redis
    import redis

__all__ = [
    "DEFAULT_KEY_PREFIX",
    "KEY_PREFIX_ENV",
    "REDIS_URL_ENV",
    "CrawlStatus",
    "FrontierError",
    "FrontierKeys",
    "WorkerStatus",
    "crawl_status",
    "live_workers",
    "load_outlets",
    "outlet_from_record",
    "outlet_record",
    "push_seeds",
    "read_seed_message",
    "reset_crawl",
]

REDIS_URL_ENV = "NEWSARCHIVE_REDIS_URL"
KEY_PREFIX_ENV = "NEWSARCHIVE_KEY_PREFIX"
DEFAULT_KEY_PREFIX = "newsarchive"

_PREFIX_RE = re.compile(r"[A-Za-z0-9_.-]+")


class FrontierError(NewsArchiveError, RuntimeError):
    """The shared crawl cannot be used as asked (no seeds pushed, workers still running)."""


@dataclass(frozen=True)
class FrontierKeys:
    """The Redis key names of one crawl."""

    prefix: str = DEFAULT_KEY_PREFIX

    def __post_init__(self) -> None:
        # No ':' (one prefix would be the start of another's keys) and no glob characters (reset SCANs for them).
        if not _PREFIX_RE.fullmatch(self.prefix):
            raise ValueError(f"key prefix {self.prefix!r}: use letters, digits, '_', '.' and '-' only")

    @classmethod
    def resolve(cls, prefix: str | None = None) -> FrontierKeys:
        """Explicit prefix, then ``$NEWSARCHIVE_KEY_PREFIX``, then ``newsarchive``."""
        return cls(prefix or os.environ.get(KEY_PREFIX_ENV) or DEFAULT_KEY_PREFIX)

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    @property
    def requests(self) -> str:
        """The scheduler queue (scrapy-redis ``SCHEDULER_QUEUE_KEY``)."""
        return self._key("requests")

    @property
    def dupefilter(self) -> str:
        """The exact dupefilter (scrapy-redis ``SCHEDULER_DUPEFILTER_KEY``)."""
        return self._key("dupefilter")

    @property
    def bloom(self) -> str:
        """The Bloom filter's bits."""
        return self._key("bloom")

    @property
    def bloom_params(self) -> str:
        """The Bloom filter's size, fixed when it is created."""
        return self._key("bloom", "params")

    @property
    def seeds(self) -> str:
        """Seed messages (scrapy-redis ``REDIS_START_URLS_KEY``)."""
        return self._key("start_urls")

    @property
    def outlets(self) -> str:
        """Outlet definitions by name."""
        return self._key("outlets")

    @property
    def crawl(self) -> str:
        """The seed file and push time."""
        return self._key("crawl")

    @property
    def stats(self) -> str:
        """Crawl-wide counters."""
        return self._key("stats")

    @property
    def workers(self) -> str:
        """Registered workers."""
        return self._key("workers")

    def alive(self, worker: str) -> str:
        return self._key("worker", worker, "alive")

    def processing(self, worker: str) -> str:
        return self._key("worker", worker, "processing")

    def worker_stats(self, worker: str) -> str:
        return self._key("worker", worker, "stats")

    def worker_hosts(self, worker: str) -> str:
        return self._key("worker", worker, "hosts")

    def host_leases(self, slot: str) -> str:
        return self._key("host", slot, "leases")

    def host_next(self, slot: str) -> str:
        return self._key("host", slot, "next")

    def host_pause(self, slot: str) -> str:
        return self._key("host", slot, "pause")

    def host_leases_affixes(self) -> tuple[str, str]:
        """What :meth:`host_leases` puts before and after the slot, for Lua scripts that name the key per slot."""
        head, tail = self.host_leases("\n").split("\n")
        return head, tail

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every key of the crawl."""
        return self._key("*")


def outlet_record(outlet: Outlet) -> dict[str, Any]:
    """An outlet as JSON-ready data, everything a worker needs to crawl it."""
    return {
        "name": outlet.name,
        "homepage": outlet.homepage,
        "allowed_domains": list(outlet.allowed_domains),
        "start_urls": list(outlet.start_urls),
        "feeds": list(outlet.feeds),
        "sitemaps": list(outlet.sitemaps),
        "article_patterns": [p.pattern for p in outlet.article_patterns],
        "follow_patterns": [p.pattern for p in outlet.follow_patterns],
        "recheck": outlet.recheck.describe(),
        "path_prefix": outlet.path_prefix,
    }


def outlet_from_record(data: dict[str, Any]) -> Outlet:
    """The outlet :func:`outlet_record` describes (validated when its seed file was pushed)."""
    return Outlet(
        name=data["name"],
        homepage=data.get("homepage"),
        allowed_domains=tuple(data["allowed_domains"]),
        start_urls=tuple(data.get("start_urls", ())),
        feeds=tuple(data.get("feeds", ())),
        sitemaps=tuple(data.get("sitemaps", ())),
        article_patterns=tuple(re.compile(p) for p in data["article_patterns"]),
        follow_patterns=tuple(re.compile(p) for p in data.get("follow_patterns", ())),
        recheck=RecheckPolicy.from_description(data.get("recheck")),
        path_prefix=data.get("path_prefix"),
    )


def read_seed_message(data: bytes | str) -> tuple[str, str, str]:
    """The outlet name, kind and URL of a seed message :func:`push_seeds` wrote; ValueError if it is not one."""
    try:
        message = json.loads(data)
        return message["outlet"], message["kind"], message["url"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"not a seed message: {data!r}") from e


def push_rechecks(client: redis.Redis, keys: FrontierKeys, articles: Iterable[tuple[str | None, str]]) -> int:
    """Queue a recheck message per (outlet, URL) of an article due; return the number queued.

    The workers fetch each as a recheck of a known article (conditionally, and
    only if it is still due when its turn comes, so pushing twice costs no
    second fetch). Articles of outlets the crawl does not know are left out:
    the workers could not attribute them.
    """
    known = {_text(name) for name in client.hkeys(keys.outlets)}
    messages = [
        json.dumps({"outlet": outlet, "kind": RECHECK_KIND, "url": url}) for outlet, url in articles if outlet in known
    ]
    if messages:
        client.rpush(keys.seeds, *messages)
    return len(messages)


def push_due_rechecks(
    client: redis.Redis, keys: FrontierKeys, database_url: str, outlet: str | None = None, everything: bool = False
) -> tuple[int, int]:
    """Queue the archive's articles due now (or all of them); return (queued, due)."""
    engine = open_database(database_url)
    queued = due = 0
    now, after = datetime.now(timezone.utc), None
    try:
        while True:
            with engine.connect() as connection:
                batch = due_batch(connection, now, outlet, everything, after)
            queued += push_rechecks(client, keys, ((c.outlet, c.url) for c in batch))
            due += len(batch)
            if not batch:
                return queued, due
            after = batch[-1]
    finally:
        engine.dispose()


def push_seeds(client: redis.Redis, keys: FrontierKeys, seed_list: SeedList, force: bool = False) -> int:
    """Store the outlets and queue one seed message per seed URL; return the number queued.

    Outlets are stored by name. Seed URLs go through the crawl's dupefilter
    like any other request, so pushing the same list twice into one crawl
    fetches nothing twice (reset the crawl to crawl again). Workers read the
    outlets when they start: adding or changing an outlet while workers run
    is refused unless ``force``, since they would not know it.
    """
    records = {o.name: json.dumps(outlet_record(o)) for o in seed_list.outlets}
    stored = {_text(k): _text(v) for k, v in client.hgetall(keys.outlets).items()}
    changed = sorted(name for name, record in records.items() if stored.get(name) != record)
    if changed and not force and (alive := live_workers(client, keys)):
        raise FrontierError(
            f"crawl {keys.prefix!r} has {len(alive)} live worker(s), which do not know the new or changed "
            f"outlet(s) {', '.join(map(repr, changed))}: stop them first, or force and restart them"
        )
    messages = [
        json.dumps({"outlet": outlet.name, "kind": kind, "url": url})
        for outlet in seed_list.outlets
        for kind, url in outlet.seeds()
    ]
    with client.pipeline(transaction=True) as pipe:
        pipe.hset(keys.outlets, mapping=records)
        pipe.hset(
            keys.crawl, mapping={"seeds": str(seed_list.path), "pushed_at": datetime.now(timezone.utc).isoformat()}
        )
        if messages:
            pipe.rpush(keys.seeds, *messages)
        pipe.execute()
    return len(messages)


def live_workers(client: redis.Redis, keys: FrontierKeys) -> list[str]:
    """The registered workers whose heartbeat is alive."""
    return sorted(w for w in map(_text, client.hkeys(keys.workers)) if client.exists(keys.alive(w)))


def load_outlets(client: redis.Redis, keys: FrontierKeys) -> SeedList | None:
    """The crawl's outlets as a seed list (its path is the last seed file pushed), or ``None`` before any push."""
    raw = client.hgetall(keys.outlets)
    if not raw:
        return None
    outlets = sorted((outlet_from_record(json.loads(v)) for v in raw.values()), key=lambda o: o.name)
    path = client.hget(keys.crawl, "seeds")
    return SeedList(path=Path(_text(path) if path else keys.prefix), outlets=tuple(outlets))


@dataclass(frozen=True)
class WorkerStatus:
    """One registered worker as the crawl sees it."""

    worker: str
    host: str
    pid: int
    started: str
    alive: bool
    in_flight: int
    pages: int
    pages_per_second: float


@dataclass(frozen=True)
class CrawlStatus:
    """What a crawl is doing: its queue, its workers and their rates."""

    prefix: str
    seeds_file: str | None
    queued: int
    seeds_pending: int
    seen: int
    seen_estimated: bool
    requeued: int
    workers: list[WorkerStatus] = field(default_factory=list)

    @property
    def in_flight(self) -> int:
        return sum(w.in_flight for w in self.workers)

    @property
    def pages_per_second(self) -> float:
        return sum(w.pages_per_second for w in self.workers if w.alive)


def crawl_status(client: redis.Redis, keys: FrontierKeys) -> CrawlStatus:
    """A snapshot of the crawl under ``keys`` (read only)."""
    registered = {_text(k): json.loads(v) for k, v in client.hgetall(keys.workers).items()}
    workers = []
    for worker, info in sorted(registered.items()):
        with client.pipeline(transaction=False) as pipe:
            pipe.exists(keys.alive(worker))
            pipe.zcard(keys.processing(worker))
            pipe.hgetall(keys.worker_stats(worker))
            alive, in_flight, stats = pipe.execute()
        stats = {_text(k): _text(v) for k, v in stats.items()}
        workers.append(
            WorkerStatus(
                worker=worker,
                host=info.get("host", ""),
                pid=int(info.get("pid", 0)),
                started=info.get("started", ""),
                alive=bool(alive),
                in_flight=int(in_flight),
                pages=int(stats.get("pages", 0)),
                pages_per_second=float(stats.get("pages_per_second", 0.0)),
            )
        )
    seen, estimated = _seen(client, keys)
    seeds_file = client.hget(keys.crawl, "seeds")
    return CrawlStatus(
        prefix=keys.prefix,
        seeds_file=_text(seeds_file) if seeds_file else None,
        queued=int(client.zcard(keys.requests)),
        seeds_pending=int(client.llen(keys.seeds)),
        seen=seen,
        seen_estimated=estimated,
        requeued=int(client.hget(keys.stats, "requeued") or 0),
        workers=workers,
    )


def _seen(client: redis.Redis, keys: FrontierKeys) -> tuple[int, bool]:
    """Requests the dupefilter has seen: exact for the set, estimated from the bit count for a Bloom filter."""
    params = client.hgetall(keys.bloom_params)
    if not params:
        return int(client.scard(keys.dupefilter)), False
    bits, hashes = int(params[b"bits"]), int(params[b"hashes"])
    ones = int(client.bitcount(keys.bloom))
    if ones >= bits:
        return int(params[b"capacity"]), True
    # Swamidass & Baldi's estimate of the number of items in a Bloom filter.
    return round(-bits / hashes * math.log(1 - ones / bits)), True


def reset_crawl(client: redis.Redis, keys: FrontierKeys, force: bool = False) -> int:
    """Delete every key of the crawl (queue, dupefilter, seeds, outlets, workers); return how many.

    Refused while a worker's heartbeat is alive, unless ``force``: deleting
    the queue under running workers would lose their work.
    """
    if not force and (alive := live_workers(client, keys)):
        raise FrontierError(
            f"crawl {keys.prefix!r} has {len(alive)} live worker(s) ({', '.join(alive)}); "
            "stop them first or force the reset"
        )
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=keys.pattern, count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
