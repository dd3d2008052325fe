"""What the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from archive.extract import Extraction
from archive.urlshape import UrlVerdict


@dataclass
class ArticlePage:
    """A fetched page that the seed list says is an article, before and after extraction."""

    url: str
    outlet: str | None  # None: a recheck of an article no outlet of the archive owns
    html: str = field(repr=False)  # kept out of log lines
    content_type: str
    fetched_at: datetime  # when the response was received; the extractor refuses later publication dates
    extraction: Extraction | None = None
    #: Why the page was fetched as an article: its URL's verdict when its outlet has no article_patterns
    #: (the page is then counted only if it says it is one); None when patterns or a recheck took it.
    url_verdict: UrlVerdict | None = None
    #: Whether the page is counted, and why (archive.urlshape.article_decision), once extracted and decided.
    decision: dict[str, Any] | None = None


@dataclass
class Listing:
    """The entries of one feed or sitemap response: which URLs it listed, with which dates."""

    url: str
    outlet: str
    source: str  # "feed" or "sitemap"
    entries: list[tuple[str, str | None]]  # (entry URL, ISO publication date or None)


@dataclass
class FetchFailure:
    """A request that got no HTTP response at all (timeout, refused connection, DNS)."""

    url: str
    outlet: str | None
    error: str
    at: datetime
