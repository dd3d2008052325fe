"""Article classification by evidence: URL verdicts, URL shapes, and the decision once the page is read."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.urls import MAX_URL_LENGTH, UnparseableUrl
from archive.urlshape import (
    ARTICLE_SCORE,
    KINDS,
    LONG_TEXT,
    MIN_TEXT,
    UrlVerdict,
    article_decision,
    classify_url,
    url_shape,
)
from tests.discoveryweb import OUTLETS, FixtureOutlet
from tests.fixtureweb import load_seeds

#: (URL, is an article's, kind) as publishing systems write them.
VERDICTS = [
    ("http://x.org/2019/02/28/hanoi-summit-ends-without-a-deal/", True, "article"),  # WordPress
    ("http://x.org/world/2019/feb/28/hanoi-summit-trump-kim", True, "article"),  # month by name
    ("http://x.org/news/2019-02-28/summit-collapses-as-trump-walks-away", True, "article"),
    ("http://x.org/world/asia/summit-ends-without-deal-20190228.html", True, "article"),
    ("http://x.org/node/1234", True, "article"),  # Drupal
    ("http://x.org/review/articles/48213-trump-says-he-walked", True, "article"),
    ("http://x.org/trump-kim-summit-ends-early-no-deal-8f1a2c3b4d5e/", True, "article"),
    ("http://x.org/article.php?id=12345", True, "article"),
    ("http://x.org/larison/the-hanoi-summit-collapses/", True, "article"),  # four words, nothing else
    ("http://x.org/", False, "home"),
    ("http://x.org/index.html", False, "home"),
    ("http://x.org/politics/", False, "section"),
    ("http://x.org/node/12", False, "section"),  # two digits: not an ID
    ("http://x.org/news/summit-ends", False, "section"),
    ("http://x.org/news/hanoi-summit-ends", False, "uncertain"),  # three words only
    ("http://x.org/category/politics/", False, "taxonomy"),
    ("http://x.org/tag/north-korea-nuclear-talks-summit/", False, "taxonomy"),  # however long the slug
    ("http://x.org/authors/jane-doe-smith", False, "taxonomy"),
    ("http://x.org/taxonomy/term/123", False, "taxonomy"),
    ("http://x.org/user/45", False, "taxonomy"),
    ("http://x.org/category/politics/page/2/", False, "pagination"),
    ("http://x.org/politics?page=2", False, "pagination"),
    ("http://x.org/2019/02/28/", False, "archive"),
    ("http://x.org/news/2019/02/", False, "archive"),
    ("http://x.org/?s=hanoi", False, "search"),
    ("http://x.org/search?q=hanoi+summit", False, "search"),
    ("http://x.org/feed/", False, "listing"),
    ("http://x.org/2019/02/28/hanoi-summit-ends-without-a-deal/feed/", False, "listing"),  # a post's comments
    ("http://x.org/?feed=rss2", False, "listing"),
    ("http://x.org/sitemap.xml.gz", False, "listing"),
    ("http://x.org/feed.json", False, "listing"),
    ("http://x.org/wp-content/uploads/2019/02/hanoi-summit-talks-1024x683.jpg", False, "asset"),
    ("http://x.org/files/2019-02-28-hanoi-summit-joint-statement-text.pdf", False, "asset"),
    ("http://x.org/about/", False, "service"),
    ("http://x.org/terms-of-service/", False, "service"),
    ("http://x.org/wp-login.php", False, "service"),
    ("mailto:desk@x.org", False, "service"),
    ("http://x.org/wp-json/wp/v2/posts/123", False, "structure"),  # courlan's type filter
    ("http://x.org/archives/hanoi-summit-ends-without-a-deal", False, "taxonomy"),  # courlan's navigation filter
]

SHAPES = [
    ("http://x.org/news/2019/02/28/major-failure-north-korea-summit", "/news/{yyyy}/{mm}/{dd}/{slug}"),
    ("http://x.org/world/2019/feb/28/hanoi-summit-trump-kim", "/world/{yyyy}/{mon}/{dd}/{slug}"),
    ("http://x.org/news/2019-02-28/summit-collapses-as-trump-walks-away", "/news/{yyyy}-{mm}-{dd}/{slug}"),
    ("http://x.org/world/summit-ends-without-deal-20190228.html", "/world/{slug}-{yyyymmdd}.html"),
    ("http://x.org/trump-kim-summit-ends-early-8f1a2c3b4d5e/", "/{slug}-{id}"),
    ("http://x.org/node/1234", "/node/{id}"),
    ("http://x.org/story-123", "/story-{id}"),
    ("http://x.org/World-News/hanoi-summit-ends", "/world-news/{slug}"),
    ("http://x.org/article.php?id=12345&ref=home", "/article.php?id={id}&ref={value}"),
    ("http://x.org/", "/"),
    ("http://x.org/" + "a" * 60 + "/x", "/{text}/x"),
    ("http://x.org" + "/a" * 40, "/" + "/".join(["a"] * 16) + "/…"),
]


@pytest.mark.parametrize(("url", "is_article", "kind"), VERDICTS)
def test_url_verdicts(url: str, is_article: bool, kind: str) -> None:
    verdict = classify_url(url)
    assert (verdict.is_article, verdict.kind) == (is_article, kind), verdict
    assert verdict.reasons
    assert (verdict.score >= ARTICLE_SCORE) == verdict.is_article


@pytest.mark.parametrize(("url", "shape"), SHAPES)
def test_url_shapes(url: str, shape: str) -> None:
    assert url_shape(url) == shape


def test_seed_articles_are_articles() -> None:
    """The three saved articles' URLs, each from a different publishing system."""
    for seed in load_seeds():
        assert classify_url(seed.url).is_article, seed.url


def test_article_evidence_is_named() -> None:
    verdict = classify_url("http://x.org/news/2019/02/28/major-failure-north-korea-summit-cut-short/")
    assert verdict.reasons == ("date in the path (2019/02/28)", "slug of 7 words")
    assert json.loads(json.dumps(verdict.to_dict())) == {
        "is_article": True,
        "score": 4.0,
        "kind": "article",
        "reasons": ["date in the path (2019/02/28)", "slug of 7 words"],
    }


@pytest.mark.parametrize("outlet", OUTLETS, ids=lambda o: o.name)
def test_every_fixture_article_in_and_every_other_url_out(outlet: FixtureOutlet) -> None:
    assert outlet.articles and outlet.non_articles
    missed = {url: classify_url(url) for url in outlet.articles if not classify_url(url).is_article}
    taken = {url for url in outlet.non_articles if classify_url(url).is_article}
    assert missed == {}
    assert taken == outlet.decoys  # only a page can tell these apart (the crawl's decision, after extraction)


@pytest.mark.parametrize("outlet", OUTLETS, ids=lambda o: o.name)
def test_article_shapes_are_few_and_never_a_non_article_shape(outlet: FixtureOutlet) -> None:
    """What learning per outlet relies on: an outlet's articles share a few shapes that its other pages do not have."""
    article_shapes = {url_shape(url) for url in outlet.articles}
    assert len(article_shapes) < len(outlet.articles)
    assert article_shapes.isdisjoint(url_shape(url) for url in outlet.non_articles - outlet.decoys)


@pytest.mark.parametrize(
    "url", ["http://x.org:99999/a", "http://[::1/a", "/relative", "http://x.org/a\x00b", "http://x.org/" + "a" * 3000]
)
def test_unparseable_urls_raise_the_archive_error(url: str) -> None:
    with pytest.raises(UnparseableUrl):
        classify_url(url)
    with pytest.raises(UnparseableUrl):
        url_shape(url)


def test_hostile_urls_cost_microseconds() -> None:
    """URLs at the length limit, of many segments, tokens and parameters, each new (no cache hit)."""
    room = MAX_URL_LENGTH - len("http://x.org/")
    urls = [
        "http://x.org/" + ("a-1-" * room)[: room - 4] + f"{i:04}"
        if i % 4 == 0
        else "http://x.org/" + ("2019/" * room)[: room - 5] + f"{i:05}"
        if i % 4 == 1
        else f"http://x.org/{i}?" + "&".join(f"k{j}=v" for j in range(room // 6))[: room - 8]
        if i % 4 == 2
        else "http://x.org/" + ("é-" * room)[: room // 2 - 4] + f"{i:04}"
        for i in range(400)
    ]
    start = time.process_time()
    for url in urls:
        verdict = classify_url(url)
        assert verdict.kind in KINDS
        assert url_shape(url).startswith("/")
    assert (time.process_time() - start) / len(urls) < 0.005


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_any_path_gets_a_verdict_or_the_archive_error(path: str) -> None:
    url = "http://x.org/" + path
    try:
        verdict = classify_url(url)
        shape = url_shape(url)
    except UnparseableUrl:
        return
    assert isinstance(verdict, UrlVerdict)
    assert verdict.kind in KINDS
    assert verdict.is_article == (verdict.kind == "article")
    assert shape.startswith("/")


ARTICLE_URL = classify_url("http://x.org/2019/02/28/hanoi-summit-ends-without-a-deal/")
SECTION_URL = classify_url("http://x.org/politics/")
TAG_URL = classify_url("http://x.org/tag/north-korea/")


@pytest.mark.parametrize(
    ("verdict", "evidence", "is_article", "rule"),
    [
        (ARTICLE_URL, {"jsonld_types": ["NewsArticle"], "has_published_date": True}, True, "declared an article"),
        (SECTION_URL, {"og_types": ["article"], "has_published_date": True}, True, "declared an article"),
        (ARTICLE_URL, {"jsonld_types": ["http://schema.org/ReportageNewsArticle"]}, True, "declared an article"),
        (
            ARTICLE_URL,
            {"jsonld_types": ["NewsArticle"], "text_length": MIN_TEXT - 1},
            False,
            "declared an article, but",
        ),
        (SECTION_URL, {"og_types": ["article"]}, False, "declared an article, but"),
        (ARTICLE_URL, {"has_published_date": True}, True, "declares nothing: an article's URL"),
        (ARTICLE_URL, {"text_length": LONG_TEXT}, False, "declares nothing: needs"),
        (ARTICLE_URL, {"has_published_date": True, "text_length": LONG_TEXT - 1}, False, "declares nothing: needs"),
        (SECTION_URL, {"has_published_date": True}, False, "declares nothing: needs"),
        (TAG_URL, {"og_types": ["article"], "has_published_date": True}, False, "URL of a taxonomy page"),
        (TAG_URL, {"jsonld_types": ["NewsArticle"], "has_published_date": True}, True, "declared an article"),
        (ARTICLE_URL, {"jsonld_types": ["CollectionPage"], "og_types": ["article"]}, False, "the page declares"),
        (ARTICLE_URL, {"jsonld_types": ["CollectionPage", "NewsArticle"]}, True, "declared an article"),
    ],
)
def test_article_decision(verdict: UrlVerdict, evidence: dict[str, object], is_article: bool, rule: str) -> None:
    evidence = {"text_length": LONG_TEXT, **evidence}
    decision = article_decision(verdict, **evidence)  # type: ignore[arg-type]
    assert decision["is_article"] is is_article
    assert decision["rule"].startswith(rule)
    assert json.loads(json.dumps(decision)) == decision
    assert decision["url"] == verdict.to_dict()
    assert decision["page"]["text_length"] == evidence["text_length"]


def test_article_decision_ignores_junk_types() -> None:
    decision = article_decision(
        ARTICLE_URL, og_types=["", "  Article ", None], jsonld_types=[None, 3, "", "schema:NewsArticle"]
    )  # type: ignore[list-item]
    assert decision["page"]["og_types"] == ["article"]
    assert decision["page"]["jsonld_types"] == ["NewsArticle"]
    assert "JSON-LD NewsArticle" in decision["reasons"]
