"""Properties of quiet hours (core/engine/quiet_hours.py) and of moving a time out of them
(``shift_out_of_quiet``, core/engine/planning.py), over generated windows, text and times.

What they promise: ``HH:MM-HH:MM`` and ``H-H`` are accepted (a window may wrap
midnight; equal ends mean none; ``24`` only as an end; the whole day is refused),
anything else is a ``ValueError``; a time inside the window moves to the end of the
window plus a little jitter: never earlier than it was, never still inside quiet
hours, also on the nights the clocks change (real zones, including Lord Howe's
half-hour shift).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from proactive_chat.core.engine.planning import MAX_QUIET_JITTER_SECONDS, shift_out_of_quiet
from proactive_chat.core.engine.quiet_calendar import QuietCalendar
from proactive_chat.core.engine.quiet_hours import QuietHours, parse_quiet_hours

DAY = 24 * 60
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Lord_Howe")
FIRST, LAST = datetime(2024, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
SEPARATORS = ("-", "~", "－", "—", "至", "到")

minutes = st.integers(min_value=0, max_value=DAY - 1)
windows = st.builds(QuietHours, minutes, minutes)
zones = st.sampled_from([None, UTC, *ZONES])


@cache
def zone(name: str | tzinfo | None) -> tzinfo | None:
    return ZoneInfo(name) if isinstance(name, str) else name


@cache
def transitions(name: str) -> tuple[float, ...]:
    """The instants the zone's UTC offset changes between FIRST and LAST."""
    tz = ZoneInfo(name)
    found, at = [], FIRST
    while at < LAST:
        after = at + timedelta(hours=6)
        if at.astimezone(tz).utcoffset() != after.astimezone(tz).utcoffset():
            low, high = at, after
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                same = mid.astimezone(tz).utcoffset() == low.astimezone(tz).utcoffset()
                low, high = (mid, high) if same else (low, mid)
            found.append(high.timestamp())
        at = after
    return tuple(found)


@st.composite
def moments(draw) -> tuple[float, str | tzinfo | None]:
    """A time and a zone; most often within a day and a half of a clock change, where
    wall-clock arithmetic goes wrong."""
    name = draw(zones)
    changes = transitions(name) if isinstance(name, str) else ()
    if changes and draw(st.booleans()):
        change = draw(st.sampled_from(changes))
        return change + draw(st.floats(-36 * 3600, 36 * 3600)), name
    return draw(st.floats(FIRST.timestamp(), LAST.timestamp())), name


@st.composite
def windows_near(draw, at: float, tz: tzinfo | None) -> QuietHours:
    """A window, its ends often near the local time of ``at``."""
    local = datetime.fromtimestamp(at, tz)
    near = local.hour * 60 + local.minute
    ends = st.one_of(minutes, st.integers(-120, 120).map(lambda d: (near + d) % DAY))
    return QuietHours(draw(ends), draw(ends))


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# --- the parser ------------------------------------------------------------------------------


@st.composite
def written_windows(draw) -> tuple[str, int, int]:
    """Text a person may write for a window, and the minutes it means."""

    def end() -> tuple[str, int]:
        hour = draw(st.integers(0, 24))
        if hour == 24 or draw(st.booleans()):
            return (str(hour) if draw(st.booleans()) else f"{hour:02d}"), hour * 60
        minute = draw(st.integers(0, 59))
        colon = draw(st.sampled_from([":", "：", " : "]))
        return f"{hour}{colon}{minute:02d}", hour * 60 + minute

    space = st.sampled_from(["", " ", "  ", "\t"])
    (start_text, start), (end_text, stop) = end(), end()
    text = (
        draw(space)
        + start_text
        + draw(space)
        + draw(st.sampled_from(SEPARATORS))
        + draw(space)
        + end_text
        + draw(space)
    )
    return text, start, stop


@given(written_windows())
@example(("0-24", 0, 1440))
@example(("24:00-00:00", 1440, 0))
@example(("23:30-7", 1410, 420))
def test_written_windows_mean_what_they_say(written):
    text, start, end = written
    if start != end and start % DAY == end % DAY:
        try:
            parse_quiet_hours(text)
        except ValueError as err:
            assert "whole day" in str(err)
            return
        raise AssertionError(f"{text!r} covers the whole day, yet was accepted")
    hours = parse_quiet_hours(text)
    assert hours == QuietHours(start % DAY, end % DAY)
    assert parse_quiet_hours(str(hours)) == hours  # the canonical form reads back


@given(
    st.one_of(
        st.text(max_size=30),
        st.text(st.sampled_from("0123456789:-~ 至24"), max_size=14),
        st.integers(),
        st.floats(),
        st.none(),
        st.lists(st.text(max_size=5)),
    )
)
@example("25-7")
@example("1:60-2")
@example("1:5-2")
@example("123-4")
@example("1-7-9")
@example("x" * 10_000)
def test_any_input_is_a_window_or_a_value_error(value):
    try:
        hours = parse_quiet_hours(value)
    except ValueError as err:
        assert 0 < len(str(err)) < 200  # short, whatever was sent
        return
    assert isinstance(value, str)
    assert 0 <= hours.start_minute < DAY and 0 <= hours.end_minute < DAY
    assert parse_quiet_hours(str(hours)) == hours


@given(
    st.integers(25, 99) | st.integers(100, 10**6),
    st.integers(60, 99),
    st.integers(0, 23),
    st.sampled_from(["{hour}-{ok}", "{ok}-{hour}", "{ok}:{minute}-{ok}", "{ok}-{ok}:{minute}"]),
)
@example(hour=24, minute=60, ok=1, form="{ok}-24:30")
def test_impossible_times_are_refused(hour, minute, ok, form):
    text = form.format(hour=hour, minute=minute, ok=ok)
    try:
        parse_quiet_hours(text)
    except ValueError:
        return
    raise AssertionError(f"{text!r} was accepted")


@given(windows, minutes)
def test_contains_is_start_inclusive_end_exclusive(hours, minute):
    moment = datetime(2026, 5, 4) + timedelta(minutes=minute, seconds=30)
    length = (hours.end_minute - hours.start_minute) % DAY
    inside = (minute - hours.start_minute) % DAY < length
    assert hours.contains(moment) is inside


# --- moving a time out of quiet hours ---------------------------------------------------------


BERLIN = ZoneInfo("Europe/Berlin")
# Berlin springs forward at 02:00 on 2026-03-29: a window ending at 02:30 has no end
# that night; the end was found at 01:30 (still inside), so 01:10 "moved" to 01:32.
SPRING_GAP = (datetime(2026, 3, 29, 1, 10, tzinfo=BERLIN).timestamp(), "Europe/Berlin", 60, 150)
# And falls back at 03:00 on 2026-10-25: 02:30 happens twice.
AUTUMN_REPEAT = (
    datetime(2026, 10, 25, 2, 10, tzinfo=BERLIN).timestamp(),
    "Europe/Berlin",
    60,
    150,
)
# A window ending at 02:59 on that night: its first end is at 02:59 CEST, and jitter past
# 03:00 CEST lands in the repeated hour (02:00 CET), inside the window again.
JITTER_INTO_REPEAT = (
    datetime(2026, 10, 25, 1, 0, tzinfo=BERLIN).timestamp(),
    "Europe/Berlin",
    0,
    179,
)


@st.composite
def shift_cases(draw) -> tuple[float, str | tzinfo | None, int, int]:
    at, name = draw(moments())
    hours = draw(windows_near(at, zone(name)))
    return at, name, hours.start_minute, hours.end_minute


@given(shift_cases(), st.integers(0, 2**32))
@example(SPRING_GAP, 1)
@example(AUTUMN_REPEAT, 1)
@example(JITTER_INTO_REPEAT, 1)
def test_a_shifted_time_is_later_and_outside_quiet_hours(case, seed):
    at, name, start, end = case
    tz, hours = zone(name), QuietHours(start, end)
    inside = hours.contains(datetime.fromtimestamp(at, tz))
    shifted, moved = shift_out_of_quiet(at, hours, tz, random.Random(seed))
    assert moved is inside
    if not moved:
        assert shifted == at
        return
    local = datetime.fromtimestamp(shifted, tz)
    assert shifted > at
    assert not hours.contains(local), f"moved to {local}, inside {hours}"
    # At most the rest of the window, a clock change and the jitter later.
    length = (end - start) % DAY
    assert shifted - at <= length * 60 + 3600 + MAX_QUIET_JITTER_SECONDS


@given(shift_cases())
@example(SPRING_GAP)
@example(AUTUMN_REPEAT)
def test_window_end_is_the_first_moment_out_of_the_window(case):
    at, name, start, end = case
    tz, hours = zone(name), QuietHours(start, end)
    moment = datetime.fromtimestamp(at, tz)
    if not hours.contains(moment):
        return
    found = hours.window_end(moment)
    assert found.timestamp() > at
    assert not hours.contains(datetime.fromtimestamp(found.timestamp(), tz))
    assert (found.hour * 60 + found.minute, found.second) == (end, 0)


@given(shift_cases(), st.lists(st.floats(-3 * 86400, 3 * 86400), max_size=12), st.integers(0, 99))
@example(SPRING_GAP, [0.0, 3600.0, -86400.0], 1)
@example(AUTUMN_REPEAT, [0.0, 1800.0, 86400.0], 1)
@example(JITTER_INTO_REPEAT, [0.0, 600.0, -3600.0], 1)
def test_the_calendar_answers_as_the_exact_reading(case, steps, seed):
    """``QuietCalendar`` (arithmetic, one remembered day) gives the very answers of
    ``shift_out_of_quiet`` (datetimes), for a run of times around a clock change: the
    engine plans through the calendar, the promises above are the exact reading's."""
    at, name, start, end = case
    tz, hours = zone(name), QuietHours(start, end)
    calendar = QuietCalendar(hours, tz)
    for step in [0.0, *steps]:
        moment = at + step
        fast = calendar.shift(moment, random.Random(seed))
        exact = shift_out_of_quiet(moment, hours, tz, random.Random(seed))
        assert fast == exact, f"{datetime.fromtimestamp(moment, tz)} in {hours}: {fast} != {exact}"
