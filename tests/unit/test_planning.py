"""Interval maths, quiet-hours shifts, caps, back-off and missed-plan spreading."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from proactive_chat.core.engine.models import ScheduleSettings
from proactive_chat.core.engine.planning import (
    is_capped,
    plan_after,
    random_interval_seconds,
    retry_delay_seconds,
    shift_out_of_quiet,
    spread_missed,
)
from proactive_chat.core.engine.quiet_hours import parse_quiet_hours

NO_QUIET = parse_quiet_hours("")


def ts(*args, tz=UTC) -> float:
    return datetime(*args, tzinfo=tz).timestamp()


def test_intervals_stay_within_bounds_and_cover_them():
    schedule = ScheduleSettings(
        min_interval_minutes=10, max_interval_minutes=20, quiet_hours=NO_QUIET
    )
    rng = random.Random(3)
    values = [random_interval_seconds(schedule, rng) for _ in range(2000)]
    assert min(values) >= 600 and max(values) <= 1200
    assert min(values) < 650 and max(values) > 1150


def test_equal_min_and_max_give_exactly_that():
    schedule = ScheduleSettings(
        min_interval_minutes=15, max_interval_minutes=15, quiet_hours=NO_QUIET
    )
    assert random_interval_seconds(schedule, random.Random()) == 900


@pytest.mark.parametrize(
    ("window", "at", "end"),
    [
        ("01:00-07:00", (2026, 11, 28, 3, 0), (2026, 11, 28, 7, 0)),
        ("1-7", (2026, 11, 28, 1, 0), (2026, 11, 28, 7, 0)),  # start is inside
        ("23:30-06:15", (2026, 11, 28, 23, 45), (2026, 11, 29, 6, 15)),  # wraps midnight
        ("23:30-06:15", (2026, 11, 29, 2, 0), (2026, 11, 29, 6, 15)),
        ("22-2", (2026, 11, 28, 0, 59), (2026, 11, 28, 2, 0)),
    ],
)
def test_a_time_inside_quiet_hours_moves_to_the_end_plus_a_few_minutes(window, at, end):
    quiet = parse_quiet_hours(window)
    for seed in range(20):
        moved, was_moved = shift_out_of_quiet(ts(*at), quiet, UTC, random.Random(seed))
        assert was_moved
        assert ts(*end) <= moved <= ts(*end) + 15 * 60


@pytest.mark.parametrize("at", [(2026, 11, 28, 7, 0), (2026, 11, 28, 12, 0), (2026, 11, 28, 0, 59)])
def test_a_time_outside_quiet_hours_stays(at):
    quiet = parse_quiet_hours("01:00-07:00")
    assert shift_out_of_quiet(ts(*at), quiet, UTC, random.Random()) == (ts(*at), False)


def test_quiet_hours_are_judged_in_the_configured_timezone():
    quiet = parse_quiet_hours("01:00-07:00")
    shanghai = timezone(timedelta(hours=8))
    at = ts(2026, 11, 28, 19, 0)  # 03:00 in UTC+8 the next day
    moved, was_moved = shift_out_of_quiet(at, quiet, shanghai, random.Random(1))
    assert was_moved
    assert ts(2026, 11, 29, 7, 0, tz=shanghai) <= moved <= ts(2026, 11, 29, 7, 15, tz=shanghai)
    assert shift_out_of_quiet(at, quiet, UTC, random.Random(1))[1] is False


def test_the_jitter_never_reaches_the_next_window():
    quiet = parse_quiet_hours("07:10-07:00")  # open only ten minutes a day
    for seed in range(200):
        moved, _ = shift_out_of_quiet(ts(2026, 11, 28, 12, 0), quiet, UTC, random.Random(seed))
        assert not quiet.contains(datetime.fromtimestamp(moved, UTC))


def test_plan_after_combines_interval_and_quiet_hours():
    schedule = ScheduleSettings(
        min_interval_minutes=60, max_interval_minutes=60, quiet_hours=parse_quiet_hours("1-7")
    )
    at, moved = plan_after(ts(2026, 11, 28, 0, 30), schedule, UTC, random.Random(2))
    assert moved and ts(2026, 11, 28, 7, 0) <= at <= ts(2026, 11, 28, 7, 15)
    at, moved = plan_after(ts(2026, 11, 28, 12, 0), schedule, UTC, random.Random(2))
    assert (at, moved) == (ts(2026, 11, 28, 13, 0), False)


@pytest.mark.parametrize(
    ("unanswered", "limit", "capped"),
    [(0, 3, False), (2, 3, False), (3, 3, True), (4, 3, True), (100, 0, False)],
)
def test_caps(unanswered, limit, capped):
    schedule = ScheduleSettings(max_unanswered_times=limit, quiet_hours=NO_QUIET)
    assert is_capped(unanswered, schedule) is capped


def test_retry_back_off_grows_and_is_capped():
    schedule = ScheduleSettings(max_interval_minutes=120, quiet_hours=NO_QUIET)
    delays = [retry_delay_seconds(n, schedule) for n in range(1, 8)]
    assert delays[:3] == [300, 900, 2700]
    assert max(delays) == 7200
    assert delays == sorted(delays)


@pytest.mark.parametrize("count", [1, 5, 50, 5000])
def test_missed_plans_are_spread_soon_but_not_at_once(count):
    now = 1_000_000.0
    times = spread_missed(now, count, random.Random(4))
    assert len(times) == count
    assert times == sorted(times)
    assert times[0] >= now + 15
    # about ten minutes in all, or one a second when there are very many
    assert times[-1] <= now + 15 + max(900.0, count * 1.5)
    if count > 1:
        assert len(set(times)) == count
