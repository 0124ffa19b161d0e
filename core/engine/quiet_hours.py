"""Quiet hours: a daily window, in minutes of the day, during which nothing is sent.

Accepts ``HH:MM-HH:MM`` and the older whole-hour form ``1-7``. A window may wrap
midnight (``23:30-07:00``). Equal start and end means "no quiet hours".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_MINUTES_PER_DAY = 24 * 60
_PART = r"\s*(\d{1,2})(?:\s*[:：]\s*(\d{2}))?\s*"
_WINDOW_RE = re.compile(rf"^{_PART}[-~－—至到]{_PART}$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    start_minute: int = 0
    end_minute: int = 0

    @property
    def enabled(self) -> bool:
        return self.start_minute != self.end_minute

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (an aware or naive local time) falls inside the window."""
        if not self.enabled:
            return False
        minute = moment.hour * 60 + moment.minute
        if self.start_minute < self.end_minute:
            return self.start_minute <= minute < self.end_minute
        return minute >= self.start_minute or minute < self.end_minute

    def window_end(self, moment: datetime) -> datetime:
        """The end of the window ``moment`` is in (call only when ``contains``): the
        first moment after it whose local time is the window's end and that is out of
        the window.

        Wall-clock arithmetic alone is wrong around DST changes (on the night the clocks
        go back the end time of day can occur twice), so each candidate (today,
        tomorrow; either side of a repeated hour) is compared as an instant. On the
        night the clocks go forward over the end time, that time does not exist: one
        reading of it is an instant still inside the window, which does not count.
        """
        hour, minute = divmod(self.end_minute, 60)
        day = moment.replace(hour=hour, minute=minute, second=0, microsecond=0)
        after = moment.timestamp()
        candidates = [
            (day + timedelta(days=days)).replace(fold=fold) for days in (0, 1, 2) for fold in (0, 1)
        ]
        later = [c for c in candidates if c.timestamp() > after and not self._holds_instant(c)]
        return min(later, key=datetime.timestamp)

    def _holds_instant(self, moment: datetime) -> bool:
        """Whether the instant ``moment`` stands for is inside the window, read on the
        zone's real clock (a time the clocks skip reads as another one)."""
        return self.contains(datetime.fromtimestamp(moment.timestamp(), moment.tzinfo))

    def __str__(self) -> str:
        return f"{_fmt(self.start_minute)}-{_fmt(self.end_minute)}"


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_quiet_hours(text: object) -> QuietHours:
    """Parse ``"HH:MM-HH:MM"`` / ``"H-H"``; raise ValueError with a readable reason.

    An empty string means no quiet hours. ``24`` is accepted as an end (midnight).
    """
    if text is None:
        raise ValueError("quiet hours must be text like 23:00-07:00")
    if not isinstance(text, str):
        raise ValueError(f"quiet hours must be text like 23:00-07:00, not {type(text).__name__}")
    if not text.strip():
        return QuietHours(0, 0)
    match = _WINDOW_RE.match(text)
    if match is None:
        raise ValueError(f"{_short(text)} is not a window like 23:00-07:00 or 1-7")
    start = _to_minute(match.group(1), match.group(2))
    end = _to_minute(match.group(3), match.group(4))
    if start != end and start % _MINUTES_PER_DAY == end % _MINUTES_PER_DAY:
        # 0-24 reads as "all day", but modulo a day it would become "no quiet hours".
        raise ValueError(f"{_short(text)} covers the whole day; to stop messages, turn enable off")
    return QuietHours(start % _MINUTES_PER_DAY, end % _MINUTES_PER_DAY)


def _short(text: str) -> str:
    """The text for an error message, cut short: a config may hold anything."""
    shown = repr(text.strip())
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _to_minute(hour_text: str, minute_text: str | None) -> int:
    hour = int(hour_text)
    minute = int(minute_text) if minute_text is not None else 0
    if hour > 24 or minute > 59 or (hour == 24 and minute != 0):
        raise ValueError(f"{hour_text}:{minute_text or '00'} is not a time of day")
    return hour * 60 + minute
