"""Quiet hours on the hot path: the same answers as ``planning.shift_out_of_quiet``, in
epoch-seconds arithmetic.

Every message plans the session's next time and moves it out of quiet hours; the exact
reading (``QuietHours.window_end``) converts between zones and builds several datetimes
per call. ``QuietCalendar`` instead learns the zone's UTC offset once per local day and
answers by arithmetic while that offset holds. A day on which the offset changes (a DST
night, within the 48 hours a window can reach) is answered by the exact reading, so the
results stay exact across DST changes. Memory is O(1): one day is remembered at a time.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, tzinfo

from .planning import quiet_jitter_cap, shift_out_of_quiet
from .quiet_hours import QuietHours

DAY = 86_400.0


def whole_second(at: float) -> float:
    """The second ``datetime.fromtimestamp(at)`` shows: it rounds to the microsecond
    (half to even), so 23:59:59.9999998 reads as 00:00:00 of the next day."""
    fraction, whole = math.modf(at)
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        return whole + 1.0
    if micro < 0:
        return whole - 1.0
    return whole


def utc_offset(at: float, tz: tzinfo | None) -> float:
    """Seconds east of UTC at the instant ``at`` in ``tz`` (None: the server's zone)."""
    moment = datetime.fromtimestamp(at, tz) if tz is not None else datetime.fromtimestamp(at)
    if tz is None:
        moment = moment.astimezone()
    offset = moment.utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


class QuietCalendar:
    """Quiet hours for one zone and one window, answered in O(1) per call."""

    __slots__ = ("_day_end", "_day_start", "_offset", "quiet", "tz")

    def __init__(self, quiet: QuietHours, tz: tzinfo | None) -> None:
        self.quiet = quiet
        self.tz = tz
        self._day_start = 0.0  # the remembered local day, as instants [start, end)
        self._day_end = 0.0
        self._offset: float | None = None  # None: that day is read exactly

    def shift(self, at: float, rng: random.Random) -> tuple[float, bool]:
        """Same contract and answers as ``shift_out_of_quiet`` (and the same draws from
        ``rng``)."""
        quiet = self.quiet
        if quiet.start_minute == quiet.end_minute:
            return at, False
        second = whole_second(at)
        if not self._day_start <= second < self._day_end:
            self._learn_day(second)
        offset = self._offset
        if offset is None:
            return shift_out_of_quiet(at, quiet, self.tz, rng)
        local = second + offset
        second_of_day = local % DAY
        minute = int(second_of_day // 60)
        start, end = quiet.start_minute, quiet.end_minute
        inside = start <= minute < end if start < end else (minute >= start or minute < end)
        if not inside:
            return at, False
        end_local = local - second_of_day + end * 60
        if end_local <= local:
            end_local += DAY
        return end_local - offset + rng.uniform(0.0, quiet_jitter_cap(quiet)), True

    def _learn_day(self, at: float) -> None:
        """Remember the local day around ``at``, and its offset if that offset holds
        until the end of the next day (a window's end is at most 24 h later)."""
        offset = utc_offset(at, self.tz)
        day_start = at - (at + offset) % DAY
        # Every 6 hours over the two days, and their last second: no zone changes its
        # offset twice within 6 hours.
        probes = [day_start + hours * 3600.0 for hours in range(0, 48, 6)]
        same = all(
            utc_offset(probe, self.tz) == offset for probe in (*probes, day_start + 2 * DAY - 1)
        )
        self._day_start, self._day_end = day_start, day_start + DAY
        self._offset = offset if same else None


class QuietCalendars:
    """One ``QuietCalendar`` per quiet-hours window in use, for one zone. Bounded: the
    windows in use come from the config and per-session overrides."""

    MAX_WINDOWS = 256

    __slots__ = ("_calendars", "tz")

    def __init__(self, tz: tzinfo | None) -> None:
        self.tz = tz
        self._calendars: dict[QuietHours, QuietCalendar] = {}

    def shift(self, at: float, quiet: QuietHours, rng: random.Random) -> tuple[float, bool]:
        calendar = self._calendars.get(quiet)
        if calendar is None:
            if len(self._calendars) >= self.MAX_WINDOWS:
                self._calendars.clear()
            calendar = self._calendars[quiet] = QuietCalendar(quiet, self.tz)
        return calendar.shift(at, rng)
