"""``newsarchive seeds``: push, status and reset of a distributed crawl (archive.frontier, archive.cli.seeds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from archive.cli import main
from archive.frontier import FrontierKeys, load_outlets, outlet_from_record, outlet_record
from archive.seeds import load_seeds
from tests.conftest import FIXTURE_SEEDS
from tests.crawler.distributed.conftest import REDIS_URL


def seeds(keys: FrontierKeys, *args: str) -> list[str]:
    return ["seeds", *args, "--redis", REDIS_URL, "--prefix", keys.prefix]


def test_push_stores_outlets_and_queues_seed_messages(
    redis_client: redis.Redis, keys: FrontierKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*seeds(keys, "push"), str(FIXTURE_SEEDS)]) == 0
    assert "3 outlets, 9 seed URLs queued" in capsys.readouterr().out
    seed_list = load_seeds(FIXTURE_SEEDS)
    stored = load_outlets(redis_client, keys)
    assert stored is not None and stored.path == FIXTURE_SEEDS
    assert [outlet_record(o) for o in stored.outlets] == sorted(
        (outlet_record(o) for o in seed_list.outlets), key=lambda r: r["name"]
    )
    messages = [json.loads(m) for m in redis_client.lrange(keys.seeds, 0, -1)]
    first = seed_list.outlets[0]
    assert messages[0] == {"outlet": first.name, "kind": "sitemap", "url": first.sitemaps[0]}
    assert {m["kind"] for m in messages} == {"sitemap", "feed", "section"}


def test_outlets_survive_the_trip_through_json() -> None:
    for outlet in load_seeds(FIXTURE_SEEDS).outlets:
        again = outlet_from_record(json.loads(json.dumps(outlet_record(outlet))))
        assert outlet_record(again) == outlet_record(outlet)
        assert again.is_article(next(iter(outlet.start_urls))) == outlet.is_article(next(iter(outlet.start_urls)))


def test_status_shows_queue_workers_and_rates(
    redis_client: redis.Redis, keys: FrontierKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    main([*seeds(keys, "push"), str(FIXTURE_SEEDS)])
    redis_client.hset(keys.workers, "vm-1-ab12", json.dumps({"host": "vm", "pid": 1, "started": "2019-02-28T12:00"}))
    redis_client.set(keys.alive("vm-1-ab12"), 1)
    redis_client.zadd(keys.processing("vm-1-ab12"), {b"a": 0, b"b": 0})
    redis_client.hset(keys.worker_stats("vm-1-ab12"), mapping={"pages": 120, "pages_per_second": "4.50"})
    capsys.readouterr()
    assert main(seeds(keys, "status")) == 0
    out = capsys.readouterr().out
    rows = {line.split("  ")[0]: line.split()[-1] for line in out.splitlines() if "  " in line}
    assert rows["seeds not yet read"] == "9" and rows["in flight"] == "2" and rows["pages per second"] == "4.5"
    assert "vm-1-ab12" in out and "120" in out and "4.5" in out


def test_reset_refuses_while_workers_live_and_push_refuses_new_outlets(
    redis_client: redis.Redis, keys: FrontierKeys, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main([*seeds(keys, "push"), str(FIXTURE_SEEDS)])
    redis_client.hset(keys.workers, "w1", "{}")
    redis_client.set(keys.alive("w1"), 1)
    assert main(seeds(keys, "reset")) == 2
    assert "1 live worker(s)" in capsys.readouterr().err
    changed = tmp_path / "changed.toml"
    changed.write_text(FIXTURE_SEEDS.read_text().replace('start_urls = ["http://www.commondreams.org/news"]', ""))
    assert main([*seeds(keys, "push"), str(changed)]) == 2
    assert "'Common Dreams'" in capsys.readouterr().err
    assert main([*seeds(keys, "push"), str(FIXTURE_SEEDS)]) == 0  # the same outlets again: fine
    redis_client.delete(keys.alive("w1"))
    assert main(seeds(keys, "reset")) == 0
    assert not redis_client.keys(keys.pattern)


def test_errors_name_what_is_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[outlet]]\nname = "x"\n')
    assert main(["seeds", "push", str(bad), "--redis", REDIS_URL]) == 2
    assert "bad.toml: outlet[0].allowed_domains" in capsys.readouterr().err
    assert main(["seeds", "status", "--redis", "redis://127.0.0.1:1/0"]) == 2
    assert "Redis:" in capsys.readouterr().err
    assert main(["seeds", "status", "--redis", REDIS_URL, "--prefix", "a:b"]) == 2
    assert "key prefix 'a:b'" in capsys.readouterr().err
