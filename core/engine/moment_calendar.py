"""Daily moments: local times of day with their own prompt ("08:00 | 1-5 | 早安…"), and
when the next one comes, answered in O(1) from cached local-day boundaries.

An entry is ``HH:MM | days | prompt``: days are ``1-7`` (Monday is 1) as ranges and
commas (``1-5``, ``6,7``), or ``*`` / empty / 每天 / 工作日 / 周末 / daily / weekdays /
weekends; the prompt may be left out (the main prompt is used). ``parse_moment`` raises
ValueError with a reason that completes "<entry> ...".

``LocalDays`` learns, once per local day, where that day starts and ends (two zone
conversions) and whether it is 24 hours long (no clock change); a moment's instant is then
the day's start plus its minutes. Only on the two days a year the clocks change is a
moment read the exact way, with datetimes. Memory is bounded: a few days are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

MAX_MOMENTS = 8  # per kind: "a short list"
MAX_MOMENT_PROMPT_CHARS = 2000
LOOKAHEAD_DAYS = 8  # a moment on one weekday comes within a week; one more for today
ALL_DAYS = frozenset(range(7))  # weekday() numbers: Monday is 0

_TIME_RE = re.compile(r"^\s*(\d{1,2})\s*[:：]\s*(\d{2})\s*$")
_DAY_WORDS = {
    "*": ALL_DAYS,
    "每天": ALL_DAYS,
    "daily": ALL_DAYS,
    "everyday": ALL_DAYS,
    "工作日": frozenset(range(5)),
    "weekdays": frozenset(range(5)),
    "周末": frozenset({5, 6}),
    "weekends": frozenset({5, 6}),
}
_DAY_PART_RE = re.compile(r"^([1-7])(?:\s*[-~－至到]\s*([1-7]))?$")


@dataclass(frozen=True, slots=True)
class Moment:
    minute: int  # of the local day, 0-1439
    weekdays: frozenset[int]  # weekday() numbers: Monday is 0
    prompt: str = ""  # empty: the main prompt

    @property
    def key(self) -> str:
        """The moment's identity for "once per day": its time, ``08:00``."""
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    def __str__(self) -> str:
        """The entry as written back into the config (canonical days)."""
        return f"{self.key} | {days_text(self.weekdays)} | {self.prompt}".rstrip(" |")


def days_text(weekdays: frozenset[int]) -> str:
    """``*`` for every day, else ``1-5`` / ``1,3,5`` (Monday is 1)."""
    if weekdays == ALL_DAYS:
        return "*"
    days = sorted(d + 1 for d in weekdays)
    runs: list[str] = []
    start = prev = days[0]
    for day in [*days[1:], None]:
        if day is not None and day == prev + 1:
            prev = day
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if day is not None:
            start = prev = day
    return ",".join(runs)


def parse_moment(text: object) -> Moment:
    """``"08:00 | 1-5 | 早安…"`` -> Moment; ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError("is not text like '08:00 | 1-5 | prompt'")
    parts = [part.strip() for part in re.split(r"[|｜]", text, maxsplit=2)]
    minute = _parse_time(parts[0])
    weekdays = _parse_days(parts[1]) if len(parts) > 1 else ALL_DAYS
    prompt = parts[2] if len(parts) > 2 else ""
    if len(prompt) > MAX_MOMENT_PROMPT_CHARS:
        raise ValueError(f"has a prompt longer than {MAX_MOMENT_PROMPT_CHARS} characters")
    return Moment(minute, weekdays, prompt)


def _parse_time(text: str) -> int:
    match = _TIME_RE.match(text)
    if match is None:
        raise ValueError(f"does not start with a time of day like 08:00 (found {text[:20]!r})")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"has {text.strip()!r}, which is not a time of day (00:00-23:59)")
    return hour * 60 + minute


def _parse_days(text: str) -> frozenset[int]:
    word = text.strip().lower()
    if not word or word in _DAY_WORDS:
        return _DAY_WORDS.get(word, ALL_DAYS)
    days: set[int] = set()
    for part in re.split(r"\s*[,，、]\s*", word):
        match = _DAY_PART_RE.match(part)
        if match is None:
            raise ValueError(
                f"has days {text.strip()[:20]!r}; write them like 1-5, 6,7 or * (Monday is 1)"
            )
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first:
            raise ValueError(f"has days {part!r} running backwards; write 1-5, not 5-1")
        days.update(range(first - 1, last))
    return frozenset(days)


@dataclass(frozen=True, slots=True)
class LocalDay:
    start: float  # the first instant of the local day
    end: float  # the first instant of the next one
    ordinal: int  # date.toordinal(): the day's identity for "once per day"
    weekday: int  # Monday is 0
    steady: bool  # 24 hours long: the zone's offset holds all day
    day: date

    def instant(self, minute: int, tz: tzinfo | None) -> float:
        """The instant of ``minute`` (of the local day) on this day."""
        if self.steady:
            return self.start + minute * 60.0
        hour, mins = divmod(minute, 60)
        moment = datetime.combine(self.day, time(hour, mins))
        return moment.replace(tzinfo=tz).timestamp() if tz is not None else moment.timestamp()


class LocalDays:
    """Local days of one zone, learned once each (a few kept): ``day_of`` is O(1)."""

    KEPT = 8

    __slots__ = ("_days", "tz")

    def __init__(self, tz: tzinfo | None) -> None:
        self.tz = tz
        self._days: list[LocalDay] = []  # most recently learned first

    def day_of(self, at: float) -> LocalDay:
        for day in self._days:
            if day.start <= at < day.end:
                return day
        return self._learn(datetime.fromtimestamp(at, self.tz).date())

    def after(self, day: LocalDay) -> LocalDay:
        """The next local day."""
        return self.day_of(day.end)

    def _learn(self, day: date) -> LocalDay:
        start = self._midnight(day)
        end = self._midnight(day + timedelta(days=1))
        steady = end - start == 86_400.0  # a day the clocks change is 23 or 25 hours long
        learned = LocalDay(start, end, day.toordinal(), day.weekday(), steady, day)
        self._days.insert(0, learned)
        del self._days[self.KEPT :]
        return learned

    def _midnight(self, day: date) -> float:
        moment = datetime.combine(day, time())
        if self.tz is not None:
            return moment.replace(tzinfo=self.tz).timestamp()
        return moment.timestamp()


def next_moment(
    moments: tuple[Moment, ...],
    after: float,
    days: LocalDays,
    fired: frozenset[tuple[int, str]] = frozenset(),
) -> tuple[float, int, Moment] | None:
    """The first moment strictly after ``after`` on one of its weekdays, not in
    ``fired`` ((day ordinal, moment key) pairs): ``(instant, day ordinal, moment)``.
    At most ``LOOKAHEAD_DAYS`` x ``MAX_MOMENTS`` checks, no zone conversion but on a
    day not seen before."""
    if not moments:
        return None
    day = days.day_of(after)
    for _ in range(LOOKAHEAD_DAYS):
        for moment in moments:  # sorted by time of day (the config reader sorts them)
            if day.weekday not in moment.weekdays:
                continue
            at = day.instant(moment.minute, days.tz)
            if at > after and (day.ordinal, moment.key) not in fired:
                return at, day.ordinal, moment
        day = days.after(day)
    return None
