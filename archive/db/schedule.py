"""The recheck schedule: when each known article is fetched again, and what a recheck sends.

The ingester keeps one row per article (:class:`archive.db.models.RecheckSchedule`)
from the captures of its URL and aliases, in whatever order they are indexed:
each capture is a check, the latest (by time) decides the article's state,
and the next check is the outlet's policy (:mod:`archive.rechecks`) applied
to the article's first sighting, the first sighting of its newest version
(its last change) and its latest check. A database rebuilt from the WARCs
therefore has the same schedule; only the policy comes from outside the
captures, from the warcinfo record describing the outlet.

The crawler reads the rows through :func:`due_batch` (the recheck crawl)
and :func:`known_article` (a ``news`` crawl meeting a known article again).
A row holds copies of all a recheck sends and compares with (the URL to
fetch, the validators, the record id, date and digest of the capture holding
the body), so that the due articles are read from this one table through
its ``next_check_at`` index, in time that does not grow with the archive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, and_, bindparam, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from archive.db.models import Article, ArticleVersion, Capture, Outlet, RecheckCount, RecheckSchedule, Url
from archive.rechecks import RecheckPolicy
from archive.warc.records import RevisitOf

WATCHING, SETTLED, GONE, MOVED = "watching", "settled", "gone", "moved"
STATES = (WATCHING, SETTLED, GONE, MOVED)
GONE_STATUSES = frozenset({404, 410})
#: Answers that say the article is there (a 304 says it is there, unchanged).
PRESENT_STATUSES = frozenset({200, 304})
#: ``recheck_counts.outlet_id`` of articles of no outlet.
NO_OUTLET_ID = 0
#: Rows read per query by :func:`due_batch`.
DUE_BATCH = 1000


@dataclass(frozen=True)
class DueCheck:
    """What a recheck of one article needs: where to fetch it, and what to compare the answer with."""

    article_id: int
    url: str
    outlet: str | None
    state: str
    next_check_at: datetime | None  # naive UTC
    etag: str | None
    last_modified: str | None
    #: The capture holding the article's current body: a 304 refers to it, an equal body repeats it.
    body: RevisitOf | None

    def due(self, now: datetime) -> bool:
        return self.next_check_at is not None and self.next_check_at <= _naive(now)


class ScheduleKeeper:
    """Keeps the schedule rows current as the ingester indexes captures (in its transaction)."""

    def __init__(self, run: Callable[..., Any]) -> None:
        self._run = run
        self._policies: dict[int | None, RecheckPolicy] | None = None

    def forget_policies(self) -> None:
        """Outlets were described again (a warcinfo record): read their policies anew."""
        self._policies = None

    def checked(self, article_id: int, capture_id: int) -> None:
        """The capture is a check of the article: update its state, validators, body and next check."""
        capture = self._run(_CAPTURE_FACTS, capture_id=capture_id).one()
        article = self._run(_ARTICLE_FACTS, article_id=article_id).one()
        row = article if article.state is not None else None  # the article's schedule row, if it has one
        values: dict[str, Any] = {}
        if row is None or (capture.fetched_at, capture.id) >= (row.last_checked_at, row.last_capture_id):
            values.update(last_checked_at=capture.fetched_at, last_capture_id=capture.id)
            values["state"] = _state(capture.status, row.state if row is not None else WATCHING)
            if capture.status in PRESENT_STATUSES and (capture.etag or capture.last_modified):
                values.update(etag=capture.etag, last_modified=capture.last_modified)
        if capture.status == 200 and (row is None or row.body_capture_id is None or "last_capture_id" in values):
            body_id = capture.original_id or capture.id
            if row is None or body_id != row.body_capture_id:
                body = capture if body_id == capture.id else self._run(_CAPTURE_FACTS, capture_id=body_id).one()
                values.update(
                    body_capture_id=body_id,
                    url=body.url,
                    body_record_id=body.record_id,
                    body_fetched_at=body.fetched_at,
                    body_digest=body.payload_digest,
                )
        state = values.get("state", row.state if row is not None else WATCHING)
        last_checked = values.get("last_checked_at", row.last_checked_at if row is not None else capture.fetched_at)
        changed = article.last_changed_at or article.first_seen_at
        next_check = None
        if state in (WATCHING, SETTLED):
            next_check = self._policy(article.outlet_id).next_check(article.first_seen_at, changed, last_checked)
            state = WATCHING if next_check is not None else SETTLED
        values.update(state=state, next_check_at=next_check, last_changed_at=changed, outlet_id=article.outlet_id)
        if row is None:
            values.setdefault("last_checked_at", capture.fetched_at)
            values.setdefault("last_capture_id", capture.id)
            values.setdefault("url", article.url)  # until a capture holds its body
            self._run(insert(_schedule), article_id=article_id, **values)
        else:
            self._run(update(_schedule).where(_schedule.c.article_id == article_id), **values)

    def counted(self, outlet_id: int | None, at: datetime, dialect: str) -> None:
        """One more check of a known article of the outlet in the hour of ``at``, for the rate achieved."""
        hour = at.replace(minute=0, second=0, microsecond=0, tzinfo=None)
        self._run(_COUNT_CHECK[dialect], outlet_id=outlet_id or NO_OUTLET_ID, hour=hour)

    def _policy(self, outlet_id: int | None) -> RecheckPolicy:
        if self._policies is None:
            self._policies = {
                row.id: RecheckPolicy.from_description(row.recheck) for row in self._run(_OUTLET_POLICIES)
            }
        return self._policies.get(outlet_id) or RecheckPolicy()


def due_batch(
    connection: Connection,
    now: datetime,
    outlet: str | None = None,
    everything: bool = False,
    after: DueCheck | None = None,
    limit: int = DUE_BATCH,
) -> list[DueCheck]:
    """The next articles due at ``now`` after ``after`` (or, with ``everything``, every known article once).

    Read by keyset, soonest first (with ``everything``, by article), so that
    each query is an index range scan however many articles are scheduled,
    and rows indexed while the crawl runs (their next check moved on) do not
    come back.
    """
    params: dict[str, Any] = {"limit": limit, "after_id": after.article_id if after is not None else 0}
    if outlet is not None:
        params["outlet"] = outlet
    if not everything:
        params["now"] = _naive(now)
        params["after_key"] = after.next_check_at if after is not None else datetime(1970, 1, 1)
    rows = connection.execute(_DUE_STATEMENTS[everything, outlet is not None], params).all()
    return [_due_check(row) for row in rows]


def known_article(connection: Connection, url: str) -> DueCheck | None:
    """The schedule of the article a URL leads to (itself or as an alias), if it is known."""
    row = connection.execute(_KNOWN, {"url": url}).first()
    return _due_check(row) if row is not None else None


def _state(status: int | None, current: str) -> str:
    if status in PRESENT_STATUSES:
        return WATCHING
    if status in GONE_STATUSES:
        return GONE
    if status is not None and 300 <= status < 400:
        return MOVED
    return current  # a server error or a refusal says nothing about the article: checked again as planned


def _due_check(row: Any) -> DueCheck:
    body = None
    if row.body_record_id is not None:
        body = RevisitOf(row.body_record_id, row.url, row.body_fetched_at.replace(tzinfo=timezone.utc), row.body_digest)
    return DueCheck(
        article_id=row.article_id,
        url=row.url,
        outlet=row.outlet,
        state=row.state,
        next_check_at=row.next_check_at,
        etag=row.etag,
        last_modified=row.last_modified,
        body=body,
    )


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


_schedule = RecheckSchedule.__table__
_captures = Capture.__table__
_articles = Article.__table__
_versions = ArticleVersion.__table__
_urls = Url.__table__
_outlets = Outlet.__table__

_CAPTURE_FACTS = (
    select(
        _captures.c.id,
        _captures.c.fetched_at,
        _captures.c.status,
        _captures.c.etag,
        _captures.c.last_modified,
        _captures.c.original_id,
        _captures.c.record_id,
        _captures.c.payload_digest,
        _urls.c.url,
    )
    .join_from(_captures, _urls, _urls.c.id == _captures.c.url_id)
    .where(_captures.c.id == bindparam("capture_id"))
)
#: The article, and its schedule row's columns (None if it has none yet).
_ARTICLE_FACTS = (
    select(
        _articles.c.first_seen_at,
        _articles.c.outlet_id,
        _urls.c.url,
        select(func.max(_versions.c.first_seen_at))
        .where(_versions.c.article_id == _articles.c.id)
        .scalar_subquery()
        .label("last_changed_at"),
        _schedule.c.state,
        _schedule.c.last_checked_at,
        _schedule.c.last_capture_id,
        _schedule.c.body_capture_id,
    )
    .join_from(_articles, _urls, _urls.c.id == _articles.c.url_id)
    .outerjoin(_schedule, _schedule.c.article_id == _articles.c.id)
    .where(_articles.c.id == bindparam("article_id"))
)
_OUTLET_POLICIES = select(_outlets.c.id, _outlets.c.recheck)
_counts = RecheckCount.__table__
_COUNT_CHECK = {
    name: dialect.insert(_counts)
    .values(outlet_id=bindparam("outlet_id"), hour=bindparam("hour"), checks=1)
    .on_conflict_do_update(index_elements=[_counts.c.outlet_id, _counts.c.hour], set_={"checks": _counts.c.checks + 1})
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}

# Everything a check needs is in its schedule row; only the outlet's name (a handful of rows) is joined.
_CHECK_COLUMNS = select(
    _schedule.c.article_id,
    _schedule.c.state,
    _schedule.c.next_check_at,
    _schedule.c.etag,
    _schedule.c.last_modified,
    _schedule.c.url,
    _outlets.c.name.label("outlet"),
    _schedule.c.body_record_id,
    _schedule.c.body_fetched_at,
    _schedule.c.body_digest,
)
_CHECK_FROM = _schedule.outerjoin(_outlets, _outlets.c.id == _schedule.c.outlet_id)
_OUTLET_ID = select(_outlets.c.id).where(_outlets.c.name == bindparam("outlet")).scalar_subquery()
_DUE = (
    _CHECK_COLUMNS.select_from(_CHECK_FROM)
    .where(
        _schedule.c.next_check_at <= bindparam("now"),
        tuple_(_schedule.c.next_check_at, _schedule.c.article_id)
        # typed, or SQLite's driver writes the datetime without its microseconds and a row comes back twice
        > tuple_(bindparam("after_key", type_=DateTime()), bindparam("after_id", type_=Integer())),
    )
    .order_by(_schedule.c.next_check_at, _schedule.c.article_id)
    .limit(bindparam("limit"))
)
_DUE_ALL = (
    _CHECK_COLUMNS.select_from(_CHECK_FROM)
    .where(_schedule.c.article_id > bindparam("after_id"))
    .order_by(_schedule.c.article_id)
    .limit(bindparam("limit"))
)
#: (everything, one outlet) -> statement
_DUE_STATEMENTS = {
    (False, False): _DUE,
    (False, True): _DUE.where(_schedule.c.outlet_id == _OUTLET_ID),
    (True, False): _DUE_ALL,
    (True, True): _DUE_ALL.where(_schedule.c.outlet_id == _OUTLET_ID),
}
_asked = _urls.alias("asked")
_KNOWN = _CHECK_COLUMNS.select_from(
    _CHECK_FROM.join(_articles, _articles.c.id == _schedule.c.article_id).join(
        _asked,
        and_(
            _asked.c.url == bindparam("url"),
            _articles.c.url_id == func.coalesce(_asked.c.canonical_id, _asked.c.id),
        ),
    )
).limit(1)
