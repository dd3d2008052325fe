"""The reliable queue and the workers' recovery of each other's requests (Redis, no crawl)."""

from __future__ import annotations

import pickle

import redis
from scrapy import Request
from scrapy.utils.test import get_crawler

from archive.frontier import FrontierKeys, load_outlets, push_seeds
from archive.seeds import load_seeds
from crawler.distributed import serializer
from crawler.distributed.queue import ReliablePriorityQueue
from crawler.distributed.spider import DistributedNewsSpider
from crawler.distributed.worker import Worker
from tests.conftest import FIXTURE_SEEDS
from tests.crawler.distributed.conftest import REDIS_URL


def news_spider(client: redis.Redis, keys: FrontierKeys) -> DistributedNewsSpider:
    push_seeds(client, keys, load_seeds(FIXTURE_SEEDS))
    crawler = get_crawler(DistributedNewsSpider, {"REDIS_URL": REDIS_URL, "DISTRIBUTED_KEY_PREFIX": keys.prefix})
    return DistributedNewsSpider.from_crawler(crawler)


def queue_of(
    client: redis.Redis, keys: FrontierKeys, spider: DistributedNewsSpider, worker: str
) -> ReliablePriorityQueue:
    return ReliablePriorityQueue(client, spider, keys.requests, keys.processing(worker), serializer)


def test_requests_round_trip_with_callbacks_by_name_and_the_outlet(
    redis_client: redis.Redis, keys: FrontierKeys
) -> None:
    spider = news_spider(redis_client, keys)
    outlet = load_outlets(redis_client, keys).outlets[0]  # type: ignore[union-attr]
    queue = queue_of(redis_client, keys, spider, "w1")
    sent = spider.seed_request("feed", outlet.feeds[0], outlet)
    queue.push(sent)
    got, _ = queue.take()  # type: ignore[misc]
    assert (got.url, got.priority, got.cb_kwargs) == (sent.url, sent.priority, {"outlet": outlet.name})
    assert got.callback == spider.parse_feed and got.errback == spider.fetch_failed


def test_take_parks_the_request_until_finished_or_released(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    spider = news_spider(redis_client, keys)
    queue = queue_of(redis_client, keys, spider, "w1")
    for n in range(3):
        queue.push(Request(f"http://example.com/{n}", priority=n))
    first, first_taken = queue.take()  # type: ignore[misc]
    second, second_taken = queue.take()  # type: ignore[misc]
    assert (first.url, second.url) == ("http://example.com/2", "http://example.com/1")  # priority order
    assert (len(queue), queue.in_processing()) == (1, 2)
    queue.finish([first_taken], released=[second_taken])
    assert (len(queue), queue.in_processing()) == (2, 0)
    again, _ = queue.take()  # type: ignore[misc]
    assert again.url == "http://example.com/1"  # released with its priority


def test_equal_priorities_leave_the_queue_shuffled_not_by_url(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    spider = news_spider(redis_client, keys)
    queue = queue_of(redis_client, keys, spider, "w1")
    urls = [f"http://host{h}.example/{n:03d}" for h in range(3) for n in range(30)]
    for url in urls:
        queue.push(Request(url))
    first_ten = {queue.take()[0].url.split("/")[2] for _ in range(10)}  # type: ignore[index]
    assert len(first_ten) > 1  # sorted by bytes, the first ten would all be host0's
    assert pickle.loads(serializer.dumps({"a": 1})[4:]) == serializer.loads(serializer.dumps({"a": 1})) == {"a": 1}


def test_a_dead_workers_requests_and_leases_are_recovered_once(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    spider = news_spider(redis_client, keys)
    dead, alive = Worker(redis_client, keys, "dead", 1.0), Worker(redis_client, keys, "alive", 10.0)
    dead.register()
    alive.register()
    queue = queue_of(redis_client, keys, spider, "dead")
    for n in range(3):
        queue.push(Request(f"http://example.com/{n}"))
    queue.take()
    queue.take()
    redis_client.zadd(keys.host_leases("example.com"), {"dead/1": 9e15, "alive/1": 9e15})
    redis_client.sadd(keys.worker_hosts("dead"), "example.com")
    assert alive.recover_dead() == 0  # its heartbeat is still alive: nothing happens
    assert alive.others_busy()

    redis_client.delete(keys.alive("dead"))  # the heartbeat expires
    assert alive.recover_dead() == 2
    assert alive.recover_dead() == 0
    assert (len(queue), queue.in_processing()) == (3, 0)
    assert redis_client.zrange(keys.host_leases("example.com"), 0, -1) == [b"alive/1"]
    assert redis_client.hkeys(keys.workers) == [b"alive"]
    assert int(redis_client.hget(keys.stats, "requeued")) == 2
    assert not alive.others_busy()


def test_a_worker_taken_for_dead_registers_again(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    worker = Worker(redis_client, keys, "w1", 10.0)
    worker.register()
    redis_client.hdel(keys.workers, "w1")  # as another worker's recovery would
    worker.heartbeat(pages=5)
    assert redis_client.hexists(keys.workers, "w1") and redis_client.exists(keys.alive("w1"))
    assert redis_client.hget(keys.worker_stats("w1"), "pages") == b"5"


def test_leaving_requeues_what_is_left(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    spider = news_spider(redis_client, keys)
    worker = Worker(redis_client, keys, "w1", 10.0)
    worker.register()
    queue = queue_of(redis_client, keys, spider, "w1")
    queue.push(Request("http://example.com/"))
    queue.take()
    assert worker.leave() == 1
    assert (len(queue), queue.in_processing(), redis_client.hlen(keys.workers)) == (1, 0, 0)
