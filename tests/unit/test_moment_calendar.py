"""Daily moments' calendar (core/engine/moment_calendar.py): entries read and written
back, and the next moment's instant equal to the exact datetime reading, also on the days
the clocks change."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from proactive_chat.core.engine.moment_calendar import (
    ALL_DAYS,
    LocalDays,
    Moment,
    days_text,
    next_moment,
    parse_moment,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "minute", "days", "prompt"),
    [
        ("08:00 | 1-5 | 早安", 480, frozenset(range(5)), "早安"),
        ("8：05｜6,7｜hi | there", 485, frozenset({5, 6}), "hi | there"),
        ("23:59 | * ", 1439, ALL_DAYS, ""),
        ("07:30", 450, ALL_DAYS, ""),
        ("07:30 | 工作日 | x", 450, frozenset(range(5)), "x"),
        ("07:30 | weekends | x", 450, frozenset({5, 6}), "x"),
        ("07:30 | 1,3-4,7 | x", 450, frozenset({0, 2, 3, 6}), "x"),
    ],
)
def test_entries_are_read(text, minute, days, prompt):
    assert parse_moment(text) == Moment(minute, days, prompt)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("24:00 | * | x", "not a time of day"),
        ("8 | * | x", "time of day like 08:00"),
        ("08:00 | 0 | x", "Monday is 1"),
        ("08:00 | 5-1 | x", "backwards"),
        ("08:00 | * | " + "x" * 2001, "longer than 2000"),
        (["08:00"], "is not text"),
    ],
)
def test_bad_entries_say_why(text, why):
    with pytest.raises(ValueError, match=why):
        parse_moment(text)


def test_entries_are_written_back_canonical():
    assert str(parse_moment(" 8:00 |1,2,3,5| hi ")) == "08:00 | 1-3,5 | hi"
    assert str(parse_moment("22:00 | 每天")) == "22:00 | *"
    assert days_text(frozenset({6})) == "7"


def exact(day: date, minute: int, tz) -> float:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).timestamp()


@pytest.mark.parametrize("tz", [UTC, BERLIN, ZoneInfo("Asia/Kolkata")])
def test_the_next_moment_is_the_exact_local_time(tz):
    moments = (Moment(5, ALL_DAYS), Moment(150, frozenset({6})), Moment(1320, frozenset({0, 4})))
    rng = random.Random(3)
    days = LocalDays(tz)
    start = datetime(2026, 3, 20, tzinfo=UTC).timestamp()  # Berlin's clocks go forward 3-29
    for _ in range(400):
        after = start + rng.uniform(0, 40 * 86400)
        found = next_moment(moments, after, days)
        assert found is not None
        at, ordinal, moment = found
        local = datetime.fromtimestamp(after, tz).date()
        expected = min(
            (exact(local + timedelta(days=n), m.minute, tz), m)
            for n in range(8)
            for m in moments
            if (local + timedelta(days=n)).weekday() in m.weekdays
            and exact(local + timedelta(days=n), m.minute, tz) > after
        )
        assert (at, moment) == expected
        assert date.fromordinal(ordinal) == datetime.fromtimestamp(at, tz).date()


def test_a_fired_moment_is_passed_over_for_that_day_only():
    days = LocalDays(UTC)
    moment = Moment(600, ALL_DAYS)
    after = datetime(2026, 11, 28, 9, 0, tzinfo=UTC).timestamp()
    today = date(2026, 11, 28).toordinal()
    at, ordinal, _ = next_moment((moment,), after, days, frozenset({(today, "10:00")}))
    assert ordinal == today + 1 and at == after + 25 * 3600
