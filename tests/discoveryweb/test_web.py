"""Tests of the discovery outlets through a real socket: what each URL answers, that article pages say
they are articles and other pages do not, and that the page evidence decides every page as the outlet means."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from urllib.error import HTTPError
from urllib.request import OpenerDirector, ProxyHandler, build_opener

import extruct
import pytest
from lxml import html as lxml_html

from archive.extract import extract_article
from archive.urlshape import MIN_TEXT, article_decision, classify_url
from crawler.discovery import in_scope, listing_kind
from tests.discoveryweb import OUTLETS, DiscoveryWeb, FixtureOutlet, build
from tests.fixtureweb import load_seeds

FETCHED = datetime(2019, 3, 3, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def web() -> Iterator[DiscoveryWeb]:
    with DiscoveryWeb() as served:
        yield served


@pytest.fixture(scope="module")
def opener(web: DiscoveryWeb) -> OpenerDirector:
    return build_opener(ProxyHandler({"http": web.url}))


def evidence(url: str, body: bytes) -> dict[str, object]:
    """What a page says about itself, read as the crawl will read it."""
    meta = extruct.extract(body, base_url=url, syntaxes=["json-ld", "opengraph"])
    og = [value for item in meta["opengraph"] for name, value in item["properties"] if name == "og:type"]
    types: list[str] = []
    for item in meta["json-ld"]:
        for node in [item, *item.get("@graph", [])]:
            found = node.get("@type", [])
            types += found if isinstance(found, list) else [found]
    extraction = extract_article(body, url, FETCHED)
    return {
        "og_types": og,
        "jsonld_types": types,
        "has_published_date": bool(extraction and extraction.published),
        "text_length": len(extraction.text) if extraction else 0,
    }


def test_outlets_are_disjoint_and_within_their_scope() -> None:
    everything = build().responses
    seen: set[str] = set()
    for outlet in OUTLETS:
        kinds = [outlet.articles, outlet.pages, outlet.listings, outlet.others]
        assert sum(map(len, kinds)) == len(frozenset().union(*kinds))
        assert all(in_scope(url, outlet.scope) for url in outlet.articles)
        assert not outlet.articles & seen
        seen |= outlet.articles
        assert outlet.articles | outlet.non_articles <= everything.keys()
    assert len(seen) >= 40


@pytest.mark.parametrize("outlet", OUTLETS, ids=lambda o: o.name)
def test_every_url_answers_as_filed(opener: OpenerDirector, outlet: FixtureOutlet) -> None:
    for url in sorted(outlet.articles | outlet.pages):
        with opener.open(url, timeout=10) as response:
            assert (response.status, response.geturl()) == (200, url)
            assert response.headers["Content-Type"].startswith("text/html")
            assert listing_kind(response.read()) is None
    for url in sorted(outlet.listings):
        with opener.open(url, timeout=10) as response:
            assert listing_kind(response.read()) in ("feed", "sitemap"), url


def test_bare_domain_redirects_to_www(opener: OpenerDirector) -> None:
    observer = next(o for o in OUTLETS if o.name == "The Observer")
    with opener.open(observer.homepage, timeout=10) as response:
        assert response.geturl() == observer.scope
    article = sorted(observer.articles)[0]
    with opener.open(article.replace("//www.", "//"), timeout=10) as response:
        assert response.geturl() == article


def test_unknown_paths(opener: OpenerDirector) -> None:
    with opener.open("http://www.plain-chronicle.org/feed/", timeout=10) as response:  # never a 404 there
        assert response.status == 200
        assert b"Page not found" in response.read()
    with pytest.raises(HTTPError) as raised:
        opener.open("http://www.wp-ledger.org/no-such-page/", timeout=10)
    raised.value.close()
    assert raised.value.code == 404


def test_articles_are_varied_texts_from_the_seeds() -> None:
    seed_lines = {line for seed in load_seeds() for line in seed.body_lines}
    texts = set()
    for outlet in OUTLETS:
        for url in outlet.articles:
            tree = lxml_html.fromstring(build().responses[url].body)
            paragraphs = [p.text_content() for p in tree.xpath("//div[@class='entry-content']/p")]
            assert len(paragraphs) >= 4 and set(paragraphs) <= seed_lines, url
            texts.add(tuple(paragraphs))
    assert len(texts) >= 12  # excerpts and orders differ between articles


@pytest.mark.parametrize("outlet", OUTLETS, ids=lambda o: o.name)
def test_pages_declare_what_they_are_and_the_decision_follows(outlet: FixtureOutlet) -> None:
    responses = build().responses
    for url in sorted(outlet.articles | outlet.pages):
        found = evidence(url, responses[url].body)
        decision = article_decision(classify_url(url), **found)  # type: ignore[arg-type]
        if url in outlet.articles:
            assert found["og_types"] == ["article"] and "NewsArticle" in found["jsonld_types"], url
            assert found["has_published_date"] and found["text_length"] > MIN_TEXT, url
            assert decision["is_article"], decision
        else:
            assert "article" not in found["og_types"] and "NewsArticle" not in found["jsonld_types"], url
            assert not decision["is_article"], decision
