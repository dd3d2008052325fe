"""The standfirst the page's markup names below its headline."""

from __future__ import annotations

import pytest
from lxml.html import HtmlElement, fromstring

from archive.extraction.lead import marked_lead
from archive.extraction.visible import VisibleText

TITLE = "Council approves transit budget | The Valley Ledger"
HEADLINE = "Council approves transit budget"
LEAD = "Buses every ten minutes from spring: what the new transit budget means for the city's riders."
BODY = [
    "The city council approved the new transit budget on Tuesday after a debate that lasted into the night.",
    "Under the plan, bus service on the three busiest routes will run every ten minutes from six in the morning.",
]


def page(header: str, *, headline: str = HEADLINE, before: str = "") -> HtmlElement:
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY)
    return fromstring(
        f"<html><head><title>{TITLE}</title></head><body>{before}<article><header><h1>{headline}</h1>{header}"
        f"</header><div class='article-body'>{paragraphs}</div></article></body></html>"
    )


def lead_of(tree: HtmlElement, lines: list[str] = BODY) -> list[str]:
    visible = VisibleText(tree)
    return marked_lead(visible.body, [TITLE], lines, lambda: visible.key)


@pytest.mark.parametrize(
    "header",
    [
        f"<p class='article-lead'>{LEAD}</p>",
        f"<div class='c-page-intro__copy'>{LEAD}</div>",
        f"<h2 class='dek'>{LEAD}</h2>",
        f"<div class='teaser-text' itemprop='description'><p>{LEAD}</p></div>",
        f"<p class='byline'>By Ana Ruiz</p><p class='standFirst'>{LEAD}</p>",
    ],
    ids=["lead", "intro", "dek", "teaser-description", "after-a-byline"],
)
def test_the_block_named_a_standfirst_below_the_headline_is_put_first(header: str) -> None:
    assert lead_of(page(header)) == [LEAD, *BODY]


def test_the_standfirst_goes_after_the_lines_the_page_shows_before_it() -> None:
    assert lead_of(page(f"<p class='lead'>{LEAD}</p>"), [HEADLINE, *BODY]) == [HEADLINE, LEAD, *BODY]


@pytest.mark.parametrize(
    "header",
    [
        f"<p class='lead'>{LEAD}</p>".replace("<p class='lead'>", "<p class='lead'><a href='/other'>") + "</a>",
        f"<ul><li class='teaser'>{LEAD}</li></ul>",
        f"<div class='author-description'>{LEAD}</div>",
        f"<figure><figcaption class='summary'>{LEAD}</figcaption></figure>",
        f"<div class='lead-image'>{LEAD}</div>",
        f"<div class='intro'><time>Tuesday</time> {LEAD}</div>",
        "<p class='lead'>Too short to be one.</p>",
        f"<p>{'A long kicker paragraph before the lead, as long as a whole paragraph of text. ' * 5}</p>"
        f"<p class='lead'>{LEAD}</p>",
    ],
    ids=["linked", "list-item", "author-bio", "caption", "lead-picture", "with-a-date", "too-short", "too-far"],
)
def test_blocks_that_are_not_a_standfirst_are_not_put_in(header: str) -> None:
    assert lead_of(page(header)) == BODY


def test_a_headline_that_does_not_start_the_title_is_the_sites_name_not_the_articles() -> None:
    """A blog shows its name as its h1, and its tagline below: not a standfirst."""
    assert lead_of(page(f"<p class='description'>{LEAD}</p>", headline="The Valley Ledger")) == BODY


def test_a_standfirst_already_in_the_text_is_not_put_in_twice() -> None:
    assert lead_of(page(f"<p class='lead'>{LEAD}</p>"), [LEAD, *BODY]) == [LEAD, *BODY]


def test_a_page_without_a_body_or_lines_is_left_alone() -> None:
    assert marked_lead(None, [TITLE], BODY, lambda: "") == BODY
    assert lead_of(page(f"<p class='lead'>{LEAD}</p>"), []) == []
