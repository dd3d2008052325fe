"""A distributed recheck: ``scrapy crawl recheck`` with a Redis URL queues the due articles, workers fetch them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import redis
from sqlalchemy import select

from archive.db.models import Capture, RecheckSchedule, Url
from archive.db.session import open_database, session_factory
from archive.frontier import FrontierKeys, push_seeds
from archive.seeds import load_seeds
from archive.warc.records import SERVER_NOT_MODIFIED
from tests.conftest import REPO
from tests.crawler.distributed.conftest import REDIS_URL, WORKER_SETTINGS, start_worker
from tests.fixtureweb.__main__ import proxy_env
from tests.recheckweb import SLUGS, RecheckWeb

FAST = '[outlet.recheck]\nsteps = [{ until = "1h", every = "1s" }]\n'


def test_workers_recheck_the_articles_a_recheck_crawl_queues(
    redis_client: redis.Redis, keys: FrontierKeys, pg_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with RecheckWeb() as web:
        seeds = tmp_path / "seeds.toml"
        seeds.write_text(web.seed_toml(FAST))
        push_seeds(redis_client, keys, load_seeds(seeds))
        assert start_worker(web.url, keys, pg_url, data, "first").process.wait(timeout=240) == 0
        assert web.article_gets() == dict.fromkeys(SLUGS, 1)
        web.edit(SLUGS[0])
        time.sleep(1.5)

        queue = [sys.executable, "-m", "scrapy", "crawl", "recheck"]
        for name, value in {
            **WORKER_SETTINGS,
            "REDIS_URL": REDIS_URL,
            "DISTRIBUTED_KEY_PREFIX": keys.prefix,
            "ARCHIVE_DATABASE_URL": pg_url,
            "ARCHIVE_DATA_DIR": str(data),
        }.items():
            queue += ["-s", f"{name}={value}"]
        web.clear_log()
        queued = subprocess.run(queue, cwd=REPO, env=proxy_env(web.url), capture_output=True, text=True, timeout=120)
        assert queued.returncode == 0, queued.stderr[-3000:]
        assert f"{len(SLUGS)} of {len(SLUGS)} articles due queued" in queued.stdout
        assert not web.requests  # queuing fetches nothing

        assert start_worker(web.url, keys, pg_url, data, "second").process.wait(timeout=240) == 0
        statuses = {r.url.rsplit("/", 1)[1]: r.status for r in web.requests if "/news/" in r.url}
        assert statuses == {SLUGS[0]: 200, **dict.fromkeys(SLUGS[1:], 304)}
        assert all(r.header("If-None-Match") for r in web.requests if "/news/" in r.url)

    engine = open_database(pg_url)
    with session_factory(engine)() as db:
        not_modified = db.scalars(
            select(Capture).join(Url).where(Capture.revisit_profile == SERVER_NOT_MODIFIED, Url.url.contains("/news/"))
        ).all()
        assert len(not_modified) == len(SLUGS) - 1
        assert {s.state for s in db.scalars(select(RecheckSchedule))} == {"watching"}
    engine.dispose()
