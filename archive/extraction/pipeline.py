"""One page through extraction: checks on the input, one parse, the page's own evidence,
trafilatura's fast heuristics (its full cascade only when they found little of a page showing
more), the publisher's body and standfirst, the standfirst its markup names, other stories'
headlines and news boilerplate dropped, metadata."""

from __future__ import annotations

import logging
import re
from copy import copy
from datetime import datetime

import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.settings import Extractor

from archive.extract import (
    FALLBACK,
    HEURISTICS,
    MAX_HTML_SIZE,
    PRUNE_XPATHS,
    STRUCTURED_DATA,
    Extraction,
)
from archive.extraction.boilerplate import drop_boilerplate
from archive.extraction.evidence import read_evidence
from archive.extraction.lead import marked_lead
from archive.extraction.metadata import byline, page_date, read_metadata
from archive.extraction.parsing import parse_page
from archive.extraction.teasers import drop_linked_headlines
from archive.extraction.visible import VisibleText
from archive.extraction.vouching import reconcile, standfirst

__all__ = ["extract"]

LOGGER = logging.getLogger(__name__)

#: Elements removed before trafilatura reads the page (see _strip_inert).
INERT_ELEMENTS = (
    "style", "svg", "template", "iframe", "link", "select", "option", "button", "input", "img", "source",
)  # fmt: skip
#: Containers removed with them unless they hold most of the page: an unclosed ``<nav>`` or
#: ``<noscript>`` swallows the rest of the page, whose text trafilatura's rescue passes still find.
INERT_CONTAINERS = ("nav", "footer", "aside", "noscript")
#: A fast extraction shorter than this (characters) of a page that says it is an article is redone
#: with trafilatura's full cascade: the fast heuristics missed most of it. (On pages that do not
#: say so, a short text is as often all there is: the full cascade there adds as much as it loses;
#: but an empty one is redone too, the full cascade can only add to it.)
SHORT_TEXT = 1000
#: ...unless it holds at least this share of the text the page shows (characters, spacing normalized):
#: then the page shows little else, and the full cascade finds what the fast heuristics found (on the
#: development corpus it changed no such text, and it costs two to three fast extractions). The share
#: is the one under which trafilatura itself judges a text to cover little of its page.
PAGE_SHARE = 0.2
#: The control characters (other than whitespace) that mark binary input.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
#: Share of control characters (other than whitespace) above which an input is binary, not HTML.
BINARY_SHARE = 0.05
#: Words that the page's source holds if it names a licence (trafilatura looks for CC links and rel=license).
LICENCE_WORDS = ("license", "creativecommons")
#: For each of PRUNE_XPATHS, words one of which the page's source holds if it can find anything (a
#: rel=license link; a class or id of a donation appeal): most pages hold none, and are spared its
#: search of every element. The licence's words are those above, the source is searched for them once.
PRUNE_WORDS = (LICENCE_WORDS, ("donat", "appeal"))
#: trafilatura's options for its fast heuristics (True) and its full cascade (False), made once: making
#: them reads trafilatura's config, which costs more than copying them for each page (as trafilatura
#: shares one Extractor between pages itself). ``dedup`` is off: its cache is process-wide, output would
#: depend on crawl order.
_OPTIONS = {
    fast: Extractor(output_format="python", fast=fast, comments=False, tables=True, dedup=False)
    for fast in (True, False)
}


def extract(html: str | bytes, url: str, fetched_at: datetime) -> Extraction | None:
    """See :func:`archive.extract.extract_article`."""
    refusal = _refusal(html)
    if refusal:
        LOGGER.info("no article extracted from %s: %s", url, refusal)
        return None
    tree = parse_page(html)
    if tree is None:
        LOGGER.info("no article extracted from %s: not HTML", url)
        return None
    evidence = read_evidence(tree, url)
    licensed = _holds(html, LICENCE_WORDS)
    metadata = read_metadata(tree, url, evidence, fetched_at.date(), licensed=licensed)
    _strip_inert(tree)
    published, date_warnings = metadata.published, ()
    if evidence.published is None:
        published, date_warnings = page_date(tree, metadata.canonical_url, fetched_at.date())
    etree.strip_elements(tree, "meta", with_tail=False)

    method = HEURISTICS
    prune = [
        xpath
        for xpath, words in zip(PRUNE_XPATHS, PRUNE_WORDS, strict=True)
        if (licensed if words is LICENCE_WORDS else _holds(html, words))  # a scan of the whole source each
    ]
    lines = _paragraphs(tree, url, prune, fast=True)
    visible = VisibleText(tree)  # walked only if asked for
    if not lines or (evidence.says_article and _found_little(lines, visible.body)):
        lines, method = _paragraphs(tree, url, prune, fast=False), FALLBACK
    if evidence.body:
        reconciled = reconcile(lines, evidence.body, lambda: visible.key)
        if reconciled.decided:
            lines, method = reconciled.lines, STRUCTURED_DATA
    if metadata.description and lines:
        lines = standfirst(lines, metadata.description, lambda: visible.key, visible.block_showing)
    lines = marked_lead(
        visible.body, [metadata.title or "", tree.findtext(".//title") or ""], lines, lambda: visible.key
    )
    text = "\n".join(drop_boilerplate(drop_linked_headlines(lines, tree))).strip()
    if not text:
        LOGGER.info("no article extracted from %s: no article text", url)
        return None
    author = metadata.author
    if author is None and evidence.says_article:  # a search of the whole page, for articles only
        author = byline(tree)
    return Extraction(
        text=text,
        title=metadata.title,
        author=author,
        published=published,
        sitename=metadata.sitename,
        language=metadata.language,
        canonical_url=metadata.canonical_url,
        description=metadata.description,
        license=metadata.license,
        warnings=[*metadata.warnings, *date_warnings, *evidence.warnings],
        method=method,
        og_type=evidence.og_type,
        schema_types=list(evidence.schema_types),
    )


def _refusal(html: str | bytes) -> str | None:
    """Why an input is not extracted at all, if it is not."""
    if len(html) > MAX_HTML_SIZE:
        return f"{len(html):,} {'bytes' if isinstance(html, bytes) else 'characters'}, over {MAX_HTML_SIZE:,}"
    sample = html[:4096]
    if isinstance(sample, bytes):
        if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None  # UTF-16 with its byte order mark: NUL bytes are expected
        sample = sample.decode("latin-1")
    if sample and len(_CONTROL.findall(sample)) / len(sample) > BINARY_SHARE:
        return "binary content"
    return None


def _holds(html: str | bytes, words: tuple[str, ...]) -> bool:
    """Whether the page's source holds one of the words: a substring test that spares most pages a
    search of every element for what cannot be there without them."""
    if isinstance(html, bytes):
        return any(word.encode() in html for word in words)
    return any(word in html for word in words)


def _found_little(lines: list[str], body: HtmlElement | None) -> bool:
    """Whether the fast heuristics found less than the article of a page that says it is one: a text
    shorter than SHORT_TEXT, and under PAGE_SHARE of what the page shows."""
    found = len("\n".join(lines))
    if found >= SHORT_TEXT:
        return False
    return body is None or found < PAGE_SHARE * len(" ".join(body.text_content().split()))


def _strip_inert(tree: HtmlElement) -> None:
    """Remove what never holds article text and what trafilatura deletes first anyway (scripts but
    JSON-LD, styles, drawings, images, menus, form controls, footers): every later pass over the
    tree, and trafilatura makes many, then walks a tree a third smaller. Forms stay: some sites
    wrap the whole page in one; meta tags stay until the date search has read them."""
    for script in [s for s in tree.iter("script") if s.get("type", "").strip().lower() != "application/ld+json"]:
        script.drop_tree()  # keeps the text that follows it
    etree.strip_elements(tree, *INERT_ELEMENTS, with_tail=False)
    containers = list(tree.iter(INERT_CONTAINERS))
    if containers:
        page = len(tree.text_content())
        for element in containers:
            if len(element.text_content()) <= page / 2:
                element.drop_tree()  # keeps the text that follows it


def _paragraphs(tree: HtmlElement, url: str, prune: list[str], *, fast: bool) -> list[str]:
    """trafilatura's text of the page, paragraph by paragraph, the elements the ``prune`` XPaths find
    left out (it copies the tree, which stays whole)."""
    options = copy(_OPTIONS[fast])
    options.url, options.source = url, url or None
    document = trafilatura.bare_extraction(tree, options=options, prune_xpath=prune)
    text = document.text if document is not None else ""
    return [line for line in (text or "").splitlines() if line.strip()]
