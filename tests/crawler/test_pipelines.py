import asyncio
import os
import re
import signal
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from archive.extract import Extraction, extract_article
from crawler.items import ArticlePage, FetchFailure
from crawler.pipelines import ExtractionPipeline
from tests.archive.test_extract import SEEDS, page_html

WHEN = datetime(2019, 3, 1, tzinfo=timezone.utc)


def page(html: str, content_type: str = "text/html; charset=utf-8") -> ArticlePage:
    return ArticlePage(
        url=SEEDS[2].url,
        outlet=SEEDS[2].outlet,
        html=html,
        content_type=content_type,
        fetched_at=WHEN,
    )


@pytest.fixture(params=[0, 1], ids=["thread", "process"])
def pipeline(request):
    crawler = get_crawler(settings_dict={"EXTRACTION_WORKERS": request.param})
    pipe = ExtractionPipeline.from_crawler(crawler)
    pipe.open_spider()
    yield pipe
    pipe.close_spider()


def test_extracts_articles(pipeline: ExtractionPipeline) -> None:
    item = asyncio.run(pipeline.process_item(page(page_html(SEEDS[2]).decode("utf-8"))))
    assert item.extraction.title == SEEDS[2].title


def test_extraction_does_not_run_on_the_event_loop(pipeline: ExtractionPipeline) -> None:
    async def scenario() -> None:
        task = asyncio.create_task(pipeline.process_item(page(page_html(SEEDS[0]).decode("utf-8"))))
        await asyncio.sleep(0)  # the task's first step submits the work and must yield back here
        assert not task.done()
        assert (await task).extraction is not None

    asyncio.run(scenario())


def test_other_items_pass_through(pipeline: ExtractionPipeline) -> None:
    failure = FetchFailure(url="http://x/", outlet=None, error="TimeoutError", at=WHEN)
    assert asyncio.run(pipeline.process_item(failure)) is failure


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (page("%PDF-1.4 ...", content_type="application/pdf"), "not an HTML page"),
        (page("<html><body><script>x()</script></body></html>"), "no article text"),
    ],
)
def test_pages_without_articles_are_dropped(pipeline: ExtractionPipeline, item: ArticlePage, reason: str) -> None:
    with pytest.raises(DropItem, match=reason):
        asyncio.run(pipeline.process_item(item))


def test_a_page_over_the_size_limit_is_not_extracted() -> None:
    crawler = get_crawler(settings_dict={"EXTRACTION_WORKERS": 0, "EXTRACTION_MAX_SIZE": 1000})
    pipe = ExtractionPipeline.from_crawler(crawler)
    pipe.open_spider()
    try:
        with pytest.raises(DropItem, match="over EXTRACTION_MAX_SIZE"):
            asyncio.run(pipe.process_item(page(page_html(SEEDS[2]).decode("utf-8"))))
    finally:
        pipe.close_spider()
    assert crawler.stats.get_value("extraction/too_large") == 1


#: A page made of this marker and a file name makes extract_or_misbehave write its pid to that file, then misbehave.
HANG = "<!-- hang, pid to: "
CRASH = "<!-- crash, pid to: "


def extract_or_misbehave(html: str, url: str, fetched_at: datetime) -> Extraction | None:
    """Extracts like the pipeline, except on a marked page: spins for ever, or dies as lxml would on a segfault.

    Module-level so that the spawned workers can import it by name.
    """
    for marker in (HANG, CRASH):
        if html.startswith(marker):
            Path(html.removeprefix(marker)).write_text(str(os.getpid()))
            if marker == CRASH:
                os.kill(os.getpid(), signal.SIGKILL)
            while True:  # burns a core, like a pathological page
                pass
    return extract_article(html, url, fetched_at)


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def misbehaving_pipeline(timeout: float) -> ExtractionPipeline:
    crawler = get_crawler(settings_dict={"EXTRACTION_WORKERS": 1, "EXTRACTION_TIMEOUT": timeout})
    pipe = ExtractionPipeline.from_crawler(crawler)
    pipe.extract = extract_or_misbehave
    return pipe


def test_a_page_over_the_time_limit_is_dropped_and_its_worker_killed(tmp_path: Path) -> None:
    pipe = misbehaving_pipeline(timeout=2)
    pipe.open_spider()
    try:
        started = time.monotonic()
        with pytest.raises(
            DropItem, match="over EXTRACTION_TIMEOUT .* page not extracted: " + re.escape(SEEDS[2].url)
        ) as e:
            asyncio.run(pipe.process_item(page(HANG + str(tmp_path / "pid"))))
        assert time.monotonic() - started < 15  # the timeout, spawning a worker, SIGTERM's grace period
        assert e.value.log_level == "WARNING"
        stuck = int((tmp_path / "pid").read_text())
        assert not is_alive(stuck)
        # the pool has a new worker, which extracts the next page
        item = asyncio.run(pipe.process_item(page(page_html(SEEDS[2]).decode("utf-8"))))
        assert item.extraction.title == SEEDS[2].title
    finally:
        pipe.close_spider()
    assert pipe.stats.get_value("extraction/timeout") == 1
    assert pipe.stats.get_value("extraction/articles") == 1


def test_a_dead_worker_costs_only_its_page(tmp_path: Path) -> None:
    pipe = misbehaving_pipeline(timeout=0)
    pipe.open_spider()
    try:
        with pytest.raises(
            DropItem, match=r"worker process died \(exit code -9\), page not extracted: " + re.escape(SEEDS[2].url)
        ):
            asyncio.run(pipe.process_item(page(CRASH + str(tmp_path / "pid"))))
        assert not is_alive(int((tmp_path / "pid").read_text()))
        item = asyncio.run(pipe.process_item(page(page_html(SEEDS[2]).decode("utf-8"))))
        assert item.extraction.title == SEEDS[2].title
    finally:
        pipe.close_spider()
    assert pipe.stats.get_value("extraction/failed") == 1


def test_no_time_limit_when_the_timeout_is_zero(tmp_path: Path) -> None:
    pipe = misbehaving_pipeline(timeout=0)
    pipe.open_spider()
    pid_file = tmp_path / "pid"

    async def scenario() -> None:
        task = asyncio.create_task(pipe.process_item(page(HANG + str(pid_file))))
        while not pid_file.exists() or not pid_file.read_text():
            await asyncio.sleep(0.05)
        await asyncio.sleep(2)  # well past a timeout of 0 seconds taken literally
        assert not task.done()
        assert is_alive(int(pid_file.read_text()))
        task.cancel()  # cancelling the extraction stops its worker
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(scenario())
    finally:
        pipe.close_spider()
    assert not is_alive(int(pid_file.read_text()))
    assert pipe.stats.get_value("extraction/timeout") is None
