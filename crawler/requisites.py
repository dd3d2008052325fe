"""Finding a page's requisites (images, stylesheets, scripts) by scanning its markup.

A scan with regular expressions, as Heritrix's ``ExtractorHTML`` does, rather
than a DOM: every archived article is scanned while it is crawled, and building
an lxml tree of a 100 KB news page cost the crawl more CPU than downloading it.
Comments and the text inside ``<script>`` and ``<style>`` elements are skipped,
so markup quoted in them is not taken for a tag, and entities in attribute
values are decoded, as a parser would. The markup is the web's, so the scan
looks at each character a bounded number of times whatever it holds: an
element left open runs to the end of the page (as in a browser) instead of
being searched for again at every later ``<``, and a start tag or attribute
value longer than :data:`MAX_TAG` is not read.

Most of a news page's images sit on other hosts (CDNs, ad servers); the host of
an absolute or protocol-relative address is read off the string and checked
before anything is resolved, so the many that are not wanted cost next to
nothing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

#: The longest start tag (or attribute value) read; a longer one is hostile markup, not a page's.
MAX_TAG = 8192
_VALUE = rf"""\s*=\s*(?:"([^"]{{0,{MAX_TAG}}})"|'([^']{{0,{MAX_TAG}}})'|([^\s>]{{1,{MAX_TAG}}}))"""
_START = re.compile(r"<(?:(!--)|(style|script|img|link)\b)", re.IGNORECASE)
#: Where the text of a comment, a stylesheet or a script ends.
_END = {
    "!--": re.compile(r"-->"),
    "style": re.compile(r"</style\s*>", re.IGNORECASE),
    "script": re.compile(r"</script\s*>", re.IGNORECASE),
}
_SRC = re.compile(r"(?<![^\s\"'])src" + _VALUE, re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s"'=<>/]+)(?:""" + _VALUE + ")?")
#: The host of an absolute (``scheme://host``) or protocol-relative (``//host``) address.
_HOST = re.compile(r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:\s]*)")


def requisites(markup: str, wanted_host: Callable[[str], bool]) -> Iterator[str]:
    """The ``src`` of images and scripts and the ``href`` of stylesheets, as written in the page.

    Absolute addresses are given only when ``wanted_host`` accepts their host;
    relative ones always (the caller resolves them against the page's base URL).
    Empty values are left out.
    """
    position = 0
    while (match := _START.search(markup, position)) is not None:
        position = match.end()
        element = (match[1] or match[2]).lower()
        if element != "!--":
            # the start tag's attributes (a tag that does not end within MAX_TAG is not read)
            end_of_tag = markup.find(">", position, position + MAX_TAG)
            if end_of_tag < 0:
                continue
            value = _requisite(element, markup, position, end_of_tag)
            position = end_of_tag + 1
            if value and ((host := _HOST.match(value)) is None or wanted_host(host[1].strip("[]"))):
                yield value
        if element in _END:
            # The element's text is skipped to its end; left open, it runs to the end of the page, as
            # in a browser. Either way every character is looked at once: the scan stays linear.
            end = _END[element].search(markup, position)
            if end is None:
                return
            position = end.end()


def _requisite(element: str, markup: str, start: int, end: int) -> str:
    """What an element whose attributes are ``markup[start:end]`` asks the browser to load, if anything."""
    if element == "link":
        attributes = _attributes(markup[start:end])
        if "stylesheet" in attributes.get("rel", "").lower().split():
            return attributes.get("href", "").strip()
        return ""
    if markup.count("src", start, end) > 1:  # src also inside another value (or repeated): parse them all
        return _attributes(markup[start:end]).get("src", "").strip()
    # most of a page's tags are images and scripts with one src: found without parsing the other attributes
    src = _SRC.search(markup, start, end)
    return _unescape(src[1] or src[2] or src[3] or "").strip() if src else ""


def _attributes(text: str) -> dict[str, str]:
    """An element's attributes, names in lower case, the first of repeated ones kept (as browsers do)."""
    found: dict[str, str] = {}
    for name, double, single, bare in _ATTRIBUTE.findall(text):
        name = name.lower()
        if name not in found:
            found[name] = _unescape(double or single or bare)
    return found


def _unescape(value: str) -> str:
    return html.unescape(value) if "&" in value else value
