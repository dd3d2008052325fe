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
from lxml.html import HtmlElement
from trafilatura.htmlprocessing import prune_unwanted_nodes
from trafilatura.json_metadata import extract_json, normalize_authors, normalize_json
from trafilatura.metadata import (
    examine_meta,
    extract_license,
    extract_metainfo,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import set_date_params
from trafilatura.utils import as_list
from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

from archive.extract import not_after
from archive.extraction.evidence import PageEvidence

__all__ = ["PageMetadata", "byline", "dated", "page_date", "read_metadata"]

_SITE_IN_URL = re.compile(r"https?://(?:www\.|w[0-9]+\.)?([^/]+)")


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
    """The author named in the page's text, searched as trafilatura's ``extract_author`` does but
    in place, without its copy of the whole page: call it last, it prunes the tree."""
    author = extract_metainfo(prune_unwanted_nodes(tree, AUTHOR_DISCARD_XPATHS), AUTHOR_XPATHS, len_limit=120)
    return normalize_authors(None, author) if author else None
