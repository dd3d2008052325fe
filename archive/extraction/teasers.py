"""Other stories' headlines inside the article: lines that the page shows as the whole text of a link.

Outlets put teasers for their other stories inside the article element ("related" boxes between
paragraphs, lists of further reading after the last one), where trafilatura keeps them: nothing in
their markup says what they are, their links are too few to count as a menu. Their wording says
nothing either, but their markup does: each is the text of one link, and as long as a headline. A
paragraph of the article is text with links in it, never a link as a whole; a link whose text is an
address (a source cited as its URL) or that points into the page itself (a table of contents over
the article's own subheadings) is the article's.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from archive.extraction.vouching import key

__all__ = ["drop_linked_headlines"]

#: Letters a link's text must have to be a headline (shorter ones are labels: "More", "Video", names).
MIN_HEADLINE = 30
#: The links to another page (not to a place of this one) whose text is as long as a headline, found by
#: lxml in C: most of a page's links are short, and spared a Python step each.
_HEADLINE_LINKS = etree.XPath(
    f"//a[@href][string-length(normalize-space(.)) >= {MIN_HEADLINE}][not(starts-with(normalize-space(@href), '#'))]"
)
#: Characters a line may add to a link's text: trafilatura marks list items ("- ").
LIST_MARK = 10
#: A link text that starts so is an address, not a headline.
_ADDRESS = re.compile(r"\s*(?:https?://|www\.)", re.IGNORECASE)


def drop_linked_headlines(lines: list[str], tree: HtmlElement) -> list[str]:
    """The lines that are not the whole text of a link to another page, unless every line is (a page of
    headlines only is a list of them, and that is all it holds)."""
    linked, longest = set(), 0
    for link in _HEADLINE_LINKS(tree):
        text = link.text_content()
        if not _ADDRESS.match(text) and len(letters := key(text)) >= MIN_HEADLINE:
            linked.add(letters)
            longest = max(longest, len(text))
    if not linked:
        return lines
    # a line much longer than every such link is not one of them: most lines are spared their key
    longest = 2 * longest + LIST_MARK
    kept = [line for line in lines if len(line) > longest or key(line) not in linked]
    return kept or lines
