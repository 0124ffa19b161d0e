"""Quiet hours on the hot path: the same answers as ``planning.shift_out_of_quiet``, in
epoch-seconds arithmetic.

Every message plans the session's next time and moves it out of quiet hours; the exact
reading (``QuietHours.window_end``) converts between zones and builds several datetimes
per call. ``QuietCalendar`` instead learns the stretch of time over which the zone's UTC
offset holds (found once, a day or two at a time; the instant the clocks change is found
to the second) and answers by arithmetic inside it. Only a window whose end falls after
the clocks change is read the exact way, so the answers stay exact across DST changes.
Memory is O(1): a few stretches are remembered per window.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, tzinfo

from .planning import quiet_jitter_cap, shift_out_of_quiet
from .quiet_hours import QuietHours

DAY = 86_400.0
SEARCH_STEP = 6 * 3600.0


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

    REMEMBERED = 4  # stretches of constant offset kept (plans reach at most a day or two)

    __slots__ = ("_ends_by_day", "_stretches", "quiet", "tz")

    def __init__(self, quiet: QuietHours, tz: tzinfo | None) -> None:
        self.quiet = quiet
        self.tz = tz
        # (first second, first second after, UTC offset): most recently learned first.
        self._stretches: list[tuple[float, float, float]] = []
        # Local day -> the exact reading's window ends, for windows that end after the
        # clocks change (``_shift_across_change``); a few days at most.
        self._ends_by_day: dict[float, tuple[float, ...]] = {}

    def shift(self, at: float, rng: random.Random) -> tuple[float, bool]:
        """Same contract and answers as ``shift_out_of_quiet`` (and the same draws from
        ``rng``)."""
        quiet = self.quiet
        if quiet.start_minute == quiet.end_minute:
            return at, False
        second = whole_second(at)
        _, after, offset = self._stretch_of(second)
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
        cap = quiet_jitter_cap(quiet)
        if end_local - offset + cap >= after:  # the clocks change before the jitter's end
            return self._shift_across_change(at, second, local, rng)
        return end_local - offset + rng.uniform(0.0, cap), True

    def _shift_across_change(
        self, at: float, second: float, local: float, rng: random.Random
    ) -> tuple[float, bool]:
        """``shift_out_of_quiet`` for a window whose end comes after the clocks change:
        the exact reading's ends for ``at``'s local day are found once (datetimes) and
        reused by every later plan made that day, so a DST night costs a plan what any
        other night does. ``at`` is inside the window (the caller checked)."""
        day = local // DAY
        ends = self._ends_by_day.get(day)
        if ends is None:
            ends = self._exact_ends(at)
            if len(self._ends_by_day) >= self.REMEMBERED:
                self._ends_by_day.clear()
            self._ends_by_day[day] = ends
        # The exact reading compares each candidate (a whole second) with ``at`` as a
        # datetime shows it (rounded to the microsecond): the same as with ``second``.
        end = next((candidate for candidate in ends if candidate > second), None)
        if end is None:
            return shift_out_of_quiet(at, self.quiet, self.tz, rng)
        shifted = end + rng.uniform(0.0, quiet_jitter_cap(self.quiet))
        if self._inside(shifted):
            # The jitter reached a repeated hour, inside the window again: leave that
            # one too, as the exact reading does (same draws from ``rng``).
            return shift_out_of_quiet(shifted, self.quiet, self.tz, rng)[0], True
        return shifted, True

    def _exact_ends(self, at: float) -> tuple[float, ...]:
        """The candidates ``QuietHours.window_end`` weighs for a moment on ``at``'s local
        day that are out of the window, as sorted instants."""
        moment = datetime.fromtimestamp(at, self.tz)
        hour, minute = divmod(self.quiet.end_minute, 60)
        day = moment.replace(hour=hour, minute=minute, second=0, microsecond=0)
        candidates = [
            (day + timedelta(days=days)).replace(fold=fold) for days in (0, 1, 2) for fold in (0, 1)
        ]
        return tuple(
            sorted(
                {
                    candidate.timestamp()
                    for candidate in candidates
                    if not self.quiet._holds_instant(candidate)
                }
            )
        )

    def _inside(self, at: float) -> bool:
        """Whether the instant ``at`` is inside the window, on the zone's real clock."""
        second = whole_second(at)
        _, _, offset = self._stretch_of(second)
        minute = int(((second + offset) % DAY) // 60)
        start, end = self.quiet.start_minute, self.quiet.end_minute
        return start <= minute < end if start < end else (minute >= start or minute < end)

    def _stretch_of(self, second: float) -> tuple[float, float, float]:
        for stretch in self._stretches:
            if stretch[0] <= second < stretch[1]:
                return stretch
        return self._learn(second)

    def _learn(self, second: float) -> tuple[float, float, float]:
        """The stretch of constant UTC offset around ``second``: searched a day back and
        two days ahead in 6-hour steps (no zone changes its offset twice within 6 hours),
        a change found to the second. About 30 zone conversions, once a day or two."""
        offset = utc_offset(second, self.tz)
        after = self._edge(second, offset, SEARCH_STEP, 8)
        first = self._edge(second, offset, -SEARCH_STEP, 4)
        stretch = (first, after, offset)
        self._stretches.insert(0, stretch)
        del self._stretches[self.REMEMBERED :]
        return stretch

    def _edge(self, second: float, offset: float, step: float, steps: int) -> float:
        """Going by ``step`` from ``second``: the first second (or, going back, the last
        second plus one) at which the offset is no longer ``offset``; the search's end if
        it holds all the way."""
        held = second
        for _ in range(steps):
            probe = held + step
            if utc_offset(probe, self.tz) != offset:
                return self._bisect(held, probe, offset)
            held = probe
        return held

    def _bisect(self, held: float, changed: float, offset: float) -> float:
        """Between a second with ``offset`` and one without: the boundary, as the first
        second of the later stretch."""
        while abs(changed - held) > 1:
            middle = (held + changed) // 2
            if utc_offset(middle, self.tz) == offset:
                held = middle
            else:
                changed = middle
        return max(held, changed)


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
