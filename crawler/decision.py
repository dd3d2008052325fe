"""Deciding, once a candidate page is extracted, whether it is counted as an article.

A page fetched because its URL looked like an article's (an outlet without
``article_patterns``: :attr:`crawler.items.ArticlePage.url_verdict`) is
judged again on what the page says about itself, as extraction read it:
its ``og:type``, its schema.org types, a publication date, the length of its
text (:func:`archive.urlshape.article_decision`). The decision, with its
evidence, goes on the item (``ArticlePage.decision``); the recorder archives
it as a ``decision/1`` record beside the capture, and an ``article/1``
record only for a page decided an article. A page taken by an outlet's own
patterns, and a recheck of a known article, are counted on their extraction
alone, as before.

Stats: ``decision/articles``, ``decision/not_articles``.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from archive.extract import Extraction
from archive.urlshape import UrlVerdict, article_decision
from crawler.items import ArticlePage

__all__ = ["ArticleDecisionPipeline", "decide"]


def decide(verdict: UrlVerdict, extraction: Extraction) -> dict[str, Any]:
    """The decision on an extracted candidate page, from its URL's verdict and the extraction's evidence."""
    return article_decision(
        verdict,
        og_types=[extraction.og_type] if extraction.og_type else [],
        jsonld_types=extraction.schema_types,
        has_published_date=bool(extraction.published),
        text_length=len(extraction.text),
    )


class ArticleDecisionPipeline:
    """Decides each extracted candidate page (after :class:`crawler.pipelines.ExtractionPipeline`)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleDecisionPipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticlePage) and item.url_verdict is not None and item.extraction is not None:
            item.decision = decide(item.url_verdict, item.extraction)
            self.stats.inc_value("decision/articles" if item.decision["is_article"] else "decision/not_articles")
        return item
