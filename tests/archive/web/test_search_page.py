"""The app's word search on the search fixture archive (``tests/archive/searchfixture.py``), on both backends:
the count, counts by outlet, the attention chart, pages of snippets, and a 400 that says why for bad input."""

from __future__ import annotations

from collections.abc import Iterator

import lxml.html
import pytest
from flask.testing import FlaskClient

from archive.config import ArchivePaths
from archive.db import open_database, session_factory
from archive.stories import StoryDefinition, sync_story
from archive.web import app as app_module
from archive.web import create_app
from tests.archive import searchfixture
from tests.archive.search.conftest import index_everything
from tests.conftest import BACKENDS, database_urls


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    folder = tmp_path_factory.mktemp("search-page")
    with database_urls(request.param, folder) as make:
        url = make()
        engine = open_database(url)
        sessions = session_factory(engine)
        searchfixture.build(folder / "warcs", sessions)
        index_everything(sessions)
        engine.dispose()
        app = create_app(ArchivePaths.resolve(data_dir=folder, database_url=url))
        yield app.test_client()
        app.extensions["newsarchive.engine"].dispose()


def page(client: FlaskClient, **query: str) -> lxml.html.HtmlElement:
    answer = client.get("/", query_string=query)
    assert answer.status_code == 200, answer.data
    return lxml.html.fromstring(answer.data)


def total(found: lxml.html.HtmlElement) -> int:
    return int(found.get_element_by_id("total").text_content().split()[0])


def test_a_word_search_shows_the_count_counts_by_outlet_and_an_attention_chart(client: FlaskClient) -> None:
    found = page(client, q="hanoi")
    assert total(found) == 6
    outlets = {row[0].text_content(): int(row[1].text_content()) for row in found.cssselect("table.outlets tr")[1:]}
    assert outlets == {
        "Harbor Times": 2,
        "Common Dreams": 1,
        "The American Conservative": 1,
        "ThinkProgress": 1,
        "Valley Ledger": 1,
    }
    (chart,) = found.cssselect("figure.attention svg")
    assert len(chart.cssselect("polyline.outlet")) == 5
    titles = {t.text_content() for t in chart.cssselect("title")}
    assert "Harbor Times: 2 articles" in titles and "Harbor Times, 2019-03-05: 1" in titles
    assert "2019-02-28" in chart.text_content() and "2019-03-05" in chart.text_content()


def test_matches_show_snippets_with_the_words_marked_and_reprints_named(client: FlaskClient) -> None:
    found = page(client, q='"missed opportunity"')
    assert total(found) == 3  # the wire story and its two reprints
    items = found.cssselect("ol.matches > li")
    assert len(items) == 3 and all(item.cssselect(".snippet mark") for item in items)
    # (FTS5 marks the phrase, and may end a snippet inside it; PostgreSQL marks each word)
    marked = {m.text_content().lower() for m in found.cssselect(".snippet mark")}
    assert marked <= {"missed opportunity", "missed", "opportunity"} and "missed" in " ".join(marked)
    assert len([a for a in found.cssselect("ol.matches a") if a.text_content() == "reprint"]) == 2
    collapsed = page(client, q='"missed opportunity"', reprints="collapse")
    assert total(collapsed) == 1 and not [a for a in collapsed.cssselect("a") if a.text_content() == "reprint"]


def test_filters_and_every_version(client: FlaskClient) -> None:
    assert total(page(client, q='hanoi outlet:"Harbor Times" language:de')) == 1
    assert total(page(client, q="hanoi published:[2019-03-01 TO *]")) == 3
    assert total(page(client, q="warmbier")) == 0  # only ThinkProgress's first version tells of him
    assert total(page(client, q="warmbier", versions="all")) == 1
    assert "1 version match" in page(client, q="warmbier", versions="all").text_content()


def test_results_page_through(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "PAGE_SIZE", 4)
    first = page(client, q="hanoi")
    seen = [a.get("href") for a in first.cssselect("ol.matches > li > a:first-child")]
    assert len(seen) == 4 and not first.cssselect("a[rel=prev]")
    assert "page 1 of 2" in first.text_content()
    second = lxml.html.fromstring(client.get(first.cssselect("a[rel=next]")[0].get("href")).data)
    more = [a.get("href") for a in second.cssselect("ol.matches > li > a:first-child")]
    assert len(more) == 2 and not set(more) & set(seen) and not second.cssselect("a[rel=next]")
    assert second.cssselect("ol.matches")[0].get("start") == "5"
    assert client.get("/", query_string={"q": "hanoi", "page": "0"}).status_code == 400
    assert client.get("/", query_string={"q": "hanoi", "page": "99999"}).status_code == 400


def test_a_url_typed_into_the_box_goes_to_the_url_lookup(client: FlaskClient) -> None:
    answer = client.get("/", query_string={"q": "http://www.example.com/never-captured"})
    assert answer.status_code == 200 and b"No capture of" in answer.data and b'id="total"' not in answer.data


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", None),  # the empty form: no search, no error
        ("   ", None),
        ('"missed opportunity', "quote is not closed"),
        ("(summit AND hanoi", "ends too early"),
        ("summit)", "not expected"),
        ("headline:summit", "unknown field headline:"),
        (" ".join(["summit"] * 10_000), "characters long"),
        (" ".join(["w"] * 1_000), "more than 200 words"),
        ("NOT summit", "only excludes"),
        ("summit published:[2019-02-30 TO *]", "not a day"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_bad_queries_get_a_400_that_says_why(client: FlaskClient, query: str, message: str | None) -> None:
    answer = client.get("/", query_string={"q": query})
    if message is None:
        assert answer.status_code == 200 and b'id="total"' not in answer.data
        return
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert message in body and "Traceback" not in body


def test_stop_words_alone_get_a_400_where_the_backend_drops_them(client: FlaskClient) -> None:
    answer = client.get("/", query_string={"q": "in AND an"})
    if b"stop words" in answer.data:  # PostgreSQL
        assert answer.status_code == 400
    else:  # FTS5 keeps every word
        assert answer.status_code == 200 and b'id="total"' in answer.data


def test_a_query_of_bytes_that_are_not_utf8_gets_a_400(client: FlaskClient) -> None:
    answer = client.get("/?q=summit%20%FF%FEhanoi")
    assert answer.status_code == 400 and b"not UTF-8" in answer.data
    assert client.get("/?q=hanoi%20%C3%A9t%C3%A9").status_code == 200  # UTF-8 (été) is fine
    assert client.get("/?q=a%00b").status_code == 400


def test_the_story_page_counts_a_reprinted_story_once_when_asked(client: FlaskClient) -> None:
    engine = client.application.extensions["newsarchive.engine"]
    with session_factory(engine).begin() as session:
        sync_story(session, StoryDefinition(name="wire-story", query='"missed opportunity" OR yongbyon'))

    def outlets(**query: str) -> dict[str, list[str]]:
        found = lxml.html.fromstring(client.get("/stories/wire-story", query_string=query).data)
        rows = found.cssselect("table.outlets tr")
        return {row[0].text_content(): [cell.text_content() for cell in row[1:-2]] for row in rows[1:]}

    assert outlets() == {"Common Dreams": ["1"], "Valley Ledger": ["1"], "Harbor Times": ["1"], "ThinkProgress": ["1"]}
    # the wire story once, under the outlet that printed it first, its two reprints counted beside it
    assert outlets(reprints="collapse") == {"Common Dreams": ["1", "2"], "ThinkProgress": ["1", "0"]}
