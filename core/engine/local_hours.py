"""Local clock hours in AstrBot's zone from epoch seconds, with the UTC offset cached
per local day: what the habits need on the message batch, without a datetime per
message.

``LocalHours.hour(at)`` is whole hours since 1970-01-01 00:00 local time. The offset is
looked up once per local day (one zone conversion at each end of the day). On a day
on which the clocks change (two a year), the part of the day before the change and
the part after it are each remembered, the change found by bisection (17 lookups).
Memory is O(1): the last ``REMEMBERED`` stretches looked up are kept, because a plan
drawn today mostly lands tomorrow (and over a change of the clocks, on both sides of
it), and the batch asks for all of them in turn.
"""

from __future__ import annotations

import math
from datetime import tzinfo

from .quiet_calendar import DAY, utc_offset

REMEMBERED = 4


class LocalHours:
    __slots__ = ("_from", "_offset", "_others", "_until", "tz")

    def __init__(self, tz: tzinfo | None) -> None:
        self.tz = tz
        self._from = 0.0
        self._until = 0.0  # empty: the first call learns a day
        self._offset = 0.0
        self._others: list[tuple[float, float, float]] = []  # (from, until, offset)

    def offset(self, at: float) -> float:
        """Seconds east of UTC at ``at``."""
        if self._from <= at < self._until:
            return self._offset
        for index, (other_from, other_until, other_offset) in enumerate(self._others):
            if other_from <= at < other_until:
                self._others[index] = (self._from, self._until, self._offset)
                self._from, self._until, self._offset = other_from, other_until, other_offset
                return other_offset
        offset = utc_offset(at, self.tz)
        local = at + offset
        day_start = local - local % DAY - offset
        day_end = day_start + DAY
        starts_same = utc_offset(day_start, self.tz) == offset
        ends_same = utc_offset(day_end - 1.0, self.tz) == offset
        if not starts_same and not ends_same:
            return offset  # two changes in one day: not remembered
        if not starts_same:
            day_start = self._change(day_start, at)
        elif not ends_same:
            day_end = self._change(at, day_end - 1.0)
        self._others.insert(0, (self._from, self._until, self._offset))
        del self._others[REMEMBERED - 1 :]
        self._from, self._until, self._offset = day_start, day_end, offset
        return offset

    def _change(self, before: float, after: float) -> float:
        """The second at which the offset at ``before`` turns into the one at ``after``
        (zones change on whole seconds)."""
        old = utc_offset(before, self.tz)
        while after - before > 1.0:
            middle = (before + after) / 2.0
            if utc_offset(middle, self.tz) == old:
                before = middle
            else:
                after = middle
        return float(math.floor(after))

    def hour(self, at: float) -> int:
        """Whole local hours since 1970-01-01 00:00 local time."""
        return int((at + self.offset(at)) // 3600.0)
