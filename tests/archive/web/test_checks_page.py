"""The article page's check history and schedule line, and the /rechecks page, on archives indexed by the Ingester."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from archive.config import ArchivePaths
from archive.db import open_database, session_factory
from archive.queries import find_article
from archive.web import app as web_app
from archive.web import create_app
from tests.archive.queries.checked import EXPECTED, RENAMED, STORY, AtNoon, checked_article, schedule_scenario


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[FlaskClient]:
    app = create_app(ArchivePaths.resolve(data_dir=tmp_path, database_url=database_url))
    yield app.test_client()
    app.extensions["newsarchive.engine"].dispose()


@pytest.fixture
def sessions(database_url: str):
    engine = open_database(database_url)
    yield session_factory(engine)
    engine.dispose()


def test_the_article_page_shows_each_check_beside_the_versions(tmp_path: Path, client: FlaskClient, sessions) -> None:
    checked_article(tmp_path / "warcs", sessions, datetime(2019, 2, 28, 15, tzinfo=timezone.utc))
    with sessions() as session:
        article_id = find_article(session, STORY).id
    page = client.get(f"/articles/{article_id}").get_data(as_text=True)
    table = page.split('<table class="rows checks">', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<span class="outcome o-(\w+)">', table) == [outcome for _, outcome, _, _ in EXPECTED]
    assert "not modified" in table and "page changed, text unchanged" in table and RENAMED in table
    # the strip: one mark per check, coloured by what it found
    strip = page.split('<svg xmlns="http://www.w3.org/2000/svg" class="checks"', 1)[1].split("</svg>", 1)[0]
    assert sorted(re.findall(r'data-outcome="(\w+)"', strip)) == sorted(o for _, o, _, _ in EXPECTED)
    assert "2019-02-28 19:00:00 UTC: changed, version 2" in strip
    assert "Recheck schedule:" in page or "Not in the recheck schedule." in page
    assert "style=" not in page.split("<main>", 1)[1]  # the CSP allows no inline style


def test_the_schedule_line_and_the_rechecks_page(
    tmp_path: Path, client: FlaskClient, sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_app, "datetime", AtNoon)
    ids = schedule_scenario(tmp_path / "warcs", sessions, AtNoon.now())
    article = client.get(f"/articles/{ids['a2']}").get_data(as_text=True)
    assert "Recheck schedule: <strong>watching</strong>" in article
    settled = client.get(f"/articles/{ids['a4']}").get_data(as_text=True)
    assert "Recheck schedule: <strong>settled</strong>" in settled and "next due –" in settled
    page = client.get("/rechecks").get_data(as_text=True)
    table = page.split('<table class="rows rechecks">')[1].split("</table>")[0]
    rows = {cells[0]: cells[1:] for row in table.split("<tr") if (cells := re.findall(r"<td[^>]*>([^<]*)</td>", row))}
    assert rows["Example News"] == ["3", "2", "1", "1", "1", "1", "1", "1", "0.1"]
    assert rows["(no outlet)"][:4] == ["1", "0", "0", "1"]
    assert rows["(all outlets)"][:3] == ["4", "2", "1"]
    assert 'href="/rechecks"' in page  # in the navigation of every page
    one = client.get("/rechecks", query_string={"outlet": "Example News"}).get_data(as_text=True)
    assert "Example News" in one and "(no outlet)" not in one and "(all outlets)" not in one
    unknown = client.get("/rechecks", query_string={"outlet": "Nope"})
    assert unknown.status_code == 404 and "no outlet named" in unknown.get_data(as_text=True)


def test_the_rechecks_page_of_an_archive_without_a_schedule(client: FlaskClient) -> None:
    answer = client.get("/rechecks")
    assert answer.status_code == 200 and "No article is scheduled for rechecks." in answer.get_data(as_text=True)
