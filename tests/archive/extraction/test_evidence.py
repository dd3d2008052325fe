"""What a page states about itself, read from its tree: types, date, its own article body."""

from __future__ import annotations

import json

import pytest
from trafilatura import load_html

from archive.extraction.evidence import MAX_BODY_CHARS, read_evidence

URL = "https://news.example/2019/02/28/summit-ends"
BODY = "Talks collapsed early in Hanoi. " * 20


def page(*json_ld: object, head: str = "", body: str = "<p>Talks collapsed early in Hanoi.</p>") -> str:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(d)}</script>' for d in json_ld)
    return f"<html><head>{head}{scripts}</head><body><article>{body}</article></body></html>"


def evidence_of(html: str, url: str = URL):
    return read_evidence(load_html(html), url)


def test_types_come_from_og_type_json_ld_graph_and_microdata() -> None:
    graph = {"@graph": [{"@type": "WebPage"}, {"@type": ["NewsArticle", "ReportageNewsArticle"]}]}
    html = page(graph, head='<meta property="og:type" content="Article">').replace(
        "<article>", '<article itemscope itemtype="https://schema.org/BlogPosting">'
    )
    evidence = evidence_of(html)
    assert evidence.og_type == "article"
    assert evidence.schema_types == ("WebPage", "NewsArticle", "ReportageNewsArticle", "BlogPosting")
    assert evidence.says_article


def test_nested_objects_are_not_declared_types() -> None:
    evidence = evidence_of(page({"@type": "WebPage", "author": {"@type": "Person", "name": "A. Writer"}}))
    assert evidence.schema_types == ("WebPage",)
    assert not evidence.says_article


def test_the_article_body_of_this_page_is_read_as_plain_text() -> None:
    article = {"@type": "NewsArticle", "url": URL, "articleBody": f"<p>{BODY}</p><p>Second &amp; last.</p>"}
    evidence = evidence_of(page(article))
    assert evidence.body is not None
    assert evidence.body.startswith("Talks collapsed") and "Second & last." in evidence.body
    assert "<p>" not in evidence.body


def test_among_several_article_bodies_only_the_one_of_this_url_counts() -> None:
    mine = {"@type": "NewsArticle", "@id": f"{URL}#article", "articleBody": BODY}
    other = {"@type": "NewsArticle", "url": "https://news.example/2019/02/27/other", "articleBody": "Other story."}
    assert evidence_of(page(other, mine)).body == BODY
    assert evidence_of(page(other, {**mine, "@id": "https://news.example/third"})).body is None


def test_a_body_claiming_another_url_or_too_long_is_refused_with_a_warning() -> None:
    other = evidence_of(page({"@type": "NewsArticle", "url": "https://news.example/sport/cup", "articleBody": BODY}))
    assert other.body is None and "another URL" in other.warnings[0]
    huge = evidence_of(page({"@type": "NewsArticle", "articleBody": "x" * (MAX_BODY_CHARS + 1)}))
    assert huge.body is None and "not used" in huge.warnings[0]


@pytest.mark.parametrize(
    ("head", "json_ld", "expected"),
    [
        ('<meta property="article:published_time" content="2019-02-28T09:45:00-05:00">', None, "2019-02-28"),
        ("", {"@type": "NewsArticle", "datePublished": "2019-02-27"}, "2019-02-27"),
        ('<meta name="pubdate" content="February 28, 2019">', None, None),  # not ISO: left to htmldate
    ],
)
def test_the_stated_publication_date(head: str, json_ld: dict | None, expected: str | None) -> None:
    html = page(*([json_ld] if json_ld else []), head=head)
    assert evidence_of(html).published == expected


@pytest.mark.parametrize(
    "script",
    ['{"@type": "NewsArticle", "articleBody": "cut', "[" * 100_000, '{"@type": 5, "articleBody": ["x"]}'],
    ids=["truncated", "deep", "wrong-types"],
)
def test_broken_json_ld_states_nothing(script: str) -> None:
    html = f'<html><head><script type="application/ld+json">{script}</script></head><body><p>x</p></body></html>'
    evidence = evidence_of(html)
    assert (evidence.body, evidence.published) == (None, None)
