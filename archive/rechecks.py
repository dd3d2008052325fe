"""Recheck policies: how often a known article is fetched again, and when that stops.

Articles are edited, corrected and silently rewritten after they leave an
outlet's feed, mostly in their first hours. So each article is checked
again on a schedule that decays with the time since its text last changed
(an article that changes is watched closely again), the reference being
NewsDiffs': every 15 minutes for the first 3 hours, hourly for the first
day, every 3 hours for a week, every 3 days for a month. Once an article has
not changed for longer than the last step covers, or is older than
``max_age`` however often it changes, it is settled and no longer checked.

A policy is written the same way in a seed list (``[recheck]`` for the whole
list, ``[outlet.recheck]`` for one outlet, whose fields override the list's),
in the warcinfo record of every WARC file (each outlet's, so a database
rebuilt from the WARCs schedules as the crawl did) and in the database::

    [recheck]
    steps = [
        { until = "3h", every = "15m" },   # while unchanged for less than 3 hours
        { until = "1d", every = "1h" },
        { until = "7d", every = "3h" },
        { until = "30d", every = "3d" },   # unchanged for 30 days: settled
    ]
    max_age = "90d"    # never checked once first seen longer ago than this
    enabled = true     # false: the outlet's articles are never rechecked
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from archive.configfile import format_duration, parse_duration

#: The recheck spider's ``-a due=`` values: the articles due now, or every known article once.
DUE_CHOICES = ("due", "all")
#: The longest step, interval or age a policy may state: a year (beyond it, an archive is rebuilt anyway).
MAX_DURATION = 366 * 86400
#: The most steps a policy may have.
MAX_STEPS = 20
FIELDS = ("steps", "max_age", "enabled")


class PolicyError(ValueError):
    """A recheck policy that cannot be used; ``field`` names the part at fault (``steps[1].every``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Step:
    """While an article has been unchanged for less than ``until``, it is checked every ``every``."""

    until: timedelta
    every: timedelta


NEWSDIFFS_STEPS = (
    Step(timedelta(hours=3), timedelta(minutes=15)),
    Step(timedelta(days=1), timedelta(hours=1)),
    Step(timedelta(days=7), timedelta(hours=3)),
    Step(timedelta(days=30), timedelta(days=3)),
)


@dataclass(frozen=True)
class RecheckPolicy:
    steps: tuple[Step, ...] = NEWSDIFFS_STEPS
    max_age: timedelta = timedelta(days=90)
    enabled: bool = True

    def next_check(self, first_seen: datetime, last_changed: datetime, last_checked: datetime) -> datetime | None:
        """When an article is due again after the check at ``last_checked``; None once it is settled."""
        if not self.enabled or last_checked - first_seen >= self.max_age:
            return None
        unchanged_for = last_checked - max(last_changed, first_seen)
        for step in self.steps:
            if unchanged_for < step.until:
                return min(last_checked + step.every, first_seen + self.max_age)
        return None

    def describe(self) -> dict[str, Any]:
        """The policy as the seed list writes it (what :meth:`from_table` reads)."""
        return {
            "steps": [{"until": _duration(step.until), "every": _duration(step.every)} for step in self.steps],
            "max_age": _duration(self.max_age),
            "enabled": self.enabled,
        }

    @classmethod
    def from_table(cls, table: Any, base: RecheckPolicy | None = None) -> RecheckPolicy:
        """A policy from its table; fields left out are ``base``'s (the default policy's without one).

        :class:`PolicyError` names the field at fault.
        """
        policy = base or cls()
        if not isinstance(table, Mapping):
            raise PolicyError("recheck", "must be a table")
        unknown = sorted(set(table) - set(FIELDS))
        if unknown:
            raise PolicyError(unknown[0], f"unknown field (known: {', '.join(FIELDS)})")
        if "enabled" in table:
            if not isinstance(table["enabled"], bool):
                raise PolicyError("enabled", "must be true or false")
            policy = replace(policy, enabled=table["enabled"])
        if "max_age" in table:
            policy = replace(policy, max_age=_parsed("max_age", table["max_age"]))
        if "steps" in table:
            policy = replace(policy, steps=_steps(table["steps"]))
        return policy

    @classmethod
    def from_description(cls, description: Any) -> RecheckPolicy:
        """The policy a warcinfo record or database row describes; the default for none or an unreadable one.

        Records are read as they are: a WARC written by another version of this
        code must still be indexed, so a policy it cannot read is not an error.
        """
        if not description:
            return cls()
        try:
            return cls.from_table(description)
        except PolicyError:
            return cls()


def _steps(value: Any) -> tuple[Step, ...]:
    if not isinstance(value, list) or not value:
        raise PolicyError("steps", "must be a non-empty list of { until = DURATION, every = DURATION } tables")
    if len(value) > MAX_STEPS:
        raise PolicyError("steps", f"more than {MAX_STEPS} steps")
    steps = []
    for i, table in enumerate(value):
        where = f"steps[{i}]"
        if not isinstance(table, Mapping) or set(table) != {"until", "every"}:
            raise PolicyError(where, "must be a table with exactly: until, every")
        step = Step(_parsed(f"{where}.until", table["until"]), _parsed(f"{where}.every", table["every"]))
        if steps and step.until <= steps[-1].until:
            raise PolicyError(f"{where}.until", "steps must be in increasing order of until")
        steps.append(step)
    return tuple(steps)


def _parsed(field: str, value: Any) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(value, MAX_DURATION))
    except ValueError as e:
        raise PolicyError(field, str(e)) from None


def _duration(value: timedelta) -> str:
    return format_duration(int(value.total_seconds()))
