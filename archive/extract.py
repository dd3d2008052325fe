"""Article extraction: body text and metadata from an archived HTML page.

Shared by the crawler's pipeline and by replay (the text of a capture read
back from its WARC file, :func:`archive.replay.page_text`), so a page
extracted live and one read back from the archive give the same text.
The extraction result always names the extractor and its version, because
researchers comparing versions of an article must know whether a change is
the outlet's or the extractor's; and it says which evidence decided its text.

The page is parsed once. What it states about itself (schema.org JSON-LD and
microdata, og:/article: meta tags; :mod:`archive.extraction.evidence`) gives
its types, its date and, when the publisher states it, the article's own body,
which confirms, trims or replaces what trafilatura's fast heuristics found
(:mod:`archive.extraction.vouching`); the standfirst the page's markup names
below its headline is put back (:mod:`archive.extraction.lead`); other stories'
headlines (:mod:`archive.extraction.teasers`) and news boilerplate trafilatura
keeps are dropped last (:mod:`archive.extraction.boilerplate`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from importlib.metadata import version
from typing import Any

__all__ = ["EXTRACTOR", "EXTRACTOR_VERSION", "Extraction", "extract_article", "not_after"]

LOGGER = logging.getLogger(__name__)

EXTRACTOR = "newsarchive"
#: The version of this module's extraction logic: raise it with every change that can change a text.
LOGIC_VERSION = "5"
EXTRACTOR_VERSION: str = f"{LOGIC_VERSION}+trafilatura-{version('trafilatura')}"

#: Which evidence decided an extraction's text (``Extraction.method``).
STRUCTURED_DATA = "structured-data"  # the publisher's own articleBody trimmed or replaced trafilatura's text
HEURISTICS = "heuristics"  # trafilatura's fast heuristics, news boilerplate dropped
FALLBACK = "fallback"  # trafilatura's full cascade (readability, jusText), after the fast one found little
UNKNOWN = "unknown"  # a record written before extractions said how they were made

#: A page longer than this (characters, or bytes before decoding) is not extracted: the
#: crawler's EXTRACTION_MAX_SIZE has the same default.
MAX_HTML_SIZE = 5_000_000

#: Blocks that sit inside the article element on many outlets and that
#: trafilatura keeps as text: licence notes (their licence is still read into
#: ``Extraction.license``) and donation appeals, common on nonprofit outlets.
PRUNE_XPATHS = [
    "//*[a[@rel='license']]",
    "//*[contains(@class, 'donat') or contains(@class, 'appeal') or contains(@id, 'donat')]",
]


@dataclass(frozen=True)
class Extraction:
    """What the extractor read from one page, how, and what the page says it is."""

    text: str
    title: str | None = None
    author: str | None = None
    published: str | None = None  # ISO date read from the page itself
    sitename: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    license: str | None = None
    extractor: str = EXTRACTOR
    extractor_version: str = EXTRACTOR_VERSION
    warnings: list[str] = field(default_factory=list)
    method: str = UNKNOWN  # STRUCTURED_DATA, HEURISTICS or FALLBACK
    og_type: str | None = None  # the page's og:type, lowercased ("article", "website", …)
    schema_types: list[str] = field(default_factory=list)  # its schema.org types, JSON-LD then microdata

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def extract_article(
    html: str | bytes,
    url: str,
    fetched_at: datetime,
) -> Extraction | None:
    """Extract one article; ``None`` when the page holds no article text (the reason is logged).

    Dates after ``fetched_at`` are refused: a page cannot have been published
    after we saw it, so such a date is a parsing error (or a "last updated"
    clock), never the publication date. Whatever the input, this returns rather
    than raises: a worker extracting a hostile page must survive it.
    """
    # Imported here: trafilatura and what it loads (lxml, htmldate, justext, courlan) take a quarter
    # of a second, which only the extraction workers need to pay, not every crawler and CLI process.
    from archive.extraction.pipeline import extract

    try:
        return extract(html, url, fetched_at)
    except Exception as error:  # noqa: BLE001 -- any page, any parser bug: "no article", never a dead worker
        LOGGER.warning("no article extracted from %s: %s: %s", url, type(error).__name__, error)
        return None


def not_after(value: str | None, limit: date) -> str | None:
    """The value as an ISO date, if it parses and is not later than the limit."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return day.isoformat() if day <= limit else None
