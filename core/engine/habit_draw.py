"""The plan's random draw, weighted by a session's learned habits (habits.py).

``habit_weights`` turns a profile into a weight per hour of the week: hours in which the
user is active and answers weigh most, every other waking hour keeps a small floor, and
hours of the day in which they are never active (``learned sleep``) weigh zero. None
while the profile has too little history (``MIN_HISTORY_DAYS`` and ``MIN_ACTIVE_HOURS``):
then the draw stays uniform.

``habit_time`` draws inside [low, high] with those weights, split at local hour
boundaries: deterministic for a given ``rng`` and clock. A range that lies wholly in
learned sleep moves to the first waking hour after it, as quiet hours move a plan.
Quiet hours are applied afterwards by the caller, so configured quiet hours always win.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass

from .habits import (
    ACTIVE,
    ANSWERED,
    EPOCH_HOUR_OF_WEEK,
    HOURS_OF_WEEK,
    SENT,
    UNIT,
    HabitProfile,
    hour_of_week,
)
from .local_hours import LocalHours

MIN_HISTORY_DAYS = 7  # a week seen, so every weekday had its chance
MIN_ACTIVE_HOURS = 20  # and this many (decayed) hours in which the user wrote
SLEEP_SHARE = 0.03  # an hour of the day with less than 3 % of the busiest hour's activity
FLOOR = 0.05  # a waking hour with no activity yet keeps a little weight
ANSWER_PRIOR = 2.0  # sent messages' worth of the session's overall answer rate per hour
MAX_SEGMENTS = 24 * 8  # a range longer than a week is not weighted
SLEEP_JITTER_SECONDS = 15 * 60.0


@dataclass(frozen=True, slots=True)
class HabitWeights:
    weights: tuple[float, ...]  # per hour of the week, the busiest 1.0
    asleep: tuple[bool, ...]  # per hour of the day (0-23): learned sleep
    made_at: float  # when they were weighed (re-weighed at most once a day)
    cumulative: tuple[float, ...]  # cumulative[b]: the sum of weights[:b] (169)
    to_sleep: tuple[int, ...]  # per hour of the day: hours until learned sleep
    sleep: str  # sleep_text(asleep)


@dataclass(frozen=True, slots=True)
class HabitDraw:
    at: float
    weight: float  # the chosen hour's weight (0 when moved out of learned sleep)
    sleep: str  # the learned sleep the range touched ("01–07"), or ""


def has_history(profile: HabitProfile, now: float) -> bool:
    return (
        now - profile.started_at >= MIN_HISTORY_DAYS * 86_400.0
        and profile.active_hours() >= MIN_ACTIVE_HOURS
    )


def habit_weights(profile: HabitProfile, now: float) -> HabitWeights | None:
    """The profile's weights (cached on it until re-weighed), or None: not enough history."""
    cached = profile.weights
    if isinstance(cached, HabitWeights):
        return cached
    weights = profile.weights = weigh_habits(profile, now)
    return weights


def weigh_habits(profile: HabitProfile, now: float) -> HabitWeights | None:
    """The profile's weights now (about 30 µs), or None: not enough history."""
    if not has_history(profile, now):
        return None
    counts = profile.counts
    active, sent, answered = counts[ACTIVE:SENT], counts[SENT:ANSWERED], counts[ANSWERED:]
    by_hour = [sum(active[hour::24]) for hour in range(24)]
    busiest_hour = max(by_hour)
    rate_all = (sum(answered) + UNIT) / (sum(sent) + 2 * UNIT)
    prior = ANSWER_PRIOR * UNIT
    prior_answers = prior * rate_all
    asleep = tuple(total < SLEEP_SHARE * busiest_hour for total in by_hour)
    # activity = 0.5 * active / busiest + 0.5 * by_hour / busiest_hour; 0 marks sleep
    of_day = [0.0 if asleep[hour] else 0.5 * by_hour[hour] / busiest_hour for hour in range(24)]
    of_bucket = 0.5 / max(active)
    raw = [
        FLOOR + (count * of_bucket + day) * (0.5 + (answers + prior_answers) / (times + prior))
        if day
        else 0.0
        for count, day, answers, times in zip(active, of_day * 7, answered, sent, strict=True)
    ]
    top = max(raw)
    weights = tuple([w / top for w in raw])
    return HabitWeights(
        weights,
        asleep,
        made_at=now,
        cumulative=tuple(itertools.accumulate(weights, initial=0.0)),
        to_sleep=_hours_to_sleep(asleep),
        sleep=sleep_text(asleep),
    )


def _hours_to_sleep(asleep: tuple[bool, ...]) -> tuple[int, ...]:
    """Per hour of the day, how many hours until learned sleep (0: asleep; 24: never):
    two walks back around the day, the first for the wrap past midnight."""
    ahead = [24] * 24
    steps = 24
    for index in range(47, -1, -1):
        hour = index % 24
        steps = 0 if asleep[hour] else min(steps + 1, 24)
        ahead[hour] = steps
    return tuple(ahead)


def sleep_text(asleep: tuple[bool, ...]) -> str:
    """The learned sleep as hour ranges, ``"01–07"`` (from 01:00 to 07:00), runs joined by
    ", "; a run over midnight reads ``"23–06"``."""
    if all(asleep) or not any(asleep):
        return ""
    start = next(h for h in range(24) if not asleep[h])  # begin at a waking hour
    runs, run_start = [], None
    for step in range(1, 25):
        hour = (start + step) % 24
        if asleep[hour] and run_start is None:
            run_start = hour
        elif not asleep[hour] and run_start is not None:
            runs.append(f"{run_start:02d}–{hour:02d}")
            run_start = None
    return ", ".join(runs)


def habit_time(
    low: float, high: float, weights: HabitWeights, hours: LocalHours, rng: random.Random
) -> HabitDraw | None:
    """A time in [low, high] drawn with the hour weights; None when the range is too long
    to weigh (the caller draws uniformly).

    One pick over the range's weight (``cumulative``: O(log 168) whatever its length),
    then a uniform time in the chosen hour. A range over a change of UTC offset (DST,
    twice a year) walks its hours one by one instead (``_habit_time_by_hour``), with the
    same two draws from ``rng``."""
    if high - low > MAX_SEGMENTS * 3600.0:
        return None
    offset = hours.offset(low)
    if hours.offset(high) != offset:
        return _habit_time_by_hour(low, high, weights, hours, rng)
    first_hour = int((low + offset) // 3600.0)
    last_hour = max(first_hour, math.ceil((high + offset) / 3600.0) - 1)  # overlaps [low, high]
    to_sleep = weights.to_sleep[first_hour % 24]  # local hours count from a midnight
    sleep = weights.sleep if to_sleep <= last_hour - first_hour else ""
    start = _weight_until(weights, (low + offset) / 3600.0)
    total = _weight_until(weights, (high + offset) / 3600.0) - start
    if total <= 0.0:
        weight = weights.weights[hour_of_week(first_hour)]
        if low >= high and weight > 0.0:
            return HabitDraw(low, weight, sleep)  # a zero-length range in a waking hour
        return _after_sleep(rng.uniform(low, high), weights, hours, rng, sleep)
    hour = _hour_at(weights, start + rng.random() * total)
    hour = min(max(hour, first_hour), last_hour)  # float sums at the range's two ends
    while weights.weights[hour_of_week(hour)] == 0.0 and hour > first_hour:
        hour -= 1  # the same float ends: back to the last weighted hour
    begin = max(low, hour * 3600.0 - offset)
    end = min(high, (hour + 1) * 3600.0 - offset)
    return HabitDraw(rng.uniform(begin, end), weights.weights[hour_of_week(hour)], sleep)


def _weight_until(weights: HabitWeights, local_hours: float) -> float:
    """The weight (in weight-hours) from the first week of 1970 to this local time."""
    hour = int(local_hours // 1.0)
    weeks, bucket = divmod(hour + EPOCH_HOUR_OF_WEEK, HOURS_OF_WEEK)
    cumulative = weights.cumulative
    return (
        weeks * cumulative[HOURS_OF_WEEK]
        + cumulative[bucket]
        + weights.weights[bucket] * (local_hours - hour)
    )


def _hour_at(weights: HabitWeights, weight: float) -> int:
    """The local hour index at which ``_weight_until`` reaches ``weight``."""
    cumulative = weights.cumulative
    weeks, rest = divmod(weight, cumulative[HOURS_OF_WEEK])
    bucket = min(bisect.bisect_right(cumulative, rest) - 1, HOURS_OF_WEEK - 1)
    return int(weeks) * HOURS_OF_WEEK + bucket - EPOCH_HOUR_OF_WEEK


def _habit_time_by_hour(
    low: float, high: float, weights: HabitWeights, hours: LocalHours, rng: random.Random
) -> HabitDraw | None:
    """``habit_time`` hour by hour: for a range whose UTC offset changes (DST)."""
    segments: list[tuple[float, float, float]] = []  # (start, end, weight)
    total = 0.0
    touched_sleep = False
    at = low
    while at < high or not segments:
        if len(segments) > MAX_SEGMENTS:
            return None
        local = at + hours.offset(at)
        end = min(high, at + 3600.0 - local % 3600.0)
        weight = weights.weights[hour_of_week(int(local // 3600.0))]
        touched_sleep = touched_sleep or weight == 0.0
        segments.append((at, end, weight))
        total += weight * (end - at)
        at = end
        if end >= high:
            break
    sleep = weights.sleep if touched_sleep else ""
    if total <= 0.0:
        if all(w == 0.0 for _, _, w in segments):
            return _after_sleep(rng.uniform(low, high), weights, hours, rng, sleep)
        start, _, weight = segments[0]  # a zero-length range in a waking hour
        return HabitDraw(start, weight, sleep)
    pick = rng.random() * total
    chosen = segments[0]
    for segment in segments:
        start, end, weight = segment
        share = weight * (end - start)
        if share > 0.0:
            chosen = segment  # float sums: the last weighted segment catches the rest
            if pick < share:
                break
        pick -= share
    start, end, weight = chosen
    return HabitDraw(rng.uniform(start, end), weight, sleep)


def _after_sleep(
    at: float, weights: HabitWeights, hours: LocalHours, rng: random.Random, sleep: str
) -> HabitDraw:
    """The first waking hour after ``at`` (in learned sleep), plus a few minutes."""
    for _ in range(24):
        local = at + hours.offset(at)
        at += 3600.0 - local % 3600.0
        local = at + hours.offset(at)
        weight = weights.weights[hour_of_week(int(local // 3600.0))]
        if weight > 0.0:
            return HabitDraw(at + rng.uniform(0.0, SLEEP_JITTER_SECONDS), weight, sleep)
    return HabitDraw(at, 0.0, sleep)  # unreachable: some hour of a day is awake
