"""``parse_quiet_hours`` and ``QuietHours``: both formats, midnight, boundaries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from proactive_chat.core.engine.quiet_hours import QuietHours, parse_quiet_hours


def at(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, 30)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("1-7", 60, 420),
        ("23-7", 1380, 420),
        ("9-17", 540, 1020),
        ("23:00-07:00", 1380, 420),
        ("22:30-06:15", 1350, 375),
        (" 01:05 - 02:10 ", 65, 130),
        ("7:5-8", None, None),  # minutes need two digits
        ("23：30-7", 1410, 420),
        ("23~7", 1380, 420),
        ("23至7", 1380, 420),
        ("22-24", 1320, 0),
        ("24-7", 0, 420),
        ("0:00-23:59", 0, 1439),
    ],
)
def test_parses_both_formats(text, start, end):
    if start is None:
        with pytest.raises(ValueError):
            parse_quiet_hours(text)
        return
    hours = parse_quiet_hours(text)
    assert (hours.start_minute, hours.end_minute) == (start, end)
    assert hours.enabled


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_empty_means_no_quiet_hours(text):
    hours = parse_quiet_hours(text)
    assert hours == QuietHours(0, 0)
    assert not hours.enabled
    assert not any(hours.contains(at(h, m)) for h in range(24) for m in (0, 30, 59))


def test_equal_start_and_end_means_no_quiet_hours():
    assert not parse_quiet_hours("7-7").enabled
    assert not parse_quiet_hours("07:30-07:30").enabled


@pytest.mark.parametrize(
    "junk",
    [
        "abc",
        "1",
        "1-",
        "-7",
        "1-7-9",
        "25-7",
        "7-25",
        "1:60-2",
        "24:30-1",
        "123-4",
        "1.5-7",
        "0-24",
        "00:00-24:00",
        "24:00-00:00",
    ],
)
def test_junk_text_raises_value_error(junk):
    with pytest.raises(ValueError):
        parse_quiet_hours(junk)


@pytest.mark.parametrize("junk", [None, 7, 1.5, ["1-7"], {"start": 1}, b"1-7"])
def test_non_text_raises_value_error(junk):
    with pytest.raises(ValueError, match="text like 23:00-07:00"):
        parse_quiet_hours(junk)


def test_whole_day_is_refused_not_read_as_none():
    with pytest.raises(ValueError, match="whole day"):
        parse_quiet_hours("0-24")


def test_error_message_is_short_for_a_huge_value():
    with pytest.raises(ValueError) as caught:
        parse_quiet_hours("x" * 100_000)
    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("text", "moment", "inside"),
    [
        ("1-7", at(0, 59), False),
        ("1-7", at(1, 0), True),
        ("1-7", at(6, 59), True),
        ("1-7", at(7, 0), False),
        ("1-7", at(12), False),
        ("23:30-07:00", at(23, 29), False),
        ("23:30-07:00", at(23, 30), True),
        ("23:30-07:00", at(0, 0), True),
        ("23:30-07:00", at(6, 59), True),
        ("23:30-07:00", at(7, 0), False),
        ("23:30-07:00", at(12), False),
        ("22:30-06:15", at(6, 14), True),
        ("22:30-06:15", at(6, 15), False),
        ("22:30-06:15", at(22, 29), False),
        ("22-24", at(23, 59), True),
        ("22-24", at(0, 0), False),
    ],
)
def test_contains_start_inclusive_end_exclusive(text, moment, inside):
    assert parse_quiet_hours(text).contains(moment) is inside


def test_contains_uses_the_wall_clock_of_an_aware_time():
    tz = timezone(timedelta(hours=8))
    assert parse_quiet_hours("1-7").contains(datetime(2026, 3, 10, 2, 0, tzinfo=tz))
    assert not parse_quiet_hours("1-7").contains(datetime(2026, 3, 10, 8, 0, tzinfo=tz))


@pytest.mark.parametrize(
    ("text", "moment", "end"),
    [
        ("1-7", at(2), datetime(2026, 3, 10, 7, 0)),
        ("23:30-07:00", at(23, 45), datetime(2026, 3, 11, 7, 0)),
        ("23:30-07:00", at(3), datetime(2026, 3, 10, 7, 0)),
        ("22:30-06:15", at(22, 30), datetime(2026, 3, 11, 6, 15)),
        ("22-24", at(23), datetime(2026, 3, 11, 0, 0)),
        ("23:00-07:00", at(23, 0, day=31), datetime(2026, 4, 1, 7, 0)),
    ],
)
def test_window_end(text, moment, end):
    hours = parse_quiet_hours(text)
    assert hours.contains(moment)
    assert hours.window_end(moment) == end
    assert not hours.contains(hours.window_end(moment))


def test_window_end_keeps_the_time_zone():
    tz = timezone(timedelta(hours=-5))
    moment = datetime(2026, 12, 31, 23, 50, tzinfo=tz)
    end = parse_quiet_hours("23-6").window_end(moment)
    assert end == datetime(2027, 1, 1, 6, 0, tzinfo=tz)
    assert end.tzinfo is tz


@pytest.mark.parametrize(
    ("text", "shown"),
    [("1-7", "01:00-07:00"), ("23:30-7", "23:30-07:00"), ("22-24", "22:00-00:00")],
)
def test_str_is_the_canonical_form_and_parses_back(text, shown):
    hours = parse_quiet_hours(text)
    assert str(hours) == shown
    assert parse_quiet_hours(shown) == hours
