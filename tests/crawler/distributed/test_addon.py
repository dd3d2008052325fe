"""The one switch: a Redis URL turns the add-on's crawl into a worker of a shared crawl."""

from __future__ import annotations

import pytest
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from archive.frontier import KEY_PREFIX_ENV, REDIS_URL_ENV
from crawler.addon import NewsArchive
from crawler.distributed.politeness import HostLeaseMiddleware
from crawler.distributed.retryafter import DistributedRetryAfterMiddleware
from crawler.middlewares.retryafter import RetryAfterMiddleware


def crawler(**settings: object) -> Crawler:
    return get_crawler(Spider, {"ADDONS": {NewsArchive: 0}, **settings})


@pytest.fixture(autouse=True)
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)
    monkeypatch.delenv(KEY_PREFIX_ENV, raising=False)


def test_without_a_redis_url_the_crawl_is_a_single_process() -> None:
    settings = crawler().settings
    assert settings["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert RetryAfterMiddleware in middlewares and HostLeaseMiddleware not in middlewares


def test_a_redis_url_wires_scrapy_redis_and_the_crawl_wide_components() -> None:
    settings = crawler(REDIS_URL="redis://redis.internal:6379/0").settings
    assert settings["SCHEDULER"] == "crawler.distributed.scheduler.FrontierScheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings["SCHEDULER_SERIALIZER"] == "crawler.distributed.serializer"
    keys = [settings[k] for k in ("SCHEDULER_QUEUE_KEY", "SCHEDULER_DUPEFILTER_KEY", "REDIS_START_URLS_KEY")]
    assert keys == ["newsarchive:requests", "newsarchive:dupefilter", "newsarchive:start_urls"]
    assert settings.getint("MAX_IDLE_TIME_BEFORE_CLOSE") == 30
    assert settings.getfloat("DOWNLOAD_DELAY_JITTER") == 0
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert RetryAfterMiddleware not in middlewares
    assert middlewares[DistributedRetryAfterMiddleware] == 650
    assert middlewares[HostLeaseMiddleware] == 670


def test_the_environment_and_project_settings_choose_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REDIS_URL_ENV, "redis://127.0.0.1:6379/3")
    monkeypatch.setenv(KEY_PREFIX_ENV, "crawl-7")
    settings = crawler(DISTRIBUTED_DUPEFILTER="bloom", MAX_IDLE_TIME_BEFORE_CLOSE=5).settings
    assert settings["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert settings["SCHEDULER_QUEUE_KEY"] == "crawl-7:requests"
    assert settings["DUPEFILTER_CLASS"] == "crawler.distributed.dupefilter.BloomDupeFilter"
    assert settings.getint("MAX_IDLE_TIME_BEFORE_CLOSE") == 5


def test_mistakes_are_refused() -> None:
    with pytest.raises(ValueError, match="DISTRIBUTED_DUPEFILTER"):
        crawler(REDIS_URL="redis://r/0", DISTRIBUTED_DUPEFILTER="cuckoo")
    with pytest.raises(ValueError, match="key prefix"):
        crawler(REDIS_URL="redis://r/0", DISTRIBUTED_KEY_PREFIX="a:b")
