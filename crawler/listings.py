"""Reading sitemaps and feeds: their entries and dates, in memory and time bounded by the document.

A sitemap is whatever a server sends: a gzip member of 1 MB can inflate to
gigabytes, and an lxml tree takes many times its document's size. So a
listing is inflated only up to ``LISTING_MAX_SIZE`` bytes (by default the
sitemap protocol's own limit, 50 MB), and parsed as a stream: each entry's
element is read and cleared as soon as it ends, so the tree never holds
more than one entry. A listing over the limit, or one that cannot be
inflated, raises :class:`UnreadableListing`; the spider counts and logs it,
and the response stays archived as it was received.

The functions return plain lists, so that nothing of the parse is alive
when the callback yields: Scrapy keeps many callbacks' generators suspended
at once.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from io import BytesIO

from lxml import etree
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip, gzip_magic_number

__all__ = ["UnreadableListing", "feed_entries", "sitemap_entries"]

#: (URL as written, ISO publication date or None)
Entry = tuple[str, str | None]


class UnreadableListing(Exception):
    """A sitemap or feed that is not read: too large once inflated, or not inflatable."""


def sitemap_entries(response: Response, max_size: int) -> tuple[list[str], list[Entry]]:
    """A sitemap's child sitemaps (of an index) and its entries with their news publication dates."""
    body = _inflated(response, max_size).decode("utf-8", "replace").encode("utf-8")
    children: list[str] = []
    entries: list[Entry] = []
    for element in _ended(body, ("sitemap", "url")):
        parent = element.getparent()
        if parent is None or parent.getparent() is not None:
            continue  # only the root's own entries count
        loc = _child_text(element, "loc")
        if not loc:
            continue
        if _local(element) == "sitemap" and _local(parent) == "sitemapindex":
            children.append(loc)
        elif _local(element) == "url" and _local(parent) == "urlset":
            news = _child(element, "news")
            entries.append((loc, _iso_date(_child_text(news, "publication_date") if news is not None else None)))
    return children, entries


def feed_entries(response: Response, max_size: int) -> list[Entry]:
    """An RSS or Atom feed's entries (links as written) with their publication dates."""
    encoding = response.encoding if isinstance(response, TextResponse) else "utf-8"
    body = _inflated(response, max_size).decode(encoding, "replace").encode("utf-8")
    entries: list[Entry] = []
    for element in _ended(body, ("item", "entry")):
        if _local(element) == "item":  # RSS 2.0 and 0.9x
            link = _child_text(element, "link") or next(
                (g.text for g in _children(element, "guid") if g.get("isPermaLink") != "false" and g.text), None
            )
            published = _child_text(element, "pubDate") or _child_text(element, "date")
        else:  # Atom
            link = next(
                (a.get("href") for a in _children(element, "link") if a.get("rel") in (None, "alternate")), None
            )
            published = _child_text(element, "published") or _child_text(element, "updated")
        if link and link.strip():
            entries.append((link.strip(), _iso_date(published)))
    return entries


def _inflated(response: Response, max_size: int) -> bytes:
    body = response.body
    if gzip_magic_number(response):
        try:
            body = gunzip(body, max_size=max_size)
        except (OSError, EOFError, struct.error, zlib.error) as e:
            raise UnreadableListing(f"not valid gzip ({e})") from None
        except ValueError:  # Scrapy's decompression limit
            raise UnreadableListing(f"larger than {max_size:,} bytes once inflated (LISTING_MAX_SIZE)") from None
    if max_size and len(body) > max_size:
        raise UnreadableListing(f"larger than {max_size:,} bytes (LISTING_MAX_SIZE)")
    return body


def _ended(body: bytes, names: tuple[str, ...]) -> Iterator[etree._Element]:
    """The elements of these local names as each ends, cleared (with what came before) once used."""
    events = etree.iterparse(
        BytesIO(body),
        events=("end",),
        encoding="utf-8",
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _, element in events:
            if _local(element) in names:
                yield element
                element.clear(keep_tail=False)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError:
        return  # what came before the damage was read


def _local(element: etree._Element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    return (child for child in element if _local(child) == name)


def _child(element: etree._Element, name: str) -> etree._Element | None:
    return next(_children(element, name), None)


def _child_text(element: etree._Element, name: str) -> str | None:
    child = _child(element, name)
    text = child.text if child is not None else None
    return text.strip() if text and text.strip() else None


def _iso_date(value: str | None) -> str | None:
    """An ISO date from a feed (RFC 822) or sitemap (W3C datetime) date."""
    if not value:
        return None
    value = value.strip()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError):
        return None
