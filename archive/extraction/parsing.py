"""The one parse of a page: trafilatura's ``load_html``, with a faster element class lookup.

lxml.html's parser asks a Python method which class each element of the tree is (a form,
an input, a label…) every time Python touches an element; trafilatura's passes touch
millions, and that method alone costs a tenth of an extraction. trafilatura uses nothing
of those classes but what every ``HtmlElement`` has, so here every element is one, looked
up in C. Decoding and repairs are trafilatura's own, so the tree is the one it would build.
"""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction, fromstring
from trafilatura.utils import decode_file, is_dubious_html, repair_faulty_html

__all__ = ["parse_page"]

_PARSER = etree.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)


#: The control characters XML forbids, as bytes (trafilatura.utils.INVALID_XML_CHARS but its two non-characters).
_CONTROLS = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
#: trafilatura's repairs of a page's start (doctype, ``<html/>``) look at this many characters.
REPAIRED_START = 4096


def parse_page(html: str | bytes) -> HtmlElement | None:
    """The page's tree, or None when it is not HTML (as trafilatura's ``load_html`` judges)."""
    text = decode_file(html)
    beginning = text[:50].lower()
    # trafilatura's repair deletes the control characters XML forbids (lxml would keep them in the
    # tree, and refuse them later); its regular expression scan of the whole page costs a third of
    # the parse, so the page is checked for them first, by a byte deletion that runs at memory speed
    text = repair_faulty_html(text, beginning) if _has_controls(text) else _start_repaired(text, beginning)
    tree = _from_string(text)
    if tree is None or len(tree) < 1:
        tree = _from_bytes(text)
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


def _has_controls(text: str) -> bool:
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _CONTROLS)) != len(data) or "\ufffe" in text or "\uffff" in text


def _start_repaired(text: str, beginning: str) -> str:
    """The page with trafilatura's repairs applied to its first lines only."""
    cut = text.rfind("\n", 0, REPAIRED_START)
    if cut <= 0:
        return repair_faulty_html(text, beginning)
    return repair_faulty_html(text[:cut], beginning) + text[cut:]


def _from_string(text: str) -> HtmlElement | None:
    try:
        return fromstring(text, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported"
        return _from_bytes(text)
    except etree.ParserError:
        return None


def _from_bytes(text: str) -> HtmlElement | None:
    try:
        return fromstring(text.encode("utf8", "surrogatepass"), parser=_PARSER)
    except (ValueError, etree.ParserError):
        return None
