"""When to speak next: pure functions of a time, the settings and a random source.

Times are UNIX timestamps; quiet hours are judged in AstrBot's timezone (``tz``).
A time inside quiet hours moves to the end of the window plus a few random minutes,
computed directly: there is no re-roll loop.
"""

from __future__ import annotations

import random
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from .models import ScheduleSettings
from .quiet_hours import QuietHours

if TYPE_CHECKING:
    from .quiet_calendar import QuietCalendars

MAX_QUIET_JITTER_SECONDS = 15 * 60
RETRY_BASE_SECONDS = 5 * 60
RETRY_FACTOR = 3


def random_interval_seconds(schedule: ScheduleSettings, rng: random.Random) -> float:
    low = schedule.min_interval_minutes * 60.0
    high = max(low, schedule.max_interval_minutes * 60.0)
    return rng.uniform(low, high)


def quiet_jitter_cap(quiet: QuietHours) -> float:
    """At most 15 minutes past the window's end, and at most half of the open gap, so
    the jitter never reaches the next window."""
    open_minutes = (quiet.start_minute - quiet.end_minute) % (24 * 60)
    return min(MAX_QUIET_JITTER_SECONDS, open_minutes * 30.0)


def shift_out_of_quiet(
    at: float, quiet: QuietHours, tz: tzinfo | None, rng: random.Random
) -> tuple[float, bool]:
    """``(time, moved)``: ``at`` itself, or the end of its quiet window plus jitter.

    The result is never earlier than ``at``, also on the night the clocks go back
    (when the window's end time of day occurs twice). This is the exact reading, with
    datetimes; the engine asks ``QuietCalendars`` (quiet_calendar.py), which gives the
    same answers by arithmetic on all but DST days.
    """
    if not quiet.enabled:
        return at, False
    moment = datetime.fromtimestamp(at, tz)
    if not quiet.contains(moment):
        return at, False
    end = quiet.window_end(moment).timestamp()
    shifted = end + rng.uniform(0.0, quiet_jitter_cap(quiet))
    if quiet.contains(datetime.fromtimestamp(shifted, tz)):
        # The clocks went back just after the window's end and the jitter reached the
        # repeated hour, which is inside the window again: leave that one too.
        return shift_out_of_quiet(shifted, quiet, tz, rng)[0], True
    return shifted, True


def plan_after(
    now: float,
    schedule: ScheduleSettings,
    tz: tzinfo | None,
    rng: random.Random,
    *,
    extra_seconds: float = 0.0,
    calendars: QuietCalendars | None = None,
) -> tuple[float, bool]:
    """A random time between min and max interval after ``now`` (+ extra), out of quiet
    hours (through ``calendars`` when given: the same answer, faster). Returns
    ``(time, moved_out_of_quiet_hours)``."""
    at = now + extra_seconds + random_interval_seconds(schedule, rng)
    if calendars is not None:
        return calendars.shift(at, schedule.quiet_hours, rng)
    return shift_out_of_quiet(at, schedule.quiet_hours, tz, rng)


def is_capped(unanswered: int, schedule: ScheduleSettings) -> bool:
    limit = schedule.max_unanswered_times
    return limit > 0 and unanswered >= limit


def retry_delay_seconds(failures: int, schedule: ScheduleSettings) -> float:
    """Back-off after the n-th failure in a row (1-based): 5, 15, 45 min ..., capped at
    the larger of the max interval and one hour."""
    cap = max(schedule.max_interval_minutes * 60.0, 3600.0)
    return min(cap, RETRY_BASE_SECONDS * RETRY_FACTOR ** max(0, failures - 1))


def spread_missed(now: float, count: int, rng: random.Random) -> list[float]:
    """Times for ``count`` plans missed while AstrBot was down: soon, but not at once.

    The first after about 15 s, then on average one every 20 s, closer together when
    there are many (all within about ten minutes).
    """
    gap = max(1.0, min(20.0, 600.0 / max(1, count)))
    times = []
    at = now + 15.0
    for _ in range(count):
        at += rng.uniform(0.5 * gap, 1.5 * gap)
        times.append(at)
    return times
