"""What each outlet's URLs proved to be: the shapes of its candidate pages, counted by decision.

Every candidate page the crawler fetched without an outlet's hand-written
patterns is decided an article or not (a ``decision/1`` record, indexed into
``capture_decisions`` with its URL's shape, :func:`archive.urlshape.url_shape`).
Counted here per outlet and shape, those decisions are what the outlet has
taught the crawler: links of a shape proven to be articles are fetched first
next time, and ``newsarchive seeds shapes`` shows them with examples. Counted
from the decisions rather than kept as running totals, they are whatever a
rebuild from the WARCs makes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, case, func, select

from archive.db.models import CaptureDecision, Outlet, Url

__all__ = ["ShapeCount", "learned_shapes"]

_decisions = CaptureDecision.__table__
_urls = Url.__table__
_outlets = Outlet.__table__


@dataclass(frozen=True)
class ShapeCount:
    """One URL shape of an outlet: how many of its URLs were articles and how many were not, with examples."""

    shape: str
    articles: int
    not_articles: int
    examples: tuple[str, ...]

    @property
    def proven(self) -> bool:
        """Whether the shape is an article's on this outlet: more of its URLs were articles than not."""
        return self.articles > self.not_articles


def learned_shapes(connection: Connection, outlets: Iterable[str] | None = None) -> dict[str, list[ShapeCount]]:
    """Each outlet's URL shapes (by outlet name), most articles first; ``outlets``: only these."""
    article = case((_decisions.c.is_article, _decisions.c.url_id))
    other = case((_decisions.c.is_article.is_(False), _decisions.c.url_id))
    query = (
        select(
            _outlets.c.name,
            _decisions.c.shape,
            func.count(article.distinct()).label("articles"),
            func.count(other.distinct()).label("not_articles"),
            func.min(_urls.c.url).label("first"),
            func.max(_urls.c.url).label("last"),
        )
        .join(_urls, _urls.c.id == _decisions.c.url_id)
        .join(_outlets, _outlets.c.id == _urls.c.outlet_id)
        .group_by(_outlets.c.name, _decisions.c.shape)
    )
    if outlets is not None:
        query = query.where(_outlets.c.name.in_(list(outlets)))
    found: dict[str, list[ShapeCount]] = {}
    for row in connection.execute(query):
        examples = tuple(dict.fromkeys((row.first, row.last)))
        found.setdefault(row.name, []).append(ShapeCount(row.shape, row.articles, row.not_articles, examples))
    for shapes in found.values():
        shapes.sort(key=lambda s: (-s.articles, s.not_articles, s.shape))
    return found
