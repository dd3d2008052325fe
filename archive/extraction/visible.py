"""The text a reader of a page sees, walked once: its :func:`~archive.extraction.vouching.key`, which
vouches for paragraphs put back into trafilatura's text, and which block of the page shows a given
place of it.

Scripts, styles and JSON-LD are left out, and figures: the captions some publishers put in the
``articleBody`` are not the article's text. The walk skips those subtrees instead of testing every
text's ancestors (an XPath doing that costs three times as much), and runs only when asked for.
"""

from __future__ import annotations

from functools import cached_property

from lxml import etree
from lxml.html import HtmlElement

from archive.extraction.vouching import key

__all__ = ["VisibleText"]

#: Elements whose text a reader never sees as the page's.
UNSEEN_ELEMENTS = frozenset({"script", "style", "figure", "template"})
#: Elements whose text belongs to the block around them.
INLINE_ELEMENTS = frozenset(
    {"a", "abbr", "b", "bdi", "cite", "em", "font", "i", "mark", "q", "s", "small", "span", "strong", "sub", "sup",
     "time", "u"}
)  # fmt: skip


class VisibleText:
    """The visible text of one parsed page, as the texts of its elements in document order."""

    def __init__(self, tree: HtmlElement) -> None:
        #: The page's body element (a fragment's tree is in a whole document too).
        self.body: HtmlElement | None = tree.getroottree().getroot().find("body")

    @cached_property
    def _parts(self) -> list[tuple[str, HtmlElement]]:
        """Each text of the page's body and the element it is in (a tail is in its element's parent)."""
        body = self.body
        if body is None:
            return []
        parts = []
        walker = etree.iterwalk(body, events=("start", "end"))
        for event, element in walker:
            if event == "start":
                if element.tag in UNSEEN_ELEMENTS:
                    walker.skip_subtree()
                elif element.text:
                    parts.append((element.text, element))
            elif element.tail and element is not body:
                parts.append((element.tail, element.getparent()))
        return parts

    @cached_property
    def key(self) -> str:
        """The key of the visible text: each part's key in turn, since a key drops the spaces between them.
        A body without a single unseen element is read by lxml's own iterator, a third of the walk's cost."""
        body = self.body
        if body is None:
            return ""
        if next(body.iter(UNSEEN_ELEMENTS), None) is None:
            return key(" ".join(body.itertext()))
        return key(" ".join(text for text, _ in self._parts))

    def block_showing(self, position: int, letters: str) -> str | None:
        """The text of the innermost block element (one that is not inline) that shows ``letters``, a
        part of :attr:`key` starting at ``position``; None past its end."""
        end = 0
        for text, element in self._parts:
            end += len(key(text))
            if end > position:
                block: HtmlElement | None = element
                while block is not None and (block.tag in INLINE_ELEMENTS or letters not in key(block.text_content())):
                    block = block.getparent()
                return block.text_content() if block is not None else None
        return None
