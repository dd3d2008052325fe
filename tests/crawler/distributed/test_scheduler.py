"""The shared scheduler and the distributed spider, against Redis with a stand-in engine and archiver."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
import redis
from scrapy import Request
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.test import get_crawler

from archive.frontier import FrontierError, FrontierKeys, push_seeds
from archive.seeds import load_seeds
from crawler.addon import NewsArchive
from crawler.distributed import RELEASE_META
from crawler.distributed.scheduler import FrontierScheduler
from crawler.distributed.spider import DistributedNewsSpider
from crawler.recorder import WarcRecorder
from crawler.spiders.news import NewsSpider
from tests.conftest import FIXTURE_SEEDS
from tests.crawler.distributed.conftest import REDIS_URL


@dataclass
class FakeArchiver:
    """What the recorder reads of its archiver process to tell whether records are written."""

    batches_submitted: int = 0
    batches_written: int = 0
    failure: BaseException | None = None


@dataclass
class FakeEngine:
    """What the scheduler and the spider read of the engine."""

    scheduler: FrontierScheduler | None = None
    running: bool = True
    woken: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._slot = SimpleNamespace(
            inprogress=set(), nextcall=SimpleNamespace(schedule=lambda: self.woken.append(True))
        )

    @property
    def inprogress(self) -> set[Request]:
        return self._slot.inprogress


@dataclass
class Worker:
    spider: DistributedNewsSpider
    scheduler: FrontierScheduler
    engine: FakeEngine
    archiver: FakeArchiver


def settings(keys: FrontierKeys, **more: object) -> dict[str, object]:
    return {
        "ADDONS": {NewsArchive: 0},
        "REDIS_URL": REDIS_URL,
        "DISTRIBUTED_KEY_PREFIX": keys.prefix,
        "ARCHIVE_ENABLED": False,
        "ARCHIVE_CONTACT_URL": "http://localhost/tests",
        "DISTRIBUTED_ACK_INTERVAL": 3600,  # the tests settle by hand
        **more,
    }


@pytest.fixture
def worker(redis_client: redis.Redis, keys: FrontierKeys) -> Iterator[Worker]:
    push_seeds(redis_client, keys, load_seeds(FIXTURE_SEEDS))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # the recorder is built, but its archiver process is a stand-in: the test says what is written
    crawler = get_crawler(DistributedNewsSpider, settings(keys, ARCHIVE_ENABLED=True, MAX_IDLE_TIME_BEFORE_CLOSE=1))
    spider = DistributedNewsSpider.from_crawler(crawler)
    scheduler = FrontierScheduler.from_crawler(crawler)
    engine = FakeEngine(scheduler)
    crawler.engine = engine  # type: ignore[assignment]
    loop.run_until_complete(_open(scheduler, spider))
    archiver = FakeArchiver()
    recorder = crawler.get_extension(WarcRecorder)
    assert recorder is not None
    recorder.archiver = archiver  # type: ignore[assignment]
    yield Worker(spider, scheduler, engine, archiver)
    scheduler._loop.stop()
    asyncio.set_event_loop(None)
    loop.close()


async def _open(scheduler: FrontierScheduler, spider: DistributedNewsSpider) -> None:
    scheduler.open(spider)
    spider._spider_opened()


def take(worker: Worker) -> Request:
    request = worker.scheduler.next_request()
    assert request is not None
    worker.engine.inprogress.add(request)
    return request


def test_a_worker_reads_its_outlets_from_redis(worker: Worker) -> None:
    spider = worker.spider
    assert [o.name for o in spider.seed_list.outlets] == sorted(o.name for o in load_seeds(FIXTURE_SEEDS).outlets)
    assert spider.allowed_domains == load_seeds(FIXTURE_SEEDS).allowed_domains
    assert spider.redis_key == f"{spider.frontier_keys.prefix}:start_urls"


def test_seed_messages_become_the_single_process_spiders_requests(
    worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    async def first_batch() -> list[Request]:
        return [r async for r in worker.spider.start()]

    requests = asyncio.get_event_loop().run_until_complete(first_batch())
    plain = NewsSpider(seeds=str(FIXTURE_SEEDS))
    expected = asyncio.get_event_loop().run_until_complete(_collect(plain))
    assert [(r.url, r.priority, r.cb_kwargs, r.callback.__name__) for r in requests] == [
        (r.url, r.priority, r.cb_kwargs, r.callback.__name__) for r in expected
    ]
    with caplog.at_level(logging.ERROR):
        assert worker.spider.make_request_from_data(b'{"url": "http://x/"}') == []
        assert worker.spider.make_request_from_data(b"http://x/") == []
        assert worker.spider.make_request_from_data(b'{"outlet": "Gone", "kind": "feed", "url": "http://x/"}') == []
    assert "is not one `newsarchive seeds push` writes" in caplog.text
    assert "outlet 'Gone' is not in the crawl's seeds (pushed after this worker started?)" in caplog.text


async def _collect(spider: NewsSpider) -> list[Request]:
    return [r async for r in spider.start()]


def test_a_request_is_confirmed_once_processed_and_archived(worker: Worker, redis_client: redis.Redis) -> None:
    scheduler, spider, archiver = worker.scheduler, worker.spider, worker.archiver
    outlet = spider.seed_list.outlets[0]
    for url in outlet.feeds + outlet.sitemaps + outlet.start_urls:
        assert scheduler.enqueue_request(spider.seed_request("feed", url, outlet))
    assert not scheduler.enqueue_request(spider.seed_request("feed", outlet.feeds[0], outlet))  # seen
    first, second = take(worker), take(worker)
    assert scheduler.queue.in_processing() == 2

    archiver.batches_submitted, archiver.batches_written = 5, 3
    worker.engine.inprogress.discard(first)  # the engine is done with it ...
    scheduler._settle()
    assert scheduler.queue.in_processing() == 2  # ... but its records are not all written
    archiver.batches_submitted, archiver.batches_written = 6, 5
    scheduler._settle()
    assert scheduler.queue.in_processing() == 1  # now they are (a later submission does not matter)

    second.meta[RELEASE_META] = True  # abandoned on shutdown: back to the queue
    worker.engine.inprogress.discard(second)
    scheduler._settle()
    assert (scheduler.queue.in_processing(), len(scheduler.queue)) == (0, 2)
    assert scheduler.stats.get_value("frontier/finished") == 1
    assert scheduler.stats.get_value("frontier/released") == 1


def test_on_close_what_is_not_confirmed_goes_back(
    worker: Worker, redis_client: redis.Redis, keys: FrontierKeys
) -> None:
    scheduler, spider = worker.scheduler, worker.spider
    outlet = spider.seed_list.outlets[0]
    scheduler.enqueue_request(spider.seed_request("feed", outlet.feeds[0], outlet))
    request = take(worker)
    worker.engine.inprogress.discard(request)
    worker.archiver.batches_submitted = 1
    worker.archiver.failure = OSError("disk full")  # its records will never be written
    asyncio.get_event_loop().run_until_complete(scheduler._close("archive_error"))
    assert (len(scheduler.queue), scheduler.queue.in_processing()) == (1, 0)
    assert redis_client.hlen(keys.workers) == 0


def test_the_crawl_is_drained_only_when_no_worker_holds_work(
    worker: Worker, redis_client: redis.Redis, keys: FrontierKeys
) -> None:
    scheduler, spider = worker.scheduler, worker.spider
    redis_client.delete(keys.seeds)
    assert scheduler.frontier_drained()
    redis_client.hset(keys.workers, "other", json.dumps({}))
    redis_client.set(keys.alive("other"), 1)
    redis_client.zadd(keys.processing("other"), {b"request": 0})
    assert not scheduler.frontier_drained()  # another worker may still find links
    with pytest.raises(DontCloseSpider):
        spider.spider_idle()
    redis_client.delete(keys.alive("other"))  # it died: its request comes back to the queue
    assert not scheduler.frontier_drained()
    assert len(scheduler.queue) == 1
    scheduler._wake_engine()
    assert worker.engine.woken  # an idle engine is told at once
    redis_client.delete(keys.requests)
    assert scheduler.frontier_drained()
    with pytest.raises(DontCloseSpider):
        spider.spider_idle()  # drained, but not for MAX_IDLE_TIME_BEFORE_CLOSE yet
    spider._idle_since -= 1  # type: ignore[operator]
    assert spider.spider_idle() is None  # the worker may close


def test_a_worker_needs_pushed_seeds_and_takes_no_seed_file(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    crawler = get_crawler(DistributedNewsSpider, settings(keys))
    with pytest.raises(FrontierError, match="newsarchive seeds push FILE"):
        DistributedNewsSpider.from_crawler(crawler)
    with pytest.raises(FrontierError, match="without -a seeds"):
        DistributedNewsSpider.from_crawler(crawler, seeds=str(FIXTURE_SEEDS))
