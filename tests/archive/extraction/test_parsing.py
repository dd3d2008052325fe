"""The one parse of a page gives the tree trafilatura's own load_html gives."""

from __future__ import annotations

import pytest
from lxml.html import HtmlElement, tostring
from trafilatura import load_html

from archive.extraction.parsing import parse_page

PAGES = {
    "plain": "<!DOCTYPE html>\n<html><head><title>T</title></head><body><p>Text.</p></body></html>",
    "control characters": "<html><body><p>Bell\x07 and\x0b tab</p>" + "<p>filler</p>\n" * 500 + "</body></html>",
    "encoding declaration": '<?xml version="1.0" encoding="utf-8"?><html><body><p>Declared.</p></body></html>',
    "self-closing html": '<!DOCTYPE html>\n<html lang="en"/>\n<body><p>Text.</p></body></html>',
    "bytes": b"<html><head><meta charset='latin-1'></head><body><p>Caf\xe9.</p></body></html>",
}


@pytest.mark.parametrize("html", PAGES.values(), ids=PAGES.keys())
def test_the_tree_is_trafilaturas(html: str | bytes) -> None:
    ours, theirs = parse_page(html), load_html(html)
    assert ours is not None and theirs is not None
    assert tostring(ours) == tostring(theirs)
    assert all(isinstance(element, HtmlElement) for element in ours.iter("*"))


@pytest.mark.parametrize("html", ["", "just some words", b"\x00\x01\x02"])
def test_what_is_not_html_gives_none(html: str | bytes) -> None:
    assert parse_page(html) is None
