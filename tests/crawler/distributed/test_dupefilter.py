"""The Bloom filter dupefilter: its size, and its false-positive rate measured against the stated one."""

from __future__ import annotations

import logging
import math

import pytest
import redis
from scrapy import Request

from archive.frontier import FrontierKeys, crawl_status
from crawler.distributed.dupefilter import MAX_BITS, BloomDupeFilter, bloom_size


def bloom(client: redis.Redis, keys: FrontierKeys, capacity: int, error_rate: float) -> BloomDupeFilter:
    return BloomDupeFilter(client, keys.bloom, keys.bloom_params, capacity, error_rate)


def would_be_seen(client: redis.Redis, dupefilter: BloomDupeFilter, requests: list[Request]) -> list[bool]:
    """What request_seen would answer for each request, without setting any bit."""
    positions = [dupefilter.positions(dupefilter.request_fingerprint(r)) for r in requests]
    with client.pipeline(transaction=False) as pipe:
        for bits in positions:
            for position in bits:
                pipe.getbit(dupefilter.key, position)
        found = iter(pipe.execute())
    return [all([next(found) for _ in bits]) for bits in positions]


def test_size_follows_the_standard_formulas() -> None:
    bits, hashes = bloom_size(10_000_000, 0.0001)
    assert (bits, hashes) == (191_701_168, 13)  # 24 MB
    assert (1 - math.exp(-hashes * 10_000_000 / bits)) ** hashes == pytest.approx(0.0001, rel=0.01)
    with pytest.raises(ValueError, match="more than a Redis string holds"):
        bloom_size(2 * MAX_BITS, 0.5)
    with pytest.raises(ValueError):
        bloom_size(1000, 1.5)


def test_false_positive_rate_at_capacity_is_the_stated_one(redis_client: redis.Redis, keys: FrontierKeys) -> None:
    capacity, error_rate = 10_000, 0.01
    dupefilter = bloom(redis_client, keys, capacity, error_rate)
    added = [Request(f"http://news.example/{n}") for n in range(capacity)]
    # while it fills, a new URL is taken for seen less often than at capacity
    assert sum(dupefilter.request_seen(r) for r in added) < capacity * error_rate
    assert all(would_be_seen(redis_client, dupefilter, added))  # never a false negative
    # URLs never added, checked without adding them (request_seen would, filling the filter past capacity)
    others = [Request(f"http://other.example/{n}") for n in range(capacity)]
    rate = sum(would_be_seen(redis_client, dupefilter, others)) / len(others)
    # binomial spread of 10 000 trials at 1 %: sd 0.1 %; allow 4 sd either side
    assert 0.006 < rate < 0.014, rate
    assert redis_client.strlen(keys.bloom) <= math.ceil(bloom_size(capacity, error_rate)[0] / 8)
    status = crawl_status(redis_client, keys)
    assert status.seen_estimated and status.seen == pytest.approx(capacity, rel=0.05)


def test_a_crawls_filter_keeps_its_size_and_warns_when_full(
    redis_client: redis.Redis, keys: FrontierKeys, caplog: pytest.LogCaptureFixture
) -> None:
    first = bloom(redis_client, keys, 10, 0.01)
    with caplog.at_level(logging.WARNING):
        later = bloom(redis_client, keys, 1000, 0.001)
        assert (later.capacity, later.error_rate, later.bits) == (10, 0.01, first.bits)
        for n in range(12):
            later.request_seen(Request(f"http://news.example/{n}"))
    assert "keeping it" in caplog.text
    assert "holds more than its 10 URLs" in caplog.text
