"""Local days and day parts: "明天早上" / "tomorrow morning" -> a window of local hours,
and the arithmetic that turns (day, hour, minute) into an exact instant in a zone.

Instants are built as local wall times in the given zone (``zoneinfo`` is exact across
DST: "tomorrow 08:00" is 08:00 on the clock whatever the offset did overnight); a
duration is added to the epoch, never to the wall clock.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

# part -> (window start, usual time, window end), local hours (24 = the next midnight).
PARTS: dict[str, tuple[float, float, float]] = {
    "morning": (6.0, 8.0, 10.0),
    "forenoon": (8.0, 10.0, 12.0),
    "noon": (11.0, 12.0, 13.5),
    "after_lunch": (12.5, 13.5, 14.5),
    "afternoon": (13.0, 15.0, 18.0),
    "dusk": (17.0, 18.0, 19.5),
    "after_dinner": (19.0, 19.5, 21.0),
    "evening": (18.0, 20.0, 23.5),
    "late": (22.0, 23.0, 24.0),
    "day": (7.0, 10.0, 22.0),  # a day named alone: "talk tomorrow"
}
# Parts whose "3" means 15:00; "late" reads 11 and 12 as 23:00 and midnight.
PM_PARTS = frozenset({"afternoon", "dusk", "evening", "after_dinner"})
ROLL_LIMIT_S = 16 * 3600.0  # "早上八点叫我" said at 23:00 means tomorrow, said at 10:00 is past
IN_PROGRESS_S = 30 * 60.0  # "今晚再聊" said at 21:00: a little later tonight


def local_instant(day: date, hours: float, tz: tzinfo | None) -> float:
    """Epoch seconds of ``hours`` (may reach 24+) after local midnight of ``day``, read as
    a wall-clock time in ``tz`` (None: the server's zone; a time inside a spring-forward gap
    lands just after it)."""
    whole = int(hours)
    minutes = round((hours - whole) * 60)
    day += timedelta(days=whole // 24)
    moment = datetime.combine(day, time(whole % 24, minutes), tzinfo=tz)
    return moment.timestamp()


def hour_in_part(hour: int, part: str | None) -> int:
    """12-hour readings made 24-hour by the day part: 下午3点 -> 15, 晚上12点 -> 24."""
    if part in ("evening", "late") and hour == 12:
        return 24
    if part in PM_PARTS and hour < 12:
        return hour + 12
    if part == "noon" and 1 <= hour <= 5:
        return hour + 12
    if part == "late" and 9 <= hour <= 12:
        return hour + 12
    if part in ("morning", "forenoon") and hour == 12:
        return 12
    return hour


def resolve_clock(
    now: datetime, day: int | None, part: str | None, hour: int, minute: int
) -> float | None:
    """The instant a stated clock time means, or None when it is past.

    With a day ("明天8点"), that day. With a part but no day, today, or tomorrow when today's
    has passed and tomorrow's is near (``ROLL_LIMIT_S``). With neither, the next time the
    clock shows it: small hours (1-6) read as afternoon, 7-11 as the nearer of am and pm.
    """
    tz, today, stamp = now.tzinfo, now.date(), now.timestamp()
    hours = hour_in_part(hour, part) + minute / 60
    if day is not None:
        at = local_instant(today + timedelta(days=day), hours, tz)
        return at if at > stamp else None
    if part is not None:
        candidates = [hours]
    elif 1 <= hour <= 6:
        candidates = [hour + 12 + minute / 60]
    elif hour <= 11:
        candidates = [hours, hours + 12]
    else:
        candidates = [hours]
    for offset in (0, 1):
        for value in candidates:
            at = local_instant(today + timedelta(days=offset), value, tz)
            if at > stamp and (offset == 0 or at - stamp <= ROLL_LIMIT_S or part is None):
                return at
    return None


def resolve_part(now: datetime, day: int | None, part: str | None) -> tuple[float, float] | None:
    """(not_before, at) for a day part or a day named without a clock time, or None."""
    if part is None:
        if not day:
            return None
        part = "day"  # "明天聊": the day, read as a window of waking hours
    start, usual, end = PARTS[part]
    tz, stamp = now.tzinfo, now.timestamp()
    for offset in (day,) if day is not None else (0, 1):
        when = now.date() + timedelta(days=offset)
        at = local_instant(when, usual, tz)
        if day is None and offset == 1 and at - stamp > ROLL_LIMIT_S:
            return None
        if at > stamp:
            return max(stamp, local_instant(when, start, tz)), at
        if offset == 0 and local_instant(when, end, tz) > stamp + IN_PROGRESS_S:
            return stamp + IN_PROGRESS_S, stamp + IN_PROGRESS_S
    return None
