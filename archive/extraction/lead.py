"""The standfirst as the page's markup names it: the block right below the headline whose class
or id says it is the lead (``lead``, ``intro``, ``standfirst``, ``dek``, ``chapo``, ``teaser``,
``summary``, ``excerpt``, ``subtitle``…, or ``itemprop="description"``).

Trafilatura drops it often: it sits in the article's header, outside the block trafilatura takes
for the body, or is named ``teaser``, which trafilatura discards. The page's ``description`` puts
it back when the two agree (:func:`archive.extraction.vouching.standfirst`); many pages give no
description, or one worded otherwise. The markup is evidence too, and is trusted only where it
cannot be another story's teaser: just below the page's own headline (an ``h1`` that the page's
title starts with, so not a blog's name above its posts), above the end of the text trafilatura found, in
no link, list item, figure or aside, with no picture of its own, and no longer than a lead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from lxml.html import HtmlElement

from archive.extraction.vouching import key

__all__ = ["marked_lead"]

#: Words of a class or id naming a standfirst, in the many ways publishers and CMS themes say it.
_LEAD_WORDS = re.compile(
    r"(?<![a-z])(?:lead|lede|lead-?in|intro|introduction|stand-?first|teaser|excerpt|summary|chapo|chapeau|dek|deck|"
    r"sub-?title|sub-?head(?:line)?|abstract|description|bajada|entradilla)(?![a-z])"
)
#: Words of a class or id naming what sits below a headline but is not its standfirst: the lead
#: picture and its caption, the author's card, the site's own description.
_NOT_LEAD_WORDS = re.compile(
    r"image|img|photo|picture|media|video|caption|credit|author|byline|profile|social|card|site|rating|review|date"
)
#: ``itemprop`` values of a standfirst.
LEAD_ITEMPROPS = frozenset({"description", "abstract", "alternativeHeadline"})
#: Elements a standfirst is never in, or never is: links and list items are other stories' teasers.
NOT_LEAD_ELEMENTS = frozenset({"a", "li", "nav", "aside", "footer", "figure", "figcaption"})
#: Elements that make a block something else than a standfirst: a picture's, or one holding a list, a
#: heading or a date (an article's header, a byline, a post's details), whose own blocks are looked at.
NOT_IN_LEAD = ("figure", "figcaption", "picture", "video", "audio", "ul", "ol", "table", "time", "h2", "h3", "h4")
#: Letters of text the page may show between the headline and its standfirst (kicker, byline, date).
MAX_GAP = 300
#: Bounds of a standfirst's length, in letters.
MIN_LEAD = 40
MAX_LEAD = 1500
#: Letters of a headline compared with the start of the page's title (which may add the site's name).
HEADLINE_PROBE = 12
#: A shorter ``h1`` (letters) is a label, not a headline.
MIN_HEADLINE = 6
#: Share of a standfirst's letters that may be link text.
MAX_LINKED = 0.3
#: Letters of the lead looked for in the text and the page (as vouching.RESTORE_PROBE).
PROBE = 60

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def marked_lead(
    body: HtmlElement | None, titles: list[str], lines: list[str], page_key: Callable[[], str]
) -> list[str]:
    """The lines with the standfirst the markup names below the page's headline put in where the page
    shows it, if they lack it and the page shows it above their end. ``titles`` are the page's stated
    titles (its metadata's, its ``<title>``); ``page_key`` gives the key of the text the page shows
    (see :class:`~archive.extraction.visible.VisibleText`)."""
    if body is None or not lines:
        return lines
    headline = _headline(body, [key(title) for title in titles if title])
    lead = _after(headline) if headline is not None else None
    if lead is None:
        return lines
    probe = key(lead)[:PROBE]
    if probe in key(" ".join(lines)):
        return lines
    page = page_key()
    where = page.find(probe)
    positions = [page.find(key(line)[:PROBE]) for line in lines]
    if where < 0 or where > max(positions):
        return lines
    index = next((i for i, at in enumerate(positions) if at > where), len(lines))
    return [*lines[:index], lead, *lines[index:]]


def _headline(body: HtmlElement, title_keys: list[str]) -> HtmlElement | None:
    """The page's headline: the first ``h1`` that a stated title starts with, or that is most of one (a
    title may put the section first); a blog's name, shown as its ``h1``, ends its posts' titles."""
    for h1 in body.iter("h1"):
        headline = key(h1.text_content())
        if len(headline) >= MIN_HEADLINE and any(
            title.startswith(headline[:HEADLINE_PROBE]) or (headline in title and len(headline) >= len(title) / 2)
            for title in title_keys
        ):
            return h1
    return None


def _after(headline: HtmlElement) -> str | None:
    """The text of the first block named a standfirst that follows the headline within MAX_GAP letters."""
    gap = _letters(headline.tail)
    for element in _following(headline):
        if gap > MAX_GAP:
            return None
        if _is_lead(element):
            text = " ".join(element.text_content().split())
            if MIN_LEAD <= len(key(text)) <= MAX_LEAD and _plain(element, text):
                return text
        gap += _letters(element.text) + _letters(element.tail)
    return None


def _letters(text: str | None) -> int:
    """The letters of a text (most texts between blocks are only spacing, spared the regular expression)."""
    return len(key(text)) if text and not text.isspace() else 0


def _following(element: HtmlElement) -> Iterator[HtmlElement]:
    """The elements after ``element`` in document order, but its own: walked lazily, as the lead is near."""
    for node in (element, *element.iterancestors()):
        for sibling in node.itersiblings():
            yield sibling
            yield from sibling.iterdescendants()


def _is_lead(element: HtmlElement) -> bool:
    """Whether the markup names an element a standfirst, and nothing else that sits below a headline."""
    if not isinstance(element.tag, str) or element.tag in NOT_LEAD_ELEMENTS:
        return False
    names = _CAMEL.sub("-", " ".join(filter(None, (element.get("class"), element.get("id"))))).lower()
    if _NOT_LEAD_WORDS.search(names) is not None:
        return False
    return element.get("itemprop") in LEAD_ITEMPROPS or _LEAD_WORDS.search(names) is not None


def _plain(element: HtmlElement, text: str) -> bool:
    """Whether a block is prose of its own: in no link, list item or figure, holding none of NOT_IN_LEAD,
    mostly unlinked."""
    if any(ancestor.tag in NOT_LEAD_ELEMENTS for ancestor in element.iterancestors()):
        return False
    if next(element.iterdescendants(NOT_IN_LEAD), None) is not None:
        return False
    linked = sum(len(key(link.text_content())) for link in element.iter("a"))
    return linked <= MAX_LINKED * len(key(text))
