"""The byline search finds what trafilatura's own ``extract_author`` finds, element for element."""

from __future__ import annotations

import pytest
from trafilatura import load_html
from trafilatura.metadata import extract_author
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

from archive.extraction.metadata import _DISCARD_TAGS, _byline_candidates, _discarded, byline
from archive.extraction.parsing import parse_page

#: One way each for a page to name its author that trafilatura's XPaths look for, or to hide one.
BYLINES = {
    "rel=author link": '<a rel="author" href="/jane">Jane Doe</a>',
    "id=author": '<div id="author">Jane Doe</div>',
    "author-name class": '<span class="post-author-name">Jane Doe</span>',
    "AuthorName class": '<strong class="AuthorName">Jane Doe</strong>',
    "itemprop author name": '<p itemprop="author name">Jane Doe</p>',
    "rel child": "<address><rel>me</rel> Jane Doe</address>",
    "data-testid": '<span data-testid="AuthorURL">Jane Doe</span>',
    "author element": "<author>Jane Doe</author>",
    "byline class": '<h3 class="byline">By Jane Doe</h3>',
    "username class": '<span class="username">jane_doe</span>',
    "itemprop author": '<h4 itemprop="creator author">Jane Doe</h4>',
    "zuozhe id": '<p id="zuozhe-1">Jane Doe</p>',
    "posted-by class": '<div class="meta posted-by">Posted by Jane Doe</div>',
    "Byline data-component": '<li data-component="ArticleByline">Jane Doe</li>',
    "Author id on any element": '<li id="mainAuthor">Jane Doe</li>',
    "writer class on any element": '<em class="writer">Jane Doe</em>',
    "too long, then shorter": f'<div class="author">{"Jane Doe " * 20}</div><span class="author">Jane Doe</span>',
    "too short": '<span class="author">JD</span><li class="byline">Jane Doe</li>',
    "in a comment list": '<div id="comments"><span class="author">Commenter</span></div><em class="writer">Jane</em>',
    "in a comments class": '<section class="Comments-box"><a class="author">Commenter</a></section>',
    "in a sidebar": '<div class="right sidebar"><p class="author">Other Writer</p></div><p class="author">Jane Doe</p>',
    "in an article-share box": '<span class="article-share"><a rel="author">Share Author</a></span>',
    "in a figure": '<figure><figcaption class="author">Photographer</figcaption></figure>',
    "in a time element": '<time><span class="byline">By Jane Doe</span></time>',
    "ProductReviews id": '<div id="ProductReviews"><span class="author">Reviewer</span></div>',
    "Figure data-component": '<div data-component="FigureBlock"><span class="author">Photo</span></div>',
    "print class, but not its tag": '<p class="print"><span class="author">Jane Doe</span></p>',
    "none": '<p class="intro">No one signs this.</p>',
}


def page(byline_html: str) -> str:
    return (
        "<html><head><title>Story</title></head><body><article><h1>Story</h1>"
        f"{byline_html}<p>{'Words of the story. ' * 30}</p></article></body></html>"
    )


@pytest.mark.parametrize("html", BYLINES.values(), ids=BYLINES.keys())
def test_the_byline_is_trafilaturas(html: str) -> None:
    tree = parse_page(page(html))
    assert tree is not None
    assert byline(tree) == extract_author(load_html(page(html)))


def test_a_byline_is_found_and_normalized() -> None:
    tree = parse_page(page('<div class="meta posted-by">Posted by Jane Doe</div>'))
    assert tree is not None
    assert byline(tree) == "Jane Doe"


def test_the_elements_tested_are_those_trafilaturas_xpaths_find() -> None:
    """Every case at once: the same elements, in the same order, for the pruning and each search."""
    tree = parse_page(page("".join(BYLINES.values())))
    assert tree is not None
    discarded = [element for element in tree.iterdescendants(*_DISCARD_TAGS) if _discarded(element)]
    assert discarded == AUTHOR_DISCARD_XPATHS[0](tree)
    assert len(discarded) == 6
    found = _byline_candidates(tree)
    assert list(found) == [xpath(tree) for xpath in AUTHOR_XPATHS]
    assert [len(elements) for elements in found] == [19, 19, 23]
