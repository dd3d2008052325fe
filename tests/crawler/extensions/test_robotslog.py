"""The robots.txt error log keeps Scrapy's line and drops the traceback only for the web's ordinary failures."""

from __future__ import annotations

import logging

import pytest
from scrapy.exceptions import DownloadConnectionRefusedError
from scrapy.utils.test import get_crawler

from crawler.extensions.robotslog import ROBOTS_LOGGER, RobotsTxtErrorLog


def _logged(caplog: pytest.LogCaptureFixture, error: Exception) -> logging.LogRecord:
    logger = logging.getLogger(ROBOTS_LOGGER)
    try:
        raise error
    except Exception:
        logger.error(
            "Error downloading %(request)s: %(f_exception)s",
            {"request": "<GET x>", "f_exception": error},
            exc_info=True,
        )
    return caplog.records[-1]


def test_a_refused_connection_is_one_line_and_a_bug_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    crawler = get_crawler()
    log = RobotsTxtErrorLog.from_crawler(crawler)
    try:
        refused = _logged(caplog, DownloadConnectionRefusedError("Connection was refused by other side"))
        assert refused.levelno == logging.ERROR and refused.exc_info is None
        assert "Connection was refused" in refused.getMessage()
        bug = _logged(caplog, KeyError("a middleware's own mistake"))
        assert bug.exc_info is not None and bug.exc_info[0] is KeyError
    finally:
        logging.getLogger(ROBOTS_LOGGER).removeFilter(log)
