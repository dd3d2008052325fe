"""One table of newsarchive settings: the add-on applies it, project settings and -s override it."""

from __future__ import annotations

import re
from pathlib import Path

from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.misc import is_generator_with_return_value
from scrapy.utils.test import get_crawler

import crawler
import crawler.settings
from crawler.addon import NewsArchive
from crawler.settings import newsarchive_defaults
from crawler.spiders.news import NewsSpider
from crawler.spiders.recheck import RecheckSpider
from tests.crawler import archive_crawler

OURS = ("ARCHIVE_", "DISTRIBUTED_", "RETRY_AFTER_", "EXTRACTION_", "SECTION_", "STATS_FILE", "REDIS_URL")
READ = re.compile(r"settings\.get\w*\(\s*\"([A-Z0-9_]+)\"(\s*,)?")


def test_the_add_on_applies_every_default_at_add_on_priority() -> None:
    settings = get_crawler(settings_dict={"ADDONS": {NewsArchive: 0}}).settings
    for name, default in newsarchive_defaults.items():
        assert settings[name] == default, name
        assert settings.getpriority(name) == SETTINGS_PRIORITIES["addon"], name


def test_project_settings_and_the_command_line_win() -> None:
    settings = archive_crawler(SECTION_DEPTH_LIMIT=1).settings  # project priority, as settings.py
    assert settings.getint("SECTION_DEPTH_LIMIT") == 1


def test_the_settings_module_does_not_set_what_the_table_defines() -> None:
    assert not {name for name in dir(crawler.settings) if name.isupper()} & set(newsarchive_defaults)


def test_components_read_newsarchive_settings_without_a_default_of_their_own() -> None:
    for path in Path(crawler.__file__).parent.rglob("*.py"):
        for name, default in READ.findall(path.read_text()):
            if name.startswith(OURS):
                assert name in newsarchive_defaults, f"{path}: {name} is not in the table"
                assert not default, f"{path}: {name} is read with a default of its own"


def test_no_callback_is_a_generator_returning_a_value() -> None:
    # What WARN_ON_GENERATOR_RETURN_VALUE (off in settings.py: it parses a callback's source per response)
    # would have warned about: a value returned from a generator callback is lost.
    assert crawler.settings.WARN_ON_GENERATOR_RETURN_VALUE is False
    callbacks = [
        getattr(spider, name)
        for spider in (NewsSpider, RecheckSpider)
        for name in dir(spider)
        if name.startswith(("parse", "fetch_failed", "homepage_failed"))
    ]
    assert len(callbacks) >= 10
    assert [c.__name__ for c in callbacks if is_generator_with_return_value(c)] == []
