import asyncio
from datetime import datetime, timezone

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

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
