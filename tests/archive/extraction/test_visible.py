"""The text a reader of the page sees, and the block that shows a place of it."""

from __future__ import annotations

from lxml.html import fromstring

from archive.extraction.visible import VisibleText
from archive.extraction.vouching import key

PAGE = (
    "<html><head><title>Not shown</title></head><body><p>Berlin &ndash; <b>The lead</b>, in bold and plain.</p>"
    "<figure><img src='a.jpg'><figcaption>A caption</figcaption></figure>"
    '<script type="application/ld+json">{"articleBody": "The stated body"}</script>'
    "<div>The first <span>paragraph</span></div> and a tail.</body></html>"
)


def test_the_key_leaves_out_scripts_figures_and_the_head() -> None:
    visible = VisibleText(fromstring(PAGE))
    assert visible.key == key("Berlin – The lead, in bold and plain. The first paragraph and a tail.")


def test_a_page_without_figures_or_scripts_gives_the_same_key_as_one_walked() -> None:
    plain = PAGE.replace("<figure><img src='a.jpg'><figcaption>A caption</figcaption></figure>", "")
    plain = plain[: plain.index("<script")] + plain[plain.index("</script>") + len("</script>") :]
    assert VisibleText(fromstring(plain)).key == VisibleText(fromstring(PAGE)).key


def test_the_block_showing_letters_is_the_nearest_block_around_them() -> None:
    visible = VisibleText(fromstring(PAGE))
    lead = key("The lead")
    assert visible.block_showing(visible.key.find(lead), lead) == "Berlin – The lead, in bold and plain."
    across = key("lead, in bold")  # from the bold text into its tail, which is its parent's
    assert visible.block_showing(visible.key.find(across), across) == "Berlin – The lead, in bold and plain."
    inline = key("first paragraph")
    assert visible.block_showing(visible.key.find(inline), inline) == "The first paragraph"
    assert visible.block_showing(len(visible.key), "x") is None


def test_a_fragment_is_read_in_its_whole_document() -> None:
    fragment = fromstring("<div><p>One</p><p>Two</p></div>")  # lxml gives the body's one child
    assert fragment.tag == "div"
    assert VisibleText(fragment).key == "onetwo"
