"""The recheck schedule: when each known article is fetched again, and what a recheck sends.

The ingester keeps one row per article (:class:`archive.db.models.RecheckSchedule`)
from the captures of its URL and aliases, in whatever order they are indexed:
each capture is a check, the latest (by time) decides the article's state,
and the next check is the outlet's policy (:mod:`archive.rechecks`) applied
to the article's first sighting, the first sighting of its newest version
(its last change) and its latest check. Each check later than the article's
first sighting is counted once in ``recheck_counts`` (the one that found the
article is no check of a known one). A database rebuilt from the WARCs
therefore has the same schedule and counts; only the policy comes from outside
the captures, from the warcinfo record describing the outlet.

The crawler reads the rows through :func:`due_batch` (the recheck crawl)
and :func:`known_article` (a ``news`` crawl meeting a known article again).
A row holds copies of all a recheck sends and compares with (the URL to
fetch, the validators, the record id, date and digest of the capture holding
the body), so that the due articles are read from this one table through
its ``next_check_at`` index, in time that does not grow with the archive.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Integer,
    Text,
    and_,
    bindparam,
    cast,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
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


@dataclass(frozen=True)
class CaptureFacts:
    """A capture's columns that a check of its article reads (:data:`CAPTURE_FACT_COLUMNS`)."""

    id: int
    fetched_at: datetime
    status: int | None
    etag: str | None
    last_modified: str | None
    original_id: int | None
    record_id: str
    payload_digest: str | None
    url: str

    @classmethod
    def of(cls, row: Any) -> CaptureFacts:
        """The facts from a row that has (at least) these columns."""
        return cls(**{field.name: getattr(row, field.name) for field in fields(cls)})


class ScheduleKeeper:
    """Keeps the schedule rows current as the ingester indexes captures (in its transaction).

    A row is what indexing the article's checks in time order gives. The ingester
    indexes them in any order (crawlers sharing a folder, a rebuild reading files by
    name): a check older than the row's latest, or checks found when the article is
    (its first sighting, or a new alias leading to it), have the row folded again
    from every check of the article, so each order ends in the same row.
    """

    def __init__(self, run: Callable[..., Any]) -> None:
        self._run = run
        self._policies: dict[int | None, RecheckPolicy] | None = None
        #: Policies by their description as stored: the outlets are read again in every batch (another
        #: crawler may have described them anew), and parsing their policies each time cost a tenth of
        #: the indexer's time in a recheck crawl.
        self._parsed: dict[str | None, RecheckPolicy] = {}
        #: Checks counted in the batch, by outlet and hour (:meth:`end_batch` writes them).
        self._counted: Counter[tuple[int, datetime]] = Counter()

    def start_batch(self) -> None:
        """A batch's transaction begins (maybe again, after a conflict): nothing read or counted before holds."""
        self._policies = None
        self._counted.clear()

    def end_batch(self, dialect: str) -> None:
        """Add the batch's checks to the hourly counts: a statement per outlet and hour, not per check."""
        for (outlet_id, hour), checks in sorted(self._counted.items()):
            self._run(_COUNT_CHECKS[dialect], outlet_id=outlet_id, hour=hour, checks=checks)
        self._counted.clear()

    def forget_policies(self) -> None:
        """Outlets were described again (a warcinfo record): read their policies anew."""
        self._policies = None

    def checked(self, article_id: int, capture: CaptureFacts) -> None:
        """The capture is a check of the article: update its state, validators, body and next check.
        The ingester has the capture's facts at hand (it has just inserted or read it), so they are not read here."""
        article = self._run(_ARTICLE_FACTS, article_id=article_id).one()
        row = article if article.state is not None else None  # the article's schedule row, if it has one
        if row is not None and (capture.fetched_at, capture.id) < (row.last_checked_at, row.last_capture_id):
            # indexed out of time order: what it changes (validators, body) depends on the checks after it
            self._refold(article_id, article)
            return
        values: dict[str, Any] = {"last_checked_at": capture.fetched_at, "last_capture_id": capture.id}
        values["state"] = _state(capture.status, row.state if row is not None else WATCHING)
        if capture.status in PRESENT_STATUSES and (capture.etag or capture.last_modified):
            values.update(etag=capture.etag, last_modified=capture.last_modified)
        if capture.status == 200:
            body_id = capture.original_id or capture.id
            if row is None or body_id != row.body_capture_id:
                values.update(self._body(body_id, capture))
        self._write(article_id, article, values)

    def caught_up(self, article_id: int, before: datetime | None, joined: Collection[int]) -> bool:
        """After an ``article/1`` record: take in the captures indexed before it that it made checks of the article.

        Captures indexed before their article (or before their URL became its alias) heard of no
        article; this is where they are checked and counted, once. ``before``: the article's first
        sighting before the record (None: the record made the article, and every capture leading
        to it is a check); ``joined``: URLs leading to it from this record on. A check counts when
        it is later than the first sighting (the sighting that found the article is no check of a
        known one), so a first sighting moved earlier than ``before`` counts the checks in between.
        True if the row was folded again from every check (the record's capture among them).
        """
        article = self._run(_ARTICLE_FACTS, article_id=article_id).one()
        first_seen = article.first_seen_at
        if before is None:
            found = self._run(_CHECKS, url_id=article.url_id).all()
        elif joined or first_seen < before:
            found = self._run(
                _CHECKS_JOINED_OR_BETWEEN, url_id=article.url_id, joined=list(joined), after=first_seen, until=before
            ).all()
        else:
            return False
        for check in found:
            if check.fetched_at > first_seen:
                self.counted(article.outlet_id, check.fetched_at)
        if before is None or any(check.url_id in joined for check in found):
            return self._refold(article_id, article)
        return False

    def counted(self, outlet_id: int | None, at: datetime) -> None:
        """One more check of a known article of the outlet in the hour of ``at``, for the rate achieved."""
        self._counted[outlet_id or NO_OUTLET_ID, at.replace(minute=0, second=0, microsecond=0, tzinfo=None)] += 1

    def _refold(self, article_id: int, article: Any) -> bool:
        """The row from every check of the article, as indexing them in time order makes it; False if it has none."""
        values: dict[str, Any] = {}
        state, body = WATCHING, None
        for capture in self._run(_CHECKS, url_id=article.url_id):
            values.update(last_checked_at=capture.fetched_at, last_capture_id=capture.id)
            state = _state(capture.status, state)
            if capture.status in PRESENT_STATUSES and (capture.etag or capture.last_modified):
                values.update(etag=capture.etag, last_modified=capture.last_modified)
            if capture.status == 200:
                body = capture
        if not values:
            return False  # no capture leads to the article (its own address moved): the row stays as it was
        if body is not None:
            values.update(self._body(body.original_id or body.id, None))
        else:
            values.update(_NO_BODY, url=article.url)
        values.setdefault("etag", None)
        values.setdefault("last_modified", None)
        values["state"] = state
        self._write(article_id, article, values)
        return True

    def _body(self, body_id: int, capture: Any) -> dict[str, Any]:
        """The copies a row keeps of the capture holding the body (``capture``, if that is it)."""
        body = capture if capture is not None and body_id == capture.id else None
        if body is None:
            body = self._run(_CAPTURE_FACTS, capture_id=body_id).one()
        return {
            "body_capture_id": body_id,
            "url": body.url,
            "body_record_id": body.record_id,
            "body_fetched_at": body.fetched_at,
            "body_digest": body.payload_digest,
        }

    def _write(self, article_id: int, article: Any, values: dict[str, Any]) -> None:
        """Add the article's next check to ``values`` and write its row."""
        changed = article.last_changed_at or article.first_seen_at
        next_check = None
        if values["state"] in (WATCHING, SETTLED):
            policy = self._policy(article.outlet_id)
            next_check = policy.next_check(article.first_seen_at, changed, values["last_checked_at"])
            values["state"] = WATCHING if next_check is not None else SETTLED
        values.update(next_check_at=next_check, last_changed_at=changed, outlet_id=article.outlet_id)
        if article.state is None:
            values.setdefault("url", article.url)  # until a capture holds its body
            self._run(insert(_schedule), article_id=article_id, **values)
        else:
            self._run(update(_schedule).where(_schedule.c.article_id == article_id), **values)

    def _policy(self, outlet_id: int | None) -> RecheckPolicy:
        if self._policies is None:
            self._policies = {row.id: self._parsed_policy(row.recheck) for row in self._run(_OUTLET_POLICIES)}
        return self._policies.get(outlet_id) or RecheckPolicy()

    def _parsed_policy(self, stored: str | None) -> RecheckPolicy:
        policy = self._parsed.get(stored)
        if policy is None:
            policy = RecheckPolicy.from_description(json.loads(stored) if stored else None)
            self._parsed[stored] = policy
        return policy


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

#: A capture's :class:`CaptureFacts`, as columns of the captures joined to their URLs.
CAPTURE_FACT_COLUMNS = (
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
_CAPTURE_FACTS = (
    select(*CAPTURE_FACT_COLUMNS)
    .join_from(_captures, _urls, _urls.c.id == _captures.c.url_id)
    .where(_captures.c.id == bindparam("capture_id"))
)
#: An article's checks (``url_id``: its URL), oldest first: the captures of the URLs leading to it (its own,
#: unless it moved, and its aliases: the ingester's rule) but for redirects from an alias, which are the
#: way to the article, not checks of it.
_CHECKS = (
    select(
        _captures.c.id,
        _captures.c.url_id,
        _captures.c.fetched_at,
        _captures.c.status,
        _captures.c.etag,
        _captures.c.last_modified,
        _captures.c.original_id,
    )
    .join_from(_captures, _urls, _urls.c.id == _captures.c.url_id)
    .where(
        or_(
            and_(_urls.c.id == bindparam("url_id"), _urls.c.canonical_id.is_(None)),
            _urls.c.canonical_id == bindparam("url_id"),
        ),
        or_(_captures.c.redirect_url.is_(None), _captures.c.url_id == bindparam("url_id")),
    )
    .order_by(_captures.c.fetched_at, _captures.c.id)
)
#: Those at the ``joined`` URLs, or fetched after ``after`` until ``until``.
_CHECKS_JOINED_OR_BETWEEN = _CHECKS.where(
    or_(
        _captures.c.url_id.in_(bindparam("joined", expanding=True)),
        and_(
            _captures.c.fetched_at > bindparam("after", type_=DateTime()),
            _captures.c.fetched_at <= bindparam("until", type_=DateTime()),
        ),
    )
)
_NO_BODY = {"body_capture_id": None, "body_record_id": None, "body_fetched_at": None, "body_digest": None}
#: The article, and its schedule row's columns (None if it has none yet).
_ARTICLE_FACTS = (
    select(
        _articles.c.first_seen_at,
        _articles.c.outlet_id,
        _articles.c.url_id,
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
_OUTLET_POLICIES = select(_outlets.c.id, cast(_outlets.c.recheck, Text).label("recheck"))  # as stored: see _parsed
_counts = RecheckCount.__table__


def _count_checks(dialect: Any) -> Any:
    """An upsert adding ``checks`` to an outlet's hour."""
    statement = dialect.insert(_counts).values(
        outlet_id=bindparam("outlet_id"), hour=bindparam("hour"), checks=bindparam("checks")
    )
    return statement.on_conflict_do_update(
        index_elements=[_counts.c.outlet_id, _counts.c.hour],
        set_={"checks": _counts.c.checks + statement.excluded.checks},
    )


_COUNT_CHECKS = {"postgresql": _count_checks(postgresql), "sqlite": _count_checks(sqlite)}

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
