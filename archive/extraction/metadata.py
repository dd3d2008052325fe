"""Title, author, dates and the rest of an article's metadata, from trafilatura's readers.

trafilatura's ``extract_metadata`` costs more than half of a fast extraction, mostly in an
XPath search of the whole page for a byline and an exhaustive date search. Here its cheap
readers (meta tags, JSON-LD, the title element, the canonical link) run as it runs them,
the publication date is the page's stated one when it states one, and the costly
searches run only when the cheap readers found nothing.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date

from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.json_metadata import extract_json, normalize_authors, normalize_json
from trafilatura.metadata import (
    examine_meta,
    extract_license,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import set_date_params
from trafilatura.utils import as_list, trim
from trafilatura.xml import delete_element
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS

from archive.extract import not_after
from archive.extraction.evidence import PageEvidence

__all__ = ["PageMetadata", "byline", "dated", "page_date", "read_metadata"]

_SITE_IN_URL = re.compile(r"https?://(?:www\.|w[0-9]+\.)?([^/]+)")
#: The tests of trafilatura's byline XPaths (trafilatura.xpaths, 2.3), by name of element and attribute.
_DISCARD_TAGS = frozenset({"a", "div", "section", "span"})
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|article-(?:share|support)"
    "|print|category|meta-date|meta-reviewer"
)
_SPECIFIC_TAGS = frozenset({"a", "address", "div", "link", "p", "span", "strong"})
_SPECIFIC_CLASS = re.compile("author-?name|AuthorName|authorName")
_GENERIC_TAGS = frozenset({"a", "div", "h3", "h4", "p", "span"})
_GENERIC_ID = re.compile("author|zuozhe|bianji|xiaobian")
_GENERIC_CLASS = re.compile("author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name")
_ANY_ID = re.compile("[Aa]uthor")
_ANY_CLASS = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")


@dataclass(frozen=True)
class PageMetadata:
    title: str | None
    author: str | None
    published: str | None
    sitename: str | None
    language: str | None
    canonical_url: str | None
    description: str | None
    license: str | None
    warnings: tuple[str, ...]


def read_metadata(
    tree: HtmlElement, url: str | None, evidence: PageEvidence, fetched_on: date, *, licensed: bool = True
) -> PageMetadata:
    """The page's metadata, its date only as the page states it (see :func:`page_date`); a date after
    ``fetched_on`` is refused with a warning. ``licensed=False`` (the page never names a licence)
    spares the licence search."""
    document = examine_meta(tree)
    if document.author and " " not in document.author:
        document.author = None  # a single word is a handle or a site name, as trafilatura judges
    for block in evidence.json_ld:  # trafilatura's extract_meta_json, on the blocks already parsed
        try:
            document = extract_json([item for item in as_list(block) if isinstance(item, dict)], document)
        except (ValueError, TypeError, AttributeError, RecursionError):  # an odd shape states nothing usable
            continue
    title = _plain(document.title) or extract_title(tree)
    author = document.author
    canonical = document.url or extract_url(tree, url)
    sitename = _plain(document.sitename) or extract_sitename(tree)
    if sitename:
        sitename = sitename.lstrip("@")
        if sitename and "." not in sitename and not sitename[0].isupper():
            sitename = sitename.title()
    elif canonical and (match := _SITE_IN_URL.match(canonical)):
        sitename = match[1]

    published, warnings = dated(evidence.published, fetched_on)
    return PageMetadata(
        title=title,
        author=author,  # see byline() for pages whose meta tags and JSON-LD name no author
        published=published,  # see page_date() for pages that state no date
        sitename=sitename or None,
        language=(tree.get("lang") or "").split("-")[0].strip().lower() or None,
        canonical_url=canonical,
        description=_plain(document.description),
        license=extract_license(tree) if licensed else None,
        warnings=tuple(warnings),
    )


def _plain(value: str | None) -> str | None:
    """A JSON-LD string as trafilatura's own parse leaves it: entities decoded, tags out, spaces trimmed."""
    return normalize_json(html.unescape(value)) or None if value else value


def page_date(tree: HtmlElement, canonical: str | None, fetched_on: date) -> tuple[str | None, tuple[str, ...]]:
    """The publication date htmldate finds in a page that states none, with the warnings of :func:`dated`.

    Call it on the tree cleaned for extraction (menus, asides and footers gone, meta tags still
    there): a third faster, and the dates of other articles listed beside this one are gone.
    """
    # htmldate's own upper bound stays "today": bounded by the fetch date it would settle for
    # an older, wrong date (an image path's /2019/02/) instead of refusing. Not its exhaustive
    # search (every date-like string of the page).
    params = set_date_params(extensive=False)
    return dated(find_date(tree, **{**params, "url": canonical}), fetched_on)


def dated(stated: str | None, fetched_on: date) -> tuple[str | None, tuple[str, ...]]:
    """A stated date as an ISO date, refused with a warning when it is after the fetch."""
    published = not_after(stated, fetched_on)
    if stated and published is None:
        return None, (f"page date {stated} is after the fetch; dropped",)
    return published, ()


def byline(tree: HtmlElement) -> str | None:
    """The author named in the page's text, found as trafilatura's ``extract_author`` finds it but in
    place, without its copy of the whole page: call it last, it prunes the tree.

    Its XPaths (``AUTHOR_DISCARD_XPATHS`` and ``AUTHOR_XPATHS``) are run here as two walks of the
    page in Python, one to prune and one for the three searches: libxml2 makes a node-set for each
    of their forty tests at each element, and the XPaths cost four times the walks. The elements
    found, and their order, are the XPaths' (tests/archive/extraction/test_metadata.py holds them to it).
    """
    root = tree.getroottree().getroot()  # the XPaths' "//" searches the whole document
    for element in [e for e in tree.iterdescendants(*_DISCARD_TAGS) if _discarded(e)]:
        delete_element(element)
    prune_unwanted_nodes(tree, AUTHOR_DISCARD_XPATHS[1:])  # //time|//figure: no test to make
    for candidates in _byline_candidates(root):
        for element in candidates:
            author = trim(" ".join(element.itertext()))
            if 2 < len(author) < 120:
                return normalize_authors(None, author)
    return None


def _discarded(element: HtmlElement) -> bool:
    """Whether ``AUTHOR_DISCARD_XPATHS[0]`` finds an element of one of its ``_DISCARD_TAGS``: a comment
    list, a sidebar, a date..."""
    ident, cls = element.get("id"), element.get("class")
    return bool(
        ident == "comments"
        or cls in ("comments", "title", "date")
        or (ident is not None and _DISCARD_ID.search(ident))
        or (cls is not None and _DISCARD_CLASS.search(cls))
        or "Figure" in element.get("data-component", "")
    )


def _byline_candidates(root: HtmlElement) -> tuple[list[HtmlElement], list[HtmlElement], list[HtmlElement]]:
    """The elements each of ``AUTHOR_XPATHS`` finds, in document order."""
    found: tuple[list[HtmlElement], list[HtmlElement], list[HtmlElement]] = ([], [], [])
    rels = next(root.iter("rel"), None) is not None  # for rel='me': a <rel> child, not the attribute
    for element in root.iter(etree.Element):
        get = element.get
        tag, ident, cls, itemprop = element.tag, get("id"), get("class"), get("itemprop")
        by_itemprop = itemprop is not None and "author" in itemprop
        by_class = cls is not None and _ANY_CLASS.search(cls) is not None  # what the others look for, and more
        if tag == "author" or (
            tag in _SPECIFIC_TAGS
            and (
                get("rel") == "author"
                or ident == "author"
                or cls == "author"
                or itemprop == "author name"
                or get("data-testid") in ("AuthorCard", "AuthorURL")
                or (by_class and _SPECIFIC_CLASS.search(cls))
                or (rels and any(child.text_content() == "me" for child in element.iterchildren("rel")))
            )
        ):
            found[0].append(element)
        if tag in _GENERIC_TAGS and (
            cls in ("byline", "username", "byl", "BBL")
            or by_itemprop
            or (ident is not None and _GENERIC_ID.search(ident))
            or (cls is not None and _GENERIC_CLASS.search(cls))
        ):
            found[1].append(element)
        if (
            by_itemprop
            or by_class
            or "Byline" in get("data-component", "")
            or (ident is not None and _ANY_ID.search(ident))
        ):
            found[2].append(element)
    return found
