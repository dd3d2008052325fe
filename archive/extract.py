"""Article extraction: body text and metadata from an archived HTML page.

Shared by the crawler's pipeline and by replay (the text of a capture read
back from its WARC file, :func:`archive.replay.page_text`), so a page
extracted live and one read back from the archive give the same text.
The extraction result always names the extractor and its version, because
researchers comparing versions of an article must know whether a change is
the outlet's or the extractor's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from importlib.metadata import version
from typing import Any

EXTRACTOR = "trafilatura"

#: Blocks that sit inside the article element on many outlets and that
#: trafilatura keeps as text: licence notes (their licence is still read into
#: ``Extraction.license``) and donation appeals, common on nonprofit outlets.
PRUNE_XPATHS = [
    "//*[a[@rel='license']]",
    "//*[contains(@class, 'donat') or contains(@class, 'appeal') or contains(@id, 'donat')]",
]
EXTRACTOR_VERSION: str = version("trafilatura")


@dataclass(frozen=True)
class Extraction:
    """What trafilatura read from one page, plus where its dates came from."""

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def extract_article(
    html: str | bytes,
    url: str,
    fetched_at: datetime,
) -> Extraction | None:
    """Extract one article; ``None`` when the page holds no article text.

    Dates after ``fetched_at`` are refused: a page cannot have been published
    after we saw it, so such a date is a parsing error (or a "last updated"
    clock), never the publication date.
    """
    # Imported here: trafilatura and what it loads (lxml, htmldate, justext, courlan) take a quarter
    # of a second, which only the extraction workers need to pay, not every crawler and CLI process.
    import trafilatura
    from trafilatura.settings import set_date_params

    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    # read before extraction, which prunes the tree in place
    declared_language = (tree.get("lang") or "").split("-")[0].strip().lower() or None
    # htmldate's own upper bound stays "today": bounded by the fetch date it would
    # settle for an older, wrong date (an image path's /2019/02/) instead of refusing.
    params = set_date_params(extensive=True)
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,  # the dedup cache is process-wide: output would depend on crawl order
        prune_xpath=PRUNE_XPATHS,
        date_extraction_params=params,
    )
    if document is None or not (document.text or "").strip():
        return None
    warnings = []
    published = not_after(document.date, fetched_at.date())
    if document.date and published is None:
        warnings.append(f"page date {document.date} is after the fetch; dropped")
    return Extraction(
        text=document.text.strip(),
        title=document.title,
        author=document.author,
        published=published,
        sitename=document.sitename,
        language=document.language or declared_language,
        canonical_url=document.url,
        description=document.description,
        license=document.license,
        warnings=warnings,
    )


def not_after(value: str | None, limit: date) -> str | None:
    """The value as an ISO date, if it parses and is not later than the limit."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return day.isoformat() if day <= limit else None
