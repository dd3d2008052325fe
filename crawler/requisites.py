"""Finding a page's requisites (images, stylesheets, scripts) by scanning its markup.

A scan with regular expressions, as Heritrix's ``ExtractorHTML`` does, rather
than a DOM: every archived article is scanned while it is crawled, and building
an lxml tree of a 100 KB news page cost the crawl more CPU than downloading it.
Comments and the text inside ``<script>`` and ``<style>`` elements are skipped,
so markup quoted in them is not taken for a tag, and entities in attribute
values are decoded, as a parser would.

Most of a news page's images sit on other hosts (CDNs, ad servers); the host of
an absolute or protocol-relative address is read off the string and checked
before anything is resolved, so the many that are not wanted cost next to
nothing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

_VALUE = r"""\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
#: Element contents are skipped with unrolled loops (``[^<]*(?:<(?!/script)[^<]*)*``), not ``.*?``,
#: which tries the end tag at every character: half the scan's time on pages with inline scripts.
_TAGS = re.compile(
    r"<(?:"
    r"!--[^-]*(?:-(?!->)[^-]*)*-->"  # a comment: skipped
    r"|style\b[^<]*(?:<(?!/style)[^<]*)*</style\s*>"  # a stylesheet's text: skipped
    r"|script\b([^>]*)>[^<]*(?:<(?!/script)[^<]*)*</script\s*>"  # 1: a script's attributes; its text skipped
    r"|img\b[^>]*?\ssrc"
    + _VALUE  # 2, 3, 4: an image's first src, double-, single- or not quoted
    + r"|(link|script)\b([^>]*)>"  # 5, 6: a link, or a script left open
    r")",
    re.IGNORECASE | re.DOTALL,
)
_ATTRIBUTE = re.compile(r"""([^\s"'=<>/]+)(?:""" + _VALUE + ")?")
#: The host of an absolute (``scheme://host``) or protocol-relative (``//host``) address.
_HOST = re.compile(r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:\s]*)")


def requisites(markup: str, wanted_host: Callable[[str], bool]) -> Iterator[str]:
    """The ``src`` of images and scripts and the ``href`` of stylesheets, as written in the page.

    Absolute addresses are given only when ``wanted_host`` accepts their host;
    relative ones always (the caller resolves them against the page's base URL).
    Empty values are left out.
    """
    for match in _TAGS.finditer(markup):
        if match[1] is not None:
            value = _attributes(match[1]).get("src", "")
        elif match[5] is not None:
            attributes = _attributes(match[6])
            if match[5].lower() == "script":
                value = attributes.get("src", "")
            elif "stylesheet" in attributes.get("rel", "").lower().split():
                value = attributes.get("href", "")
            else:
                continue
        elif match[2] is not None or match[3] is not None or match[4] is not None:
            value = _unescape(match[2] or match[3] or match[4] or "")
        else:
            continue  # a comment or a stylesheet
        value = value.strip()
        if not value:
            continue
        host = _HOST.match(value)
        if host is None or wanted_host(host[1].strip("[]")):
            yield value


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
