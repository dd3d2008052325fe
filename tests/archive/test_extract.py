"""Extraction against the labelled seed pages: every body line kept, no boilerplate line."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from archive.extract import EXTRACTOR_VERSION, extract_article
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
    assert (result.extractor, result.extractor_version) == ("trafilatura", EXTRACTOR_VERSION)


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
