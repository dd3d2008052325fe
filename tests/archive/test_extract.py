"""Extraction against the labelled seed pages: every body line kept, no boilerplate line."""

from __future__ import annotations

import json
import pickle
import re
import time
from datetime import datetime, timezone

import pytest

from archive.extract import EXTRACTOR_VERSION, Extraction, extract_article
from archive.extraction.boilerplate import is_boilerplate
from archive.format import ArticleRecord, article_payload, parse_metadata
from tests.fixtureweb.data import Seed, load_seeds
from tests.fixtureweb.server import SITE_DIR

SEEDS = load_seeds()
FETCHED = datetime(2019, 3, 1, 12, 0, tzinfo=timezone.utc)


def page_html(seed: Seed) -> bytes:
    path = SITE_DIR / seed.host / seed.url.split("/", 3)[3].strip("/") / "index.html"
    return path.read_bytes()


def normalized(line: str) -> str:
    return " ".join(line.split())


@pytest.mark.parametrize("seed", SEEDS, ids=[s.outlet for s in SEEDS])
def test_body_lines_kept_and_boilerplate_dropped(seed: Seed, record_property) -> None:
    result = extract_article(page_html(seed), seed.url, FETCHED)
    assert result is not None
    out = [normalized(line) for line in result.text.splitlines() if line.strip()]
    body = [normalized(line) for line in seed.body_lines]
    boilerplate = [normalized(line) for line in seed.labelled("boilerplate")]
    # the headline and standfirst are labelled metadata: neither body nor boilerplate
    metadata = {normalized(line) for label in ("title", "description", "byline") for line in seed.labelled(label)}
    scored = [line for line in out if line not in metadata]
    kept = [line for line in body if line in out]
    leaked = [line for line in boilerplate if line in out]
    precision = sum(line in body for line in scored) / len(scored)
    recall = len(kept) / len(body)
    record_property("precision", precision)
    record_property("recall", recall)
    print(f"{seed.outlet}: precision {precision:.3f}, recall {recall:.3f} ({len(body)} body lines)")
    assert leaked == []
    assert kept == body
    assert precision == 1.0


@pytest.mark.parametrize("seed", SEEDS, ids=[s.outlet for s in SEEDS])
def test_metadata(seed: Seed) -> None:
    result = extract_article(page_html(seed), seed.url, FETCHED)
    assert result is not None
    assert result.title == seed.title
    assert result.author == seed.author
    assert result.published == seed.date
    assert result.sitename == seed.sitename
    assert result.language == seed.language
    assert result.canonical_url == seed.url
    assert (result.extractor, result.extractor_version) == ("newsarchive", EXTRACTOR_VERSION)


def test_a_date_after_the_fetch_is_refused() -> None:
    seed = SEEDS[0]
    result = extract_article(page_html(seed), seed.url, datetime(2019, 2, 27, tzinfo=timezone.utc))
    assert result is not None
    assert result.published is None
    assert result.warnings and "after the fetch" in result.warnings[0]


def test_licence_is_metadata_not_text() -> None:
    seed = SEEDS[0]  # Common Dreams publishes under CC BY-NC-ND 3.0
    result = extract_article(page_html(seed), seed.url, FETCHED)
    assert result is not None
    assert result.license == "CC BY-NC-ND 3.0"
    assert "Creative Commons" not in result.text


@pytest.mark.parametrize(
    "html",
    [b"", b"<html><body><script>render()</script></body></html>", b"\x00\x01\x02 binary"],
)
def test_pages_without_article_text_give_none(html: bytes) -> None:
    assert extract_article(html, "http://example.com/x", FETCHED) is None


# -- how a result was made, and what the page says it is ----------------------------------------------------------

PARAGRAPHS = [
    "The city council approved the new transit budget on Tuesday after a debate that lasted well into the night.",
    "Under the plan, bus service on the three busiest routes will run every ten minutes from six in the morning.",
    "Council member Ana Ruiz said the vote was the result of two years of meetings with riders and drivers alike.",
    "Opponents argued that the cost of the plan would fall on property owners, and promised to challenge it.",
    "The transit authority expects the first new buses to arrive in the spring, with the full schedule by summer.",
    "Riders who spoke at the meeting said they had waited years for service that matched the size of the city.",
]


def news_page(
    paragraphs: list[str],
    *,
    inside: str = "",
    after: str = "",
    json_ld: str | None = None,
    meta: str = "",
) -> str:
    """A news page as outlets write them: chrome around an article element holding the story."""
    script = f'<script type="application/ld+json">{json_ld}</script>' if json_ld is not None else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Council approves transit budget</title>'
        f'<meta property="og:type" content="article">{meta}{script}</head><body>'
        '<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav></header>'
        f"<main><article><h1>Council approves transit budget</h1>{body}{inside}</article>{after}</main>"
        "<footer><p>Copyright 2019 The Valley Ledger. All rights reserved.</p></footer></body></html>"
    )


def ld_article(body: str, url: str = "https://www.valleyledger.example/news/council-transit-budget", **more) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Council approves transit budget"}
    data.update({"articleBody": body, "url": url, **more})
    return json.dumps(data)


PAGE_URL = "https://www.valleyledger.example/news/council-transit-budget"


def extract(html: str | bytes) -> Extraction:
    result = extract_article(html, PAGE_URL, FETCHED)
    assert result is not None
    return result


HEADLINE = "Council approves transit budget"


def lines_of(result: Extraction) -> list[str]:
    """The text's lines but the headline (trafilatura keeps an article's h1, a publisher's body does not)."""
    return [line.strip() for line in result.text.splitlines() if line.strip() and line.strip() != HEADLINE]


@pytest.mark.parametrize("seed", SEEDS, ids=[s.outlet for s in SEEDS])
def test_declared_types_are_the_pages_own(seed: Seed) -> None:
    html = page_html(seed).decode()
    declared = set()
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S):
        value = json.loads(block).get("@type")
        declared.update(value if isinstance(value, list) else [value])
    result = extract_article(page_html(seed), seed.url, FETCHED)
    assert result is not None
    assert result.og_type == re.search(r'property="og:type" content="([^"]+)"', html)[1]
    assert declared and declared <= set(result.schema_types)
    assert result.method in {"structured-data", "heuristics", "fallback"}


def test_the_publishers_body_trims_what_it_does_not_vouch_for() -> None:
    teaser_box = (
        '<div class="promo-box"><p>Our reporters cover the city council every week, and you can find all '
        "of their stories on council decisions, budgets and elections in one place on our council page.</p></div>"
    )
    page = news_page(PARAGRAPHS, inside=teaser_box, json_ld=ld_article("\n\n".join(PARAGRAPHS)))
    result = extract(page)
    assert result.method == "structured-data"
    assert lines_of(result) == PARAGRAPHS


def test_without_structured_data_the_heuristics_decide() -> None:
    result = extract(news_page(PARAGRAPHS * 2))
    assert result.method == "heuristics"
    assert lines_of(result) == PARAGRAPHS * 2


def test_an_article_body_of_another_url_is_not_trusted() -> None:
    other = ld_article(
        "A different story about a football match. " * 30, url="https://www.valleyledger.example/sport/cup"
    )
    result = extract(news_page(PARAGRAPHS * 2, json_ld=other))
    assert result.method == "heuristics"
    assert "football" not in result.text
    assert lines_of(result) == PARAGRAPHS * 2
    assert any("another URL" in warning for warning in result.warnings)


def test_an_article_body_of_a_megabyte_is_not_trusted() -> None:
    huge = ld_article("Padding words that no reader ever sees on the page. " * 20_000)
    result = extract(news_page(PARAGRAPHS * 2, json_ld=huge))
    assert result.method == "heuristics"
    assert "Padding words" not in result.text
    assert result.warnings


@pytest.mark.parametrize(
    "json_ld",
    ['{"@type": "NewsArticle", "articleBody": "The city council', "[" * 50_000 + "]" * 50_000, "not json at all"],
    ids=["truncated", "deeply-nested", "malformed"],
)
def test_broken_structured_data_leaves_the_heuristics(json_ld: str) -> None:
    result = extract(news_page(PARAGRAPHS * 2, json_ld=json_ld))
    assert result.method == "heuristics"
    assert lines_of(result) == PARAGRAPHS * 2


def test_the_stated_publication_date_is_used() -> None:
    # a date in the text that an exhaustive search could prefer: the page states its own
    page = news_page([*PARAGRAPHS, "The previous budget was approved on 12 March 2017."], meta="").replace(
        "</head>", '<meta property="article:published_time" content="2019-02-26T08:00:00+01:00"></head>'
    )
    assert extract(page).published == "2019-02-26"


def test_a_stated_date_after_the_fetch_is_refused() -> None:
    page = news_page(PARAGRAPHS, json_ld=ld_article("\n".join(PARAGRAPHS), datePublished="2019-06-01T10:00:00Z"))
    result = extract(page)
    assert result.published is None
    assert any("after the fetch" in warning for warning in result.warnings)


# -- news boilerplate ---------------------------------------------------------------------------------------------

BOILERPLATE_LINES = [
    "Read more: Mayor promises new bike lanes before the election",
    "Advertisement",
    "Photo: Getty Images",
    "Sign up for our morning newsletter and get the day's news in your inbox.",
    "Share this article",
    "Related stories",
    "© 2019 The Valley Ledger. All rights reserved.",
    "Ana Ruiz at the meeting. © AFP / John Smith",
    "Follow The Valley Ledger on Twitter and Instagram @valleyledger",
    "For breaking news download the Valley Ledger app for iOS and Android.",
    "Submit your letter to the editor via this form.",
    "If you're seeing this message but you're already a subscriber, log in for access to this story.",
    "This post contains affiliate links: we may earn a commission on purchases.",
    "4 min read",
    "Lesen Sie auch die folgenden Beiträge:",
    "Du musst eingeloggt sein, um Kommentare zu schreiben!",
]


def test_news_boilerplate_inside_the_article_is_dropped() -> None:
    mixed = [PARAGRAPHS[0], BOILERPLATE_LINES[0], PARAGRAPHS[1], BOILERPLATE_LINES[1], *PARAGRAPHS[2:4]]
    mixed += [BOILERPLATE_LINES[2], *PARAGRAPHS[4:], *BOILERPLATE_LINES[3:]]
    result = extract(news_page(mixed))
    assert lines_of(result) == PARAGRAPHS


@pytest.mark.parametrize("line", BOILERPLATE_LINES)
def test_boilerplate_wordings(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Read the full report, the council said, before judging the plan.",
        "The newsletter, which the council sends to every household, listed the new routes on its front page "
        "and explained in detail why the routes were chosen, which stops were moved and what the fares would be "
        "for students and pensioners.",
        "Related parties must disclose their interests, the auditor said.",
        "The copyright lawsuit was filed on Monday by the authors of the guide.",
        "The mayor said he would follow up on Twitter after the vote.",
        "In a letter to the editor, the mayor defended the plan.",
        "Unter diesem Motto findet am Samstag eine Demonstration statt, die wir unterstützen.",
    ],
)
def test_body_lines_that_mention_boilerplate_words_are_kept(line: str) -> None:
    assert not is_boilerplate(line)


def test_a_page_whose_unclosed_nav_holds_the_article_still_gives_it() -> None:
    """An unclosed ``<nav>`` swallows the rest of the page: removing menus must not remove the story."""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    page = f"<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a><div>{body}</div></body></html>"
    result = extract_article(page, PAGE_URL, FETCHED)
    assert result is not None
    assert all(p in result.text for p in PARAGRAPHS)


def test_a_lead_stated_as_the_body_is_put_back_where_the_page_shows_it() -> None:
    lead = "A vote late on Tuesday ended two years of debate: the city's buses will run every ten minutes by summer."
    page = news_page(PARAGRAPHS, json_ld=ld_article(lead)).replace(
        "<h1>Council approves transit budget</h1>",
        f"<h1>Council approves transit budget</h1><div class='teaser'>{lead}</div>",
    )
    result = extract(page)
    assert lines_of(result) == [lead, *PARAGRAPHS]
    assert result.method == "structured-data"


def test_the_standfirst_the_description_announces_is_put_back_where_the_page_shows_it() -> None:
    standfirst = "Buses every ten minutes from spring: what the new transit budget means for the city's riders."
    page = news_page(PARAGRAPHS, meta=f'<meta name="description" content="{standfirst[:75]}…">').replace(
        "<h1>Council approves transit budget</h1>",
        f"<h1>Council approves transit budget</h1><div class='article-teaser'><p>{standfirst}</p></div>",
    )
    assert lines_of(extract(page)) == [standfirst, *PARAGRAPHS]


def test_a_description_shown_only_below_the_article_is_not_its_standfirst() -> None:
    teaser = "Buses every ten minutes from spring: what the new transit budget means for the city's riders."
    page = news_page(
        PARAGRAPHS, meta=f'<meta name="description" content="{teaser}">', after=f"<section><p>{teaser}</p></section>"
    )
    assert lines_of(extract(page)) == PARAGRAPHS


def test_the_standfirst_the_markup_names_below_the_headline_is_put_back() -> None:
    standfirst = "Buses every ten minutes from spring: what the new transit budget means for the city's riders."
    page = news_page(PARAGRAPHS).replace(
        "<h1>Council approves transit budget</h1>",
        f"<h1>Council approves transit budget</h1><div class='article-teaser'><p>{standfirst}</p></div>",
    )
    assert lines_of(extract(page)) == [standfirst, *PARAGRAPHS]


def test_other_stories_headlines_inside_the_article_are_dropped() -> None:
    teasers = (
        "<h3><a href='/sport/cup-final'>Valley United reach the cup final after a late winner</a></h3>"
        "<p><strong><a href='/news/bike-lanes'>Mayor promises new bike lanes before the election</a></strong></p>"
    )
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:3]) + teasers + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[3:])
    page = news_page([]).replace("</h1>", "</h1>" + body)
    assert lines_of(extract(page)) == PARAGRAPHS


def test_a_short_article_that_is_most_of_its_page_is_not_extracted_twice() -> None:
    result = extract(news_page(PARAGRAPHS[:3]))
    assert (lines_of(result), result.method) == (PARAGRAPHS[:3], "heuristics")


def test_a_short_text_of_an_article_page_showing_much_more_gets_the_full_cascade() -> None:
    elsewhere = (
        "<section><p>" + " ".join(f"Listing entry number {n} of the city guide." for n in range(100)) + "</p></section>"
    )
    result = extract(news_page(PARAGRAPHS[:3], after=elsewhere))
    assert result.method == "fallback"
    assert all(paragraph in result.text for paragraph in PARAGRAPHS[:3])


# -- bad input ----------------------------------------------------------------------------------------------------


def within(seconds: float, html: str | bytes) -> Extraction | None:
    start = time.perf_counter()
    result = extract_article(html, PAGE_URL, FETCHED)
    assert time.perf_counter() - start < seconds
    return result


def test_a_page_of_tens_of_megabytes_is_refused_at_once() -> None:
    html = news_page(PARAGRAPHS * 40_000)
    assert len(html) > 20_000_000
    assert within(1.0, html) is None
    assert within(1.0, html.encode()) is None


def test_a_deeply_nested_page_gives_a_result_or_none_in_bounded_time() -> None:
    html = "<html><body>" + "<div>" * 100_000 + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</div>" * 100_000
    result = within(10.0, html)
    assert result is None or result.text


@pytest.mark.parametrize(
    "html",
    [
        news_page(PARAGRAPHS).encode("utf-16"),
        news_page(PARAGRAPHS).replace('charset="utf-8"', 'charset="x-unknown-charset"').encode("latin-1", "replace"),
        news_page(PARAGRAPHS)[:-400],
    ],
    ids=["utf-16", "unknown-encoding", "truncated"],
)
def test_odd_encodings_and_truncated_pages_still_give_the_article(html: str | bytes) -> None:
    result = within(5.0, html)
    assert result is not None
    assert PARAGRAPHS[0] in result.text


@pytest.mark.parametrize("html", [b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100, "\x00\x01" * 5000])
def test_binary_input_gives_none(html: str | bytes) -> None:
    assert within(1.0, html) is None


# -- the result as a record ---------------------------------------------------------------------------------------


def test_the_result_crosses_processes_and_becomes_a_record() -> None:
    result = extract(news_page(PARAGRAPHS, json_ld=ld_article("\n".join(PARAGRAPHS))))
    assert pickle.loads(pickle.dumps(result)) == result
    payload = json.loads(json.dumps(article_payload("Valley Ledger", result)))
    record = parse_metadata(payload)
    assert isinstance(record, ArticleRecord)
    assert record.extraction == result
    assert (result.schema_types, result.og_type) == (["NewsArticle"], "article")


def test_a_record_written_before_the_new_fields_still_parses() -> None:
    payload = article_payload(None, Extraction(text="Body.", extractor="trafilatura", extractor_version="2.3.1"))
    for name in ("method", "og_type", "schema_types"):
        del payload[name]
    record = parse_metadata(payload)
    assert isinstance(record, ArticleRecord)
    assert (record.extraction.method, record.extraction.og_type, record.extraction.schema_types) == (
        "unknown",
        None,
        [],
    )
