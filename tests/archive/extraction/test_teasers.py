"""Other stories' headlines: lines that the page shows as the whole text of a link."""

from __future__ import annotations

from lxml.html import fromstring

from archive.extraction.teasers import drop_linked_headlines

PARAGRAPH = "The city council approved the new transit budget on Tuesday after a debate that lasted into the night."
TEASER = "Mayor promises new bike lanes before the election"
SUBHEADING = "What the new budget means for the riders of the city"


def test_a_line_that_is_a_link_to_another_page_is_dropped() -> None:
    tree = fromstring(
        f"<html><body><article><p>{PARAGRAPH}</p><div class='box'><h3><a href='/bikes'>{TEASER}</a></h3></div>"
        f"<ul><li><a href='https://example.com/x'><span>{TEASER.upper()}!</span></a></li></ul></article></body></html>"
    )
    assert drop_linked_headlines([PARAGRAPH, TEASER, f"- {TEASER.upper()}!"], tree) == [PARAGRAPH]


def test_text_with_links_in_it_short_links_addresses_and_links_into_the_page_stay() -> None:
    address = "https://www.valleyledger.example/reports/transit-budget-2019.pdf"
    tree = fromstring(
        f"<html><body><p>The council <a href='/council'>approved the new transit budget on Tuesday</a> "
        f"after a debate.</p><p><a href='/more'>More news</a></p><p><a href='{address}'>{address}</a></p>"
        f"<ol><li><a href='#budget'>{SUBHEADING}</a></li></ol><h2 id='budget'>{SUBHEADING}</h2></body></html>"
    )
    lines = [
        "The council approved the new transit budget on Tuesday after a debate.",
        "More news",
        address,
        SUBHEADING,
    ]
    assert drop_linked_headlines(lines, tree) == lines


def test_a_page_without_headline_links_keeps_every_line() -> None:
    lines = [PARAGRAPH, TEASER]
    assert drop_linked_headlines(lines, fromstring(f"<div><p>{PARAGRAPH}</p><p>{TEASER}</p></div>")) == lines


def test_a_text_of_headlines_only_is_kept_whole() -> None:
    tree = fromstring(f"<div><h2><a href='/bikes'>{TEASER}</a></h2><h2><a href='/cup'>{SUBHEADING}</a></h2></div>")
    assert drop_linked_headlines([TEASER, SUBHEADING], tree) == [TEASER, SUBHEADING]
