"""What a page states about itself: its declared types, its publication date and its own
article body, read from the schema.org JSON-LD, microdata and og:/article: meta tags of the
tree already parsed for extraction.

A direct read of ``script[type=application/ld+json]`` and ``meta`` elements costs a fraction
of a millisecond where extruct, which parses the page again, costs several; extraction's
speed is a target, so the tree is read here. Everything a page states is treated as a claim:
an ``articleBody`` is kept only if it is of this page (one article, or the one whose URL is
the page's) and of a plausible size, and a date only if it is an ISO date.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement, fromstring

__all__ = ["MAX_BODY_CHARS", "PageEvidence", "read_evidence"]

#: A JSON-LD block longer than this is not parsed (a page's own metadata is a few kB).
MAX_SCRIPT_CHARS = 1_000_000
#: An ``articleBody`` longer than this is not trusted: the longest news articles are a tenth of it.
MAX_BODY_CHARS = 150_000
#: JSON-LD nodes looked at per page, whatever their nesting.
MAX_NODES = 5_000
#: Declared types kept per page.
MAX_TYPES = 20

#: schema.org types of a single article, besides every ``…Article`` type (NewsArticle, ReportageNewsArticle…).
ARTICLE_TYPES = frozenset({"BlogPosting", "LiveBlogPosting", "Report", "SocialMediaPosting"})

#: Meta tags stating the publication date, by ``property``, ``name`` or ``itemprop``, lowercased, in order
#: of preference: a page whose tags disagree gets the first one's date. A tuple, not a set: a set's order
#: changes with the hash seed, and so would the date of the same page from one process to the next.
DATE_META = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dcterms.issued",
    "parsely-pub-date",
    "sailthru.date",
)

#: JSON-LD keys whose objects are the page's own, like the top-level ones.
MAIN_KEYS = frozenset({"@graph", "mainEntity"})

_TAGS = re.compile(r"<[a-zA-Z/!][^>]*>")
#: What ends the prefix of a type name (``https://schema.org/``, ``schema:``).
_TYPE_PREFIX = re.compile(r"[/:#]")
#: The JSON values that hold more of them (a tuple: ``list | dict`` would be built anew at each test).
_CONTAINERS = (list, dict)


@dataclass(frozen=True)
class PageEvidence:
    """The page's claims about itself; ``body`` only when it passed the checks above."""

    og_type: str | None = None
    schema_types: tuple[str, ...] = ()
    published: str | None = None  # ISO date (YYYY-MM-DD) as the page states it
    body: str | None = None
    warnings: tuple[str, ...] = ()
    #: The JSON-LD blocks as parsed, objects or lists: metadata reads them without a second parse.
    json_ld: tuple[dict[str, Any] | list[Any], ...] = ()

    @property
    def says_article(self) -> bool:
        """Whether the page declares itself an article (og:type or a schema.org article type)."""
        return self.og_type == "article" or any(is_article_type(t) for t in self.schema_types)


def is_article_type(name: str) -> bool:
    """Whether a schema.org type name is that of one article."""
    return name.endswith("Article") or name in ARTICLE_TYPES


def read_evidence(tree: HtmlElement, url: str | None) -> PageEvidence:
    """The claims of one parsed page, for the page at ``url``."""
    warnings: list[str] = []
    blocks: list[dict[str, Any] | list[Any]] = []
    nodes = _json_ld_nodes(tree, warnings, blocks)
    top_types = [t for node, top in nodes if top for t in _types(node)]
    microdata_types = [_short_type(t) for t in tree.xpath("//@itemtype[string-length(.) < 200]")]
    schema_types = tuple(dict.fromkeys(t for t in top_types + microdata_types if t))[:MAX_TYPES]

    meta = _meta(tree)
    articles = [node for node, _ in nodes if any(is_article_type(t) for t in _types(node))]
    page_urls = {key for u in (url, _canonical(tree), meta.get("og:url")) if (key := _url_key(u))}
    article = _this_page(articles, page_urls)
    body = _article_body(article, page_urls, warnings) if article is not None else None
    if body is None and len([a for a in articles if _text(a.get("articleBody"))]) > 1 and article is None:
        warnings.append("several articleBody in structured data, none of this page; not used")

    stated = [article.get("datePublished")] if article is not None else []
    stated += [meta.get(key) for key in DATE_META]
    stated += [node.get("datePublished") for node, _ in nodes]
    published = next((day for value in stated if (day := _iso_day(value))), None)
    og_type = (meta.get("og:type") or "").strip().lower()[:100] or None
    return PageEvidence(og_type, schema_types, published, body, tuple(warnings), tuple(blocks))


def _json_ld_nodes(
    tree: HtmlElement, warnings: list[str], blocks: list[dict[str, Any] | list[Any]]
) -> list[tuple[dict[str, Any], bool]]:
    """Every JSON-LD object of the page, flagged True when it is a top-level one (or in @graph);
    each block's parsed value is appended to ``blocks``."""
    found: list[tuple[dict[str, Any], bool]] = []
    for script in tree.iterfind(".//script[@type]"):
        if script.get("type", "").strip().lower() != "application/ld+json":
            continue
        text = script.text or ""
        if len(text) > MAX_SCRIPT_CHARS:
            warnings.append(f"structured data block of {len(text):,} characters; not read")
            continue
        if not text.strip():
            continue
        try:
            data = json.loads(text, strict=False)
        except (ValueError, RecursionError):
            continue  # malformed or truncated: the page states nothing usable here
        if isinstance(data, dict | list):
            blocks.append(data)
        stack: list[tuple[Any, bool]] = [(data, True)]
        while stack and len(found) < MAX_NODES:
            value, top = stack.pop()
            if isinstance(value, list):
                stack.extend((item, top) for item in reversed(value[:MAX_NODES]))
            elif isinstance(value, dict):
                found.append((value, top))
                stack.extend((item, key in MAIN_KEYS) for key, item in value.items() if isinstance(item, _CONTAINERS))
    return found


def _types(node: dict[str, Any]) -> list[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return [_short_type(v) for v in values if isinstance(v, str)]


def _short_type(value: str) -> str:
    """``https://schema.org/NewsArticle`` or ``schema:NewsArticle`` → ``NewsArticle``."""
    return _TYPE_PREFIX.split(value.strip())[-1][:100]


def _meta(tree: HtmlElement) -> dict[str, str]:
    """The first ``content`` of each meta tag, keyed by its lowercased property, name or itemprop."""
    found: dict[str, str] = {}
    for element in tree.iterfind(".//meta[@content]"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        if key:
            found.setdefault(key.strip().lower(), element.get("content", ""))
    for element in tree.iterfind(".//time[@itemprop='datePublished'][@datetime]"):
        found.setdefault("datepublished", element.get("datetime", ""))
    return found


def _canonical(tree: HtmlElement) -> str | None:
    for link in tree.iterfind(".//link[@rel][@href]"):
        if link.get("rel", "").strip().lower() == "canonical":
            return link.get("href")
    return None


def _url_key(value: Any) -> str | None:
    """The last segment of a URL's path (an article's slug or id), to compare a claimed URL with the
    page's: hosts (``m.``, ``amp.``), schemes, queries and ``/amp`` suffixes differ between copies of
    one article, its slug does not."""
    if isinstance(value, dict):
        value = value.get("@id") or value.get("url")
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        path = urlsplit(value.strip()).path
    except ValueError:
        return None
    segments = [s for s in path.lower().split("/") if s and s not in ("amp", "index.html")]
    return segments[-1] if segments else None


def _this_page(articles: list[dict[str, Any]], page_urls: set[str]) -> dict[str, Any] | None:
    """The article object describing this page: the one article with a body, or the one whose URL is the page's."""
    with_body = [a for a in articles if _text(a.get("articleBody"))]
    candidates = with_body or articles
    if len(candidates) == 1:
        return candidates[0]
    mine = [a for a in candidates if _claimed_urls(a) & page_urls]
    return mine[0] if len(mine) == 1 else None


def _claimed_urls(article: dict[str, Any]) -> set[str]:
    return {key for name in ("url", "@id", "mainEntityOfPage") if (key := _url_key(article.get(name)))}


def _article_body(article: dict[str, Any], page_urls: set[str], warnings: list[str]) -> str | None:
    raw = _text(article.get("articleBody"))
    if not raw:
        return None
    if len(raw) > MAX_BODY_CHARS:
        warnings.append(f"articleBody of {len(raw):,} characters in structured data; not used")
        return None
    claimed = _claimed_urls(article)
    if claimed and page_urls and not claimed & page_urls:
        warnings.append("articleBody in structured data is of another URL; not used")
        return None
    return _plain(raw)


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value.strip() else ""


def _plain(raw: str) -> str:
    """An articleBody as plain text: some publishers put HTML or entities in it."""
    if _TAGS.search(raw):
        try:
            raw = fromstring(f"<div>{raw}</div>").text_content()
        except (etree.ParserError, ValueError):
            raw = _TAGS.sub(" ", raw)
    elif "&" in raw:
        raw = html.unescape(raw)
    return raw


def _iso_day(value: Any) -> str | None:
    """The ISO date a stated date starts with, if it is one."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        return None
