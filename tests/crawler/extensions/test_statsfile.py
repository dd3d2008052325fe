import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.addon import NewsArchive
from crawler.extensions.statsfile import StatsFile


def test_off_without_a_stats_file() -> None:
    with pytest.raises(NotConfigured):
        StatsFile.from_crawler(get_crawler())


def test_writes_the_final_stats_as_json_when_the_engine_stops(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "7.stats.json"
    crawler = get_crawler(settings_dict={"STATS_FILE": str(path)})
    extension = StatsFile.from_crawler(crawler)
    finished = datetime(2019, 2, 28, 6, 30, tzinfo=timezone.utc)
    crawler.stats.set_value("finish_time", finished)
    crawler.stats.set_value("finish_reason", "finished")
    crawler.stats.inc_value("downloader/response_count", 24)
    extension.engine_stopped()
    assert json.loads(path.read_text("utf-8")) == {
        "finish_time": "2019-02-28T06:30:00+00:00",
        "finish_reason": "finished",
        "downloader/response_count": 24,
    }
    assert [p.name for p in path.parent.iterdir()] == ["7.stats.json"]  # no partial file left


def test_the_add_on_enables_it() -> None:
    settings = Settings()
    NewsArchive().update_settings(settings)
    assert settings.getdict("EXTENSIONS")[StatsFile] == 0
