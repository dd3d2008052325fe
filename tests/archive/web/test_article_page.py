"""The article page's versions: a change of extractor is said to be one, never shown as an edit by the outlet."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from archive.config import ArchivePaths
from archive.db import open_database, session_factory
from archive.db.ingester import Ingester
from archive.queries import find_article
from archive.web import create_app
from tests.archive.recording import Recording, at

STORY = "http://www.example.com/news/story"
TITLE = "Summit ends"
TEXT = "Talks collapsed.\nNo deal was reached."
#: What a newer extractor reads from the same page: the share prompt the older one dropped.
WITH_PROMPT = f"{TEXT}\nShare this story with your friends."
EDITED = "Talks collapsed early.\nNo deal was reached.\nShare this story with your friends."
OLD, NEW, REEXTRACTOR = "2.0", "3.0", "9.9"


@pytest.fixture
def article_page(tmp_path: Path, database_url: str) -> Iterator[tuple[FlaskClient, int]]:
    """An article read by an older extractor, then unchanged by a newer one, then edited; and re-extracted."""
    rec = Recording(tmp_path / "warcs")
    first = rec.page(STORY, "<html>first</html>", at(0))
    rec.article(first, STORY, TITLE, TEXT, at(0), extractor_version=OLD)
    second = rec.page(STORY, "<html>second</html>", at(1))
    rec.article(second, STORY, TITLE, WITH_PROMPT, at(1), extractor_version=NEW)
    third = rec.page(STORY, "<html>third</html>", at(2))
    rec.article(third, STORY, TITLE, EDITED, at(2), extractor_version=NEW)
    rec.reextraction(first, STORY, TITLE, WITH_PROMPT, at(3), REEXTRACTOR)
    rec.close()
    engine = open_database(database_url)
    Ingester(session_factory(engine)).ingest(rec.records)
    with session_factory(engine)() as session:
        article_id = find_article(session, STORY).id
    engine.dispose()
    app = create_app(ArchivePaths.resolve(data_dir=tmp_path, database_url=database_url))
    yield app.test_client(), article_id
    app.extensions["newsarchive.engine"].dispose()


def version_rows(page: str) -> list[list[str]]:
    """The versions table's cells, row by row, as text."""
    table = page.split('<table class="rows">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in rows
    ]


def test_a_change_of_extractor_is_marked_and_not_counted_as_an_edit(article_page: tuple[FlaskClient, int]) -> None:
    client, article_id = article_page
    page = client.get(f"/articles/{article_id}").get_data(as_text=True)
    first, second, third = version_rows(page)
    # words, +, −, headline
    assert first[4:7] == ["6", "", ""]
    assert second[4:7] == ["12", "", ""]  # six more words, but the extractor's: not compared
    assert second[7].startswith(f"extractor changed: {TITLE}")
    assert f"read by extractor {NEW}, version 1 by {OLD}" in second[7] and "not an edit by the outlet" in second[7]
    assert third[4:7] == ["13", "2", "1"] and third[7] == TITLE  # an edit, read by the same extractor
    # the diff shown first (versions 2 and 3) is between texts of one extractor: no warning
    assert "extractor-changed" not in page
    assert f"Re-extracted by extractor {REEXTRACTOR}: 1 version" in page
    assert f"--extraction {REEXTRACTOR}" in page


def test_the_diff_across_a_change_of_extractor_says_so(article_page: tuple[FlaskClient, int]) -> None:
    client, article_id = article_page
    page = client.get(f"/articles/{article_id}", query_string={"old": 1, "new": 2}).get_data(as_text=True)
    notice = page.split('<p class="notice extractor-changed">', 1)[1].split("</p>", 1)[0]
    assert " ".join(notice.split()) == (
        f"Version 1 was read by extractor {OLD}, version 2 by {NEW}: a change of extractor, "
        "so the differences below may be the extractor's, not edits by the outlet."
    )
    assert page.index("extractor-changed") < page.index('<p class="summary">')
