from pathlib import Path

import pytest

from archive.db import open_database, session_factory
from archive.db.ingester import Ingester
from archive.plot import plot_coverage
from archive.queries import NO_OUTLET, timeline_data
from tests.archive.recording import Recording, at


@pytest.fixture
def lines(tmp_path: Path, database_url: str):
    rec = Recording(tmp_path / "warcs")
    for hour, text in [(0, "First."), (5, "First, updated."), (30, "First, updated twice.")]:
        response = rec.page("http://www.example.com/a", "<html/>", at(hour))
        rec.article(response, "http://www.example.com/a", "A", text, at(hour))
    response = rec.page("http://other.org/b", "<html/>", at(2))
    rec.article(response, "http://other.org/b", "B", "Elsewhere.", at(2))
    rec.close()
    engine = open_database(database_url)
    Ingester(session_factory(engine)).ingest(rec.records)
    with session_factory(engine)() as session:
        yield timeline_data(session)
    engine.dispose()


def test_each_article_is_a_line_with_its_later_versions_marked(lines) -> None:
    naive = [at(h).replace(tzinfo=None) for h in (0, 2, 5, 30)]
    assert [(line.outlet, line.first_seen, line.last_seen, line.changes) for line in lines] == [
        (NO_OUTLET, naive[1], naive[1], []),
        ("Example News", naive[0], naive[3], [naive[2], naive[3]]),
    ]


def test_the_timeline_is_drawn_as_svg_with_its_text_and_as_png(lines, tmp_path: Path) -> None:
    svg = plot_coverage(lines, tmp_path / "t.svg", "A story").read_text(encoding="utf-8")
    assert "A story" in svg and "Example News" in svg and NO_OUTLET in svg
    png = plot_coverage(lines, tmp_path / "t.png", "A story").read_bytes()
    assert png.startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="png or"):
        plot_coverage(lines, tmp_path / "t.jpg", "A story")


def test_an_empty_timeline_still_draws(tmp_path: Path) -> None:
    assert "no articles" in plot_coverage([], tmp_path / "empty.svg", "Nothing yet").read_text(encoding="utf-8")
