"""A worker takes links by the URL shapes its outlet's past pages proved to be articles', read from the crawl's
database, and fetches them first, as the single-process spider does."""

from __future__ import annotations

from pathlib import Path

import redis

from archive.db.ingester import Ingester
from archive.db.session import open_database, session_factory
from archive.db.shapes import learned_shapes
from archive.format import OUTLETS_FIELD, decision_payload, outlets_field
from archive.frontier import FrontierKeys, push_seeds
from archive.seeds import load_seeds
from archive.urlshape import article_decision, classify_url, url_shape
from archive.warc import WarcWriter
from archive.warc.records import metadata_record
from tests.archive.recording import Recording, at
from tests.crawler.distributed.conftest import start_worker
from tests.crawler.distributed.web import GeneratedWeb

HOST = "www.outlet0.example"
OUTLET = {"name": "Outlet 0", "homepage": f"http://{HOST}/", "allowed_domains": [HOST]}


def learn(database_url: str, folder: Path, urls: list[str]) -> None:
    """Index what a past crawl of the outlet archived: these pages, each decided an article on what it says."""
    rec = Recording(folder)
    rec.writer = WarcWriter(folder, info={"software": "test", OUTLETS_FIELD: outlets_field([OUTLET])})
    for i, url in enumerate(urls):
        response = rec.page(url, "<html><body>a story</body></html>", at(i))
        decision = article_decision(
            classify_url(url),
            og_types=["article"],
            jsonld_types=["NewsArticle"],
            has_published_date=True,
            text_length=3000,
        )
        rec._write(
            [metadata_record(rec.writer.builder, url, response, decision_payload(OUTLET["name"], decision), at(i))]
        )
    rec.close()
    engine = open_database(database_url)
    try:
        Ingester(session_factory(engine)).ingest(rec.records)
    finally:
        engine.dispose()


def test_a_worker_fetches_links_of_learned_shapes_first(
    redis_client: redis.Redis, keys: FrontierKeys, pg_url: str, tmp_path: Path
) -> None:
    # the front page links four stories at dated URLs first, then the sections' first stories, whose shape
    # (/section-{id}/story-{id}.html) alone says "a section", but which the outlet's past pages proved articles
    with GeneratedWeb(outlets=1, sections=4, articles=1, dated=4) as web:
        stories = set(web.articles)
        learn(pg_url, tmp_path / "learned", [f"http://{HOST}/section-9/story-{n}.html" for n in range(3)])
        engine = open_database(pg_url)
        with engine.connect() as connection:
            (shape,) = learned_shapes(connection)[OUTLET["name"]]
        engine.dispose()
        assert shape.proven and {url_shape(url) for url in stories} == {shape.shape}
        seeds = tmp_path / "seeds.toml"
        seeds.write_text(
            f'[[outlet]]\nname = "{OUTLET["name"]}"\nhomepage = "http://{HOST}/"\n'
            f'allowed_domains = ["{HOST}"]\nstart_urls = ["http://{HOST}/"]\n'
        )
        push_seeds(redis_client, keys, load_seeds(seeds))
        # one request at a time: the worker takes the shared queue's requests in its order
        worker = start_worker(
            web.proxy_url, keys, pg_url, tmp_path / "data", "w", CONCURRENT_REQUESTS="1",
            CONCURRENT_REQUESTS_PER_DOMAIN="1",
        )  # fmt: skip
        worker.process.wait(timeout=120)
        hits = sorted(web.hits, key=lambda h: h.start)
    assert worker.process.returncode == 0, worker.log[-3000:]
    assert "URL shapes learned in past crawls: {'Outlet 0': 1}" in worker.log, worker.log[-3000:]
    fetched = [h.url for h in hits if h.url in stories | set(web.dated)]
    # the proven shape's links first, then those taken by their shape alone
    assert set(fetched[: len(stories)]) == stories, fetched
    assert set(fetched[len(stories) :]) == set(web.dated), fetched
