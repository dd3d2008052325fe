"""A page's date is the same in every process: a recapture extracted under another hash seed must not
look like a change. Pages whose date meta tags disagree got whichever tag a set iterated first."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

#: Five date tags, five dates: the first tag in order of preference decides.
PAGE = """<html><head><title>Summit ends</title>
<meta property="og:type" content="article">
<meta name="sailthru.date" content="2019-01-01">
<meta name="dc.date.issued" content="2022-02-04T15:33:00+01:00">
<meta name="pubdate" content="2021-12-14T15:41:07+01:00">
<meta itemprop="datePublished" content="2020-02-19">
<meta property="article:published_time" content="2022-04-22T04:11:44+00:00">
</head><body><article><h1>Summit ends</h1>
<p>The talks in Hanoi collapsed on Thursday without any agreement between the two delegations.</p>
<p>Both sides said they would keep talking, but no date was set for another meeting of the leaders.</p>
</article></body></html>"""

EXTRACT = """
import sys
from datetime import datetime, timezone
from archive.extract import extract_article
fetched = datetime(2023, 1, 1, tzinfo=timezone.utc)
result = extract_article(sys.stdin.read(), "http://www.example.com/news/story", fetched)
print(result.published if result else "no article")
"""


def published_under(seed: int) -> str:
    """The page's date as a process started with this hash seed extracts it."""
    done = subprocess.run(
        [sys.executable, "-c", EXTRACT],
        input=PAGE,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONHASHSEED": str(seed)},
        check=True,
    )
    return done.stdout.strip()


def test_the_date_of_a_page_with_disagreeing_date_tags_does_not_depend_on_the_hash_seed() -> None:
    assert {seed: published_under(seed) for seed in range(1, 7)} == dict.fromkeys(range(1, 7), "2022-04-22")
