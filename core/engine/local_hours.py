"""Local clock hours in AstrBot's zone from epoch seconds, with the UTC offset cached
per local day: what the habits need on the message batch, without a datetime per
message.

``LocalHours.hour(at)`` is whole hours since 1970-01-01 00:00 local time. The offset is
looked up once per local day (one zone conversion at each end of the day); a day on
which the clocks change is not cached, each call on it reads the zone (two days a year).
Memory is O(1): one day is remembered.
"""

from __future__ import annotations

from datetime import tzinfo

from .quiet_calendar import DAY, utc_offset


class LocalHours:
    __slots__ = ("_from", "_offset", "_until", "tz")

    def __init__(self, tz: tzinfo | None) -> None:
        self.tz = tz
        self._from = 0.0
        self._until = 0.0  # empty: the first call learns a day
        self._offset = 0.0

    def offset(self, at: float) -> float:
        """Seconds east of UTC at ``at``."""
        if self._from <= at < self._until:
            return self._offset
        offset = utc_offset(at, self.tz)
        local = at + offset
        day_start = local - local % DAY - offset
        day_end = day_start + DAY
        if utc_offset(day_start, self.tz) == offset == utc_offset(day_end - 1.0, self.tz):
            self._from, self._until, self._offset = day_start, day_end, offset
        return offset

    def hour(self, at: float) -> int:
        """Whole local hours since 1970-01-01 00:00 local time."""
        return int((at + self.offset(at)) // 3600.0)
