"""Recheck policies: the decaying schedule, its end, and how a seed list states it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from archive.rechecks import NEWSDIFFS_STEPS, PolicyError, RecheckPolicy, Step

T0 = datetime(2019, 2, 28, 12, 0)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@pytest.mark.parametrize(
    ("unchanged_for", "interval"),
    [
        (timedelta(0), 15 * MINUTE),
        (2 * HOUR + 59 * MINUTE, 15 * MINUTE),
        (3 * HOUR, HOUR),
        (23 * HOUR, HOUR),
        (DAY, 3 * HOUR),
        (6 * DAY, 3 * HOUR),
        (7 * DAY, 3 * DAY),
        (29 * DAY, 3 * DAY),
    ],
)
def test_the_default_policy_is_newsdiffs_schedule(unchanged_for: timedelta, interval: timedelta) -> None:
    checked = T0 + unchanged_for
    assert RecheckPolicy().next_check(T0, T0, checked) == checked + interval


def test_an_article_unchanged_for_the_last_step_is_settled() -> None:
    assert RecheckPolicy().next_check(T0, T0, T0 + 30 * DAY) is None


def test_a_change_brings_close_watching_back() -> None:
    changed = T0 + 20 * DAY
    assert RecheckPolicy().next_check(T0, changed, changed + HOUR) == changed + 75 * MINUTE


def test_max_age_stops_an_article_that_keeps_changing() -> None:
    policy = RecheckPolicy(max_age=10 * DAY)
    checked = T0 + 10 * DAY
    assert policy.next_check(T0, checked, checked) is None
    # the last check before the age is reached is not planned beyond it
    assert policy.next_check(T0, T0 + 9 * DAY, T0 + 10 * DAY - MINUTE) == T0 + 10 * DAY


def test_a_disabled_policy_never_schedules() -> None:
    assert RecheckPolicy(enabled=False).next_check(T0, T0, T0) is None


def test_a_policy_round_trips_through_its_description() -> None:
    policy = RecheckPolicy(steps=(Step(HOUR, MINUTE), Step(2 * DAY, HOUR)), max_age=7 * DAY)
    assert RecheckPolicy.from_table(policy.describe()) == policy
    assert RecheckPolicy.from_description(RecheckPolicy().describe()).steps == NEWSDIFFS_STEPS


def test_fields_left_out_are_the_base_policys() -> None:
    base = RecheckPolicy(max_age=5 * DAY)
    assert RecheckPolicy.from_table({"enabled": False}, base) == RecheckPolicy(max_age=5 * DAY, enabled=False)


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        ([], "recheck", "must be a table"),
        ({"every": "1h"}, "every", "unknown field"),
        ({"enabled": "yes"}, "enabled", "true or false"),
        ({"max_age": "soon"}, "max_age", "not a duration"),
        ({"max_age": "400d"}, "max_age", "too long"),
        ({"steps": []}, "steps", "non-empty list"),
        ({"steps": [{"until": "1h"}]}, "steps[0]", "exactly: until, every"),
        ({"steps": [{"until": "1h", "every": "0s"}]}, "steps[0].every", "must be positive"),
        ({"steps": [{"until": "1d", "every": "1h"}, {"until": "1h", "every": "1h"}]}, "steps[1].until", "increasing"),
        ({"steps": [{"until": f"{n + 1}h", "every": "1m"} for n in range(21)]}, "steps", "more than 20"),
    ],
)
def test_a_malformed_policy_names_its_field(table: object, field: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as raised:
        RecheckPolicy.from_table(table)
    assert raised.value.field == field


def test_an_unreadable_description_in_a_record_falls_back_to_the_default() -> None:
    assert RecheckPolicy.from_description({"steps": "garbage"}) == RecheckPolicy()
    assert RecheckPolicy.from_description(None) == RecheckPolicy()
