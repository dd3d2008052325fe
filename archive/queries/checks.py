"""What each recheck of an article found, and how the recheck schedule is keeping up.

What a check found is read from the captures, never stored, so a database
rebuilt from the WARCs tells the same history. An article's checks are the
captures of its story URL and of the aliases leading to it, and the fetch
errors of those addresses, in time order. A redirect from an alias to the
article itself (a feed's click-through link, ``http:`` to ``https:``) is the
way to the article, not a check: the answer it led to is.

The status counts are made for an archive of a million scheduled articles:
one grouped pass over ``recheck_schedule``, a range of its ``next_check_at``
index for what is due, and for the rate the checks the ingester counts per
outlet and clock hour (``recheck_counts``): a day's rate is 24 rows per
outlet, however many millions of checks they count. The rate is over
complete clock hours: the last one, and the last 24.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Integer, Row, Select, case, func, or_, select
from sqlalchemy.orm import Session

from archive.db.models import (
    Article,
    ArticleVersion,
    Capture,
    FetchError,
    Observation,
    Outlet,
    RecheckCount,
    RecheckSchedule,
    Url,
)
from archive.db.schedule import GONE_STATUSES, NO_OUTLET_ID, STATES, WATCHING
from archive.errors import NewsArchiveError
from archive.queries.coverage import NO_OUTLET
from archive.warc.records import SERVER_NOT_MODIFIED

__all__ = [
    "GRACE",
    "OUTCOMES",
    "TOTAL",
    "Check",
    "CheckRun",
    "OutletRechecks",
    "RecheckStatus",
    "ScheduleLine",
    "UnknownOutlet",
    "check_history",
    "folded",
    "recheck_status",
    "schedule_of",
]

#: What a check can find, in the order a legend lists them.
OUTCOMES = ("first", "changed", "unchanged", "checked", "moved", "gone", "error", "failed")
#: How late a due check may be before it counts as overdue: the recheck crawl runs every few minutes
#: (a job every 10 minutes, at most a few hundred checks a second), so an hour late means it is not keeping up.
GRACE = timedelta(hours=1)
#: The outlet name of the row that adds up every outlet.
TOTAL = "(all outlets)"


class UnknownOutlet(NewsArchiveError, LookupError):
    """An outlet name the archive does not know."""


@dataclass(frozen=True)
class Check:
    """One fetch of an article (or of an address leading to it), and what it found."""

    at: datetime
    outcome: str  # one of OUTCOMES
    detail: str | None
    status: int | None
    capture_id: int | None  # None for a fetch that got no answer
    version: int | None  # the article version the answer showed, numbered from 1
    url: str


@dataclass(frozen=True)
class CheckRun:
    """Consecutive checks with the same finding (a quiet article answers "not modified" for days)."""

    first: datetime
    last: datetime
    outcome: str
    detail: str | None
    version: int | None
    checks: int


@dataclass(frozen=True)
class ScheduleLine:
    """Where an article stands in the recheck schedule."""

    state: str
    last_checked: datetime
    last_changed: datetime
    next_due: datetime | None


@dataclass(frozen=True)
class OutletRechecks:
    """How one outlet's (or every outlet's) scheduled articles stand, and the checks made lately."""

    outlet: str
    watching: int = 0
    due: int = 0  # next check at or before now
    overdue: int = 0  # due for longer than GRACE
    upcoming: int = 0  # watched, not yet due
    settled: int = 0
    gone: int = 0
    moved: int = 0
    checks_last_hour: int = 0
    checks_last_day: int = 0

    @property
    def rate_last_hour(self) -> float:
        """Checks in the last complete clock hour."""
        return float(self.checks_last_hour)

    @property
    def rate_last_day(self) -> float:
        """Checks per hour over the last 24 complete clock hours."""
        return self.checks_last_day / 24


@dataclass(frozen=True)
class RecheckStatus:
    now: datetime
    grace: timedelta
    outlets: list[OutletRechecks] = field(default_factory=list)
    total: OutletRechecks = field(default_factory=lambda: OutletRechecks(TOTAL))


def check_history(session: Session, article_id: int) -> list[Check]:
    """Every check of an article, oldest first, each with what it found."""
    article = session.get(Article, article_id)
    if article is None:
        return []
    family = select(Url.id, Url.url).where(or_(Url.id == article.url_id, Url.canonical_id == article.url_id))
    urls = {i: url for i, url in session.execute(family)}
    own_addresses = set(urls.values())
    versions = session.execute(
        select(ArticleVersion.id, ArticleVersion.first_capture_id)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.first_seen_at, ArticleVersion.id)
    ).all()
    number = {version_id: n for n, (version_id, _) in enumerate(versions, 1)}
    introduced = {first_capture: version_id for version_id, first_capture in versions}
    captures = session.execute(
        select(
            Capture.id,
            Capture.url_id,
            Capture.fetched_at,
            Capture.status,
            Capture.is_revisit,
            Capture.revisit_profile,
            Capture.redirect_url,
            Observation.version_id,
        )
        .outerjoin(Observation, Observation.capture_id == Capture.id)
        .where(Capture.url_id.in_(urls))
        .order_by(Capture.fetched_at, Capture.id)
    ).all()
    checks = []
    for c in captures:
        if c.redirect_url in own_addresses and c.url_id != article.url_id:
            continue  # an alias leading to the article: the next capture is the answer
        outcome, detail = _finding(c, first=not checks, introduced=introduced)
        checks.append(Check(c.fetched_at, outcome, detail, c.status, c.id, number.get(c.version_id), urls[c.url_id]))
    failures = session.execute(
        select(FetchError.at, FetchError.error, FetchError.url_id).where(FetchError.url_id.in_(urls))
    ).all()
    checks += [Check(f.at, "failed", f.error, None, None, None, urls[f.url_id]) for f in failures]
    return sorted(checks, key=lambda c: (c.at, c.capture_id is None, c.capture_id or 0))


def _finding(capture: Row[Any], first: bool, introduced: dict[int, int]) -> tuple[str, str | None]:
    status = capture.status
    if first:
        return "first", None
    if status == 304 or capture.revisit_profile == SERVER_NOT_MODIFIED:
        return "unchanged", "not modified"
    if status in GONE_STATUSES:
        return "gone", None
    if status is not None and 300 <= status < 400:
        return "moved", capture.redirect_url
    if capture.is_revisit and status in (200, None):
        return "unchanged", "same bytes"
    if status == 200:
        if capture.version_id is None:
            return "checked", "no article read"
        if introduced.get(capture.id) == capture.version_id:
            return "changed", None
        return "unchanged", "page changed, text unchanged"
    return "error", str(status) if status is not None else "no HTTP status"


def folded(checks: Iterable[Check]) -> list[CheckRun]:
    """Checks with consecutive runs of the same finding (outcome, detail, version) folded into one."""
    runs: list[CheckRun] = []
    for check in checks:
        last = runs[-1] if runs else None
        if last and (last.outcome, last.detail, last.version) == (check.outcome, check.detail, check.version):
            runs[-1] = CheckRun(last.first, check.at, last.outcome, last.detail, last.version, last.checks + 1)
        else:
            runs.append(CheckRun(check.at, check.at, check.outcome, check.detail, check.version, 1))
    return runs


def schedule_of(session: Session, article_id: int) -> ScheduleLine | None:
    """The article's place in the recheck schedule; None for an article never scheduled."""
    row = session.get(RecheckSchedule, article_id)
    if row is None:
        return None
    return ScheduleLine(row.state, row.last_checked_at, row.last_changed_at, row.next_check_at)


def recheck_status(
    session: Session, now: datetime, outlet: str | None = None, grace: timedelta = GRACE
) -> RecheckStatus:
    """Per outlet (one, by name, or all): scheduled articles by state, due and overdue at ``now``,
    and the checks made in the hour and the day before it; :class:`UnknownOutlet` for a name not known.

    A check counted in the rate is a capture of a known article's URL or of an alias of it, fetched
    after the article's first sighting; a redirect from an alias is the way to the article, not a check.
    """
    now = _naive_utc(now)
    names = {i: name for i, name in session.execute(select(Outlet.id, Outlet.name))}
    outlet_id = None
    if outlet is not None:
        outlet_id = next((i for i, name in names.items() if name == outlet), None)
        if outlet_id is None:
            known = ", ".join(sorted(names.values())) or "none"
            raise UnknownOutlet(f"no outlet named {outlet!r} (known: {known})")
    counts: dict[int | None, dict[str, int]] = {}

    def add(key: int | None, **values: int) -> None:
        row = counts.setdefault(key, {})
        for name, value in values.items():
            row[name] = row.get(name, 0) + int(value or 0)

    schedule = RecheckSchedule.__table__.c
    by_state = select(schedule.outlet_id, schedule.state, func.count()).group_by(schedule.outlet_id, schedule.state)
    due = (
        select(
            schedule.outlet_id,
            func.count(),
            func.sum(case((schedule.next_check_at <= now - grace, 1), else_=0), type_=Integer),
        )
        .where(schedule.next_check_at <= now)
        .group_by(schedule.outlet_id)
    )
    if outlet_id is not None:
        by_state = by_state.where(schedule.outlet_id == outlet_id)
        due = due.where(schedule.outlet_id == outlet_id)
    for key, state, count in session.execute(by_state):
        if state in STATES:
            add(key, **{state: count})
    for key, count, overdue in session.execute(due):
        add(key, due=count, overdue=overdue)
    for key, day, hour in session.execute(_checks_since(now, outlet_id)):
        add(None if key == NO_OUTLET_ID else key, checks_last_day=day, checks_last_hour=hour)
    rows = [
        OutletRechecks(
            names.get(key, NO_OUTLET),  # (None: articles of no known outlet)
            **values,
            upcoming=max(values.get(WATCHING, 0) - values.get("due", 0), 0),
        )
        for key, values in counts.items()
    ]
    rows.sort(key=lambda r: r.outlet)
    return RecheckStatus(now, grace, rows, _total(rows))


def _checks_since(now: datetime, outlet_id: int | None) -> Select[Any]:
    """Per outlet: checks in the 24 complete clock hours and in the one complete clock hour before ``now``."""
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    hour_ago, day_ago = this_hour - timedelta(hours=1), this_hour - timedelta(days=1)
    counts = RecheckCount.__table__.c
    query = (
        select(
            counts.outlet_id,
            func.sum(counts.checks, type_=Integer),
            func.sum(case((counts.hour >= hour_ago, counts.checks), else_=0), type_=Integer),
        )
        .where(counts.hour >= day_ago, counts.hour < this_hour)
        .group_by(counts.outlet_id)
    )
    return query if outlet_id is None else query.where(counts.outlet_id == outlet_id)


def _total(rows: Sequence[OutletRechecks]) -> OutletRechecks:
    counted = [f.name for f in fields(OutletRechecks) if f.name != "outlet"]
    return OutletRechecks(TOTAL, **{name: sum(getattr(r, name) for r in rows) for name in counted})


def _naive_utc(moment: datetime) -> datetime:
    """A time as the database stores it: naive UTC."""
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
