"""Jobs files: which crawls run when.

A jobs file is a TOML file with one ``[[job]]`` table per job, and an
optional ``[defaults]`` table whose fields every job inherits::

    [defaults]
    timezone = "America/New_York"     # IANA name; default UTC
    timeout = "20m"                   # a run is stopped after this long
    settings = { ARCHIVE_CONTACT_URL = "https://example.org/contact" }

    [[job]]
    name = "frontpages"               # letters, digits, . _ - (the job's id)
    seeds = "../seeds/outlets.toml"   # relative to this file; spider "news"
    trigger = { cron = "*/15 * * * *" }

    [[job]]
    name = "hanoi-summit"
    spider = "news"                   # default; any spider of the project
    args = { }                        # further spider arguments (-a)
    seeds = "../seeds/hanoi.toml"
    trigger = { every = "1d" }        # 30s, 15m, 1h, 1d, 1w, or combined: 1h30m (at most 366d)
    start = 2019-02-28T08:00:00       # not before (and, with "every", the phase)
    stop = 2019-03-28T08:00:00        # not after: the job ends
    timeout = "2h"                    # at most 30d
    misfire_grace = "6h"              # skip a run that could not start this late (at most 366d)
    settings = { SECTION_DEPTH_LIMIT = 1 }    # Scrapy settings for this job's crawls (-s)

    [[job]]
    name = "rechecks"                 # known articles due for a recheck (archive/rechecks.py)
    spider = "recheck"                # no seed list needed; args = { due = "all" } checks every article
    trigger = { every = "10m" }       # a run still going when the next is due is not started twice
    timeout = "9m"

Everything is checked before a scheduler uses the file, seed lists
included, and a mistake names the file, the job and the field
(``jobs/x.toml: job 'frontpages'.trigger.cron: ...``). The bounds on
durations and dates are those the scheduler and the runner can compute
with: what ``jobs check`` accepts, ``jobs run`` and ``jobs serve`` can run.

A job is turned into plain data (:meth:`JobSpec.to_state`) for APScheduler's
job store, so a stored job never depends on this module's classes.

The module is longer than most because it is the whole contract of a jobs
file: every field's check sits here, so what ``jobs check`` accepts is read
in one place.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archive.configfile import ConfigFileError, format_duration, parse_duration, read_toml
from archive.rechecks import DUE_CHOICES
from archive.seeds import SeedError, load_seeds

#: The spider that rechecks known articles (its seed list is optional).
RECHECK_SPIDER = "recheck"
#: The spider a job runs unless it names another; it needs a seed list.
DEFAULT_SPIDER = "news"
DEFAULT_TIMEZONE = "UTC"
#: Settings the runner sets for every crawl (where the archive is, where stats go).
RESERVED_SETTINGS = frozenset(
    {"ARCHIVE_DATA_DIR", "ARCHIVE_DATABASE_URL", "ARCHIVE_WARC_DIR", "STATS_FILE", "LOG_FILE"}
)

_JOB_FIELDS = {
    "name",
    "spider",
    "seeds",
    "args",
    "settings",
    "trigger",
    "start",
    "stop",
    "timezone",
    "timeout",
    "misfire_grace",
}
_DEFAULT_FIELDS = {"timezone", "timeout", "misfire_grace", "settings"}
_TRIGGER_KINDS = ("cron", "every")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_SPIDER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SETTING = re.compile(r"[A-Z][A-Z0-9_]*")
_ARGUMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DAY = 86400
#: The longest interval between runs: a yearly crawl is the rarest a schedule needs.
MAX_EVERY = 366 * _DAY
#: The longest a run may take before it is stopped (a month).
MAX_TIMEOUT = 30 * _DAY
#: The longest a run may start late.
MAX_MISFIRE_GRACE = 366 * _DAY
#: The years a start or stop may fall in: run times are computed up to the stop, and datetime ends in 9999.
YEARS = range(1970, 2201)
_CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")


class JobsFileError(ConfigFileError):
    """A jobs file that cannot be used, with the file, job and field at fault."""

    kind = "jobs file"


@dataclass(frozen=True)
class JobSpec:
    """One validated job: what to crawl, when, and for how long at most."""

    name: str
    spider: str
    seeds: str | None  # absolute path
    args: tuple[tuple[str, str], ...]
    settings: tuple[tuple[str, str], ...]
    cron: str | None  # exactly one of cron and every
    every: int | None  # seconds
    start: datetime | None  # aware
    stop: datetime | None  # aware
    timezone: str
    timeout: int  # seconds
    misfire_grace: int | None  # seconds; None: however late
    file: str = ""

    def trigger(self) -> BaseTrigger:
        """The APScheduler trigger for this job (a new one each call)."""
        zone = ZoneInfo(self.timezone)
        if self.cron is not None:
            fields = dict(zip(_CRON_FIELDS, self.cron.split(), strict=True))
            return CronTrigger(**fields, start_date=self.start, end_date=self.stop, timezone=zone)
        assert self.every is not None
        return IntervalTrigger(seconds=self.every, start_date=self.start, end_date=self.stop, timezone=zone)

    @property
    def runs_on_add(self) -> bool:
        """An interval job without a start date runs when it is first scheduled, then every interval."""
        return self.every is not None and self.start is None

    def next_run_times(self, now: datetime, count: int) -> list[datetime]:
        """The next ``count`` run times if the job were scheduled at ``now`` (fewer if it stops)."""
        trigger = self.trigger()
        times: list[datetime] = []
        previous = None
        if self.runs_on_add:
            previous = now.astimezone(ZoneInfo(self.timezone))
            times.append(previous)
        while len(times) < count:
            # a cron trigger looks for the first time after max(previous, now): move now along
            following = trigger.get_next_fire_time(previous, previous or now)
            if following is None:
                break
            times.append(following)
            previous = following
        return times

    def describe_trigger(self) -> str:
        what = f"cron {self.cron}" if self.cron is not None else f"every {format_duration(self.every or 0)}"
        for word, moment in (("from", self.start), ("until", self.stop)):
            if moment is not None:
                what += f" {word} {moment.astimezone(ZoneInfo(self.timezone)):%Y-%m-%d %H:%M}"
        return what

    def schedule_state(self) -> dict[str, Any]:
        """The fields that decide run times: a stored job whose schedule is unchanged keeps its next run time."""
        return {
            "cron": self.cron,
            "every": self.every,
            "start": self.start.isoformat() if self.start else None,
            "stop": self.stop.isoformat() if self.stop else None,
            "timezone": self.timezone,
        }

    def to_state(self) -> dict[str, Any]:
        """The job as plain data, for APScheduler's job store."""
        return {
            "name": self.name,
            "spider": self.spider,
            "seeds": self.seeds,
            "args": dict(self.args),
            "settings": dict(self.settings),
            **self.schedule_state(),
            "timeout": self.timeout,
            "misfire_grace": self.misfire_grace,
            "file": self.file,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> JobSpec:
        """The job back from :meth:`to_state` (already validated when it was stored)."""
        return cls(
            name=state["name"],
            spider=state["spider"],
            seeds=state["seeds"],
            args=tuple(state["args"].items()),
            settings=tuple(state["settings"].items()),
            cron=state["cron"],
            every=state["every"],
            start=datetime.fromisoformat(state["start"]) if state["start"] else None,
            stop=datetime.fromisoformat(state["stop"]) if state["stop"] else None,
            timezone=state["timezone"],
            timeout=state["timeout"],
            misfire_grace=state["misfire_grace"],
            file=state.get("file", ""),
        )


@dataclass(frozen=True)
class JobsFile:
    """A validated jobs file."""

    path: Path
    jobs: tuple[JobSpec, ...]

    def job(self, name: str) -> JobSpec | None:
        return next((j for j in self.jobs if j.name == name), None)


def load_jobs(path: str | os.PathLike[str]) -> JobsFile:
    """Read and validate a jobs file; raise :class:`JobsFileError` naming file, job and field."""
    path = Path(path)
    data = read_toml(path, JobsFileError)
    unknown = set(data) - {"job", "defaults"}
    if unknown:
        raise JobsFileError(path, sorted(unknown)[0], "unknown top-level key (expected [[job]] and [defaults])")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise JobsFileError(path, "defaults", "must be a table")
    _no_unknown(path, "defaults", defaults, _DEFAULT_FIELDS)
    tables = data.get("job")
    if not isinstance(tables, list) or not tables:
        raise JobsFileError(path, "job", "no [[job]] tables")
    jobs = tuple(_job(path, i, t, defaults) for i, t in enumerate(tables))
    seen: set[str] = set()
    for job in jobs:
        if job.name in seen:
            raise JobsFileError(path, f"job {job.name!r}.name", "duplicate job name")
        seen.add(job.name)
    return JobsFile(path=path, jobs=jobs)


def _job(path: Path, index: int, table: Any, defaults: dict[str, Any]) -> JobSpec:
    where = f"job[{index}]"
    if not isinstance(table, dict):
        raise JobsFileError(path, where, "must be a table")
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise JobsFileError(
            path, f"{where}.name", "required: letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    where = f"job {name!r}"
    _no_unknown(path, where, table, _JOB_FIELDS)
    merged = {**defaults, **table}
    merged["settings"] = _settings(path, where, defaults, table)

    def fail(field: str, message: str) -> JobsFileError:
        return JobsFileError(path, f"{where}.{field}", message)

    spider = merged.get("spider", DEFAULT_SPIDER)
    if not isinstance(spider, str) or not _SPIDER.fullmatch(spider):
        raise fail("spider", "must be a spider name")
    seeds = _seeds(path, where, merged.get("seeds"), spider)
    args = merged.get("args", {})
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        raise fail("args", "must be a table of strings (spider arguments)")
    for key in args:
        if not _ARGUMENT.fullmatch(key):
            raise fail(f"args.{key}", "not a spider argument name (letters, digits and _)")
    if "seeds" in args:
        raise fail("args.seeds", "give the seed list as the job's seeds field (checked, and relative to this file)")
    if spider == RECHECK_SPIDER and args.get("due", DUE_CHOICES[0]) not in DUE_CHOICES:
        raise fail("args.due", f"the recheck spider takes due = {' or '.join(map(repr, DUE_CHOICES))}")

    zone_name = merged.get("timezone", DEFAULT_TIMEZONE)
    if not isinstance(zone_name, str) or zone_name not in _time_zones():
        raise fail("timezone", f"not a known IANA time zone: {zone_name!r} (e.g. 'UTC', 'Europe/Berlin')")
    zone = ZoneInfo(zone_name)

    start = _when(path, where, "start", merged.get("start"), zone)
    stop = _when(path, where, "stop", merged.get("stop"), zone)
    if start and stop and stop <= start:
        raise fail("stop", f"must be after start ({start.isoformat(sep=' ')})")

    cron, every = _trigger(path, where, merged.get("trigger"))

    if "timeout" not in merged:
        raise fail("timeout", "required (here or in [defaults]): the longest a run may take, e.g. '30m'")
    timeout = _duration(path, where, "timeout", merged["timeout"], MAX_TIMEOUT)
    grace = merged.get("misfire_grace")
    misfire_grace = None if grace is None else _duration(path, where, "misfire_grace", grace, MAX_MISFIRE_GRACE)

    spec = JobSpec(
        name=name,
        spider=spider,
        seeds=seeds,
        args=tuple(sorted(args.items())),
        settings=merged["settings"],
        cron=cron,
        every=every,
        start=start,
        stop=stop,
        timezone=zone_name,
        timeout=timeout,
        misfire_grace=misfire_grace,
        file=str(path.absolute()),
    )
    return spec


def _no_unknown(path: Path, where: str, table: dict[str, Any], known: set[str]) -> None:
    unknown = set(table) - known
    if unknown:
        raise JobsFileError(path, f"{where}.{sorted(unknown)[0]}", f"unknown field (known: {', '.join(sorted(known))})")


def _seeds(path: Path, where: str, value: Any, spider: str) -> str | None:
    if value is None:
        if spider == DEFAULT_SPIDER:
            raise JobsFileError(path, f"{where}.seeds", f"required: the {DEFAULT_SPIDER!r} spider crawls a seed list")
        return None
    if not isinstance(value, str) or not value:
        raise JobsFileError(path, f"{where}.seeds", "must be the path of a seed list")
    try:
        seeds = (path.parent / value).resolve()
    except (OSError, RuntimeError) as e:  # RuntimeError: a symbolic link loop
        raise JobsFileError(path, f"{where}.seeds", f"cannot be resolved: {e}") from None
    try:
        load_seeds(seeds)
    except SeedError as e:
        raise JobsFileError(path, f"{where}.seeds", str(e)) from None
    return str(seeds)


def _settings(path: Path, where: str, defaults: dict[str, Any], table: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    merged: dict[str, str] = {}
    for owner, source in (("defaults", defaults), (where, table)):
        values = source.get("settings", {})
        if not isinstance(values, dict):
            raise JobsFileError(path, f"{owner}.settings", "must be a table of Scrapy settings")
        for key, value in values.items():
            field = f"{owner}.settings.{key}"
            if not _SETTING.fullmatch(key):
                raise JobsFileError(path, field, "not a Scrapy setting name (upper case)")
            if key in RESERVED_SETTINGS:
                raise JobsFileError(path, field, "set by the scheduler for every crawl (use --data / --database)")
            merged[key] = value if isinstance(value, str) else json.dumps(value, default=str)
    return tuple(sorted(merged.items()))


def _trigger(path: Path, where: str, value: Any) -> tuple[str | None, int | None]:
    field = f"{where}.trigger"
    if not isinstance(value, dict):
        raise JobsFileError(path, field, 'required, a table: { cron = "*/15 * * * *" } or { every = "1h" }')
    kinds = [k for k in _TRIGGER_KINDS if k in value]
    _no_unknown(path, field, value, set(_TRIGGER_KINDS))
    if len(kinds) != 1:
        raise JobsFileError(path, field, "needs exactly one of cron and every")
    if kinds[0] == "every":
        return None, _duration(path, where, "trigger.every", value["every"], MAX_EVERY)
    cron = value["cron"]
    if not isinstance(cron, str) or len(cron.split()) != len(_CRON_FIELDS):
        raise JobsFileError(
            path, f"{field}.cron", f"five fields: minute hour day-of-month month day-of-week, not {cron!r}"
        )
    day_of_week = cron.split()[4]
    if re.search(r"\d", day_of_week):
        # APScheduler 3 numbers weekdays from Monday = 0, cron from Sunday = 0: names are unambiguous.
        raise JobsFileError(
            path, f"{field}.cron", f"write days of the week as names (mon-fri, sat,sun), not numbers: {day_of_week!r}"
        )
    for name, expression in zip(_CRON_FIELDS, cron.split(), strict=True):
        try:
            CronTrigger(**{name: expression}, timezone=timezone.utc)
        except ValueError as e:
            raise JobsFileError(path, f"{field}.cron", f"{name.replace('_', '-')} field {expression!r}: {e}") from None
    whole = CronTrigger(**dict(zip(_CRON_FIELDS, cron.split(), strict=True)), timezone=timezone.utc)
    if whole.get_next_fire_time(None, datetime(YEARS[0], 1, 1, tzinfo=timezone.utc)) is None:
        raise JobsFileError(path, f"{field}.cron", f"matches no date (e.g. 30 feb), so it never runs: {cron!r}")
    return " ".join(cron.split()), None


def _duration(path: Path, where: str, field: str, value: Any, maximum: int) -> int:
    try:
        return parse_duration(value, maximum)
    except ValueError as e:
        raise JobsFileError(path, f"{where}.{field}", str(e)) from None


def _when(path: Path, where: str, field: str, value: Any, zone: ZoneInfo) -> datetime | None:
    """A TOML date or date-time; without an offset it is a time in the job's time zone."""
    if value is None:
        return None
    if not isinstance(value, date):
        raise JobsFileError(
            path, f"{where}.{field}", f"must be a TOML date or date-time (2026-03-01T06:00:00), not {value!r}"
        )
    if value.year not in YEARS:
        raise JobsFileError(path, f"{where}.{field}", f"year {value.year} is outside {YEARS[0]} to {YEARS[-1]}")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    return datetime.combine(value, time(), zone)


@cache
def _time_zones() -> frozenset[str]:
    """The IANA time zone names (``America`` is a directory of them, not one)."""
    return frozenset(available_timezones())
