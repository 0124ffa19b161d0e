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

import random
from dataclasses import dataclass

from .habits import ACTIVE, ANSWERED, HOURS_OF_WEEK, SENT, UNIT, HabitProfile, hour_of_week
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
    """The profile's weights (cached on it until it changes), or None: not enough history."""
    if now - profile.started_at < MIN_HISTORY_DAYS * 86_400.0:
        return None
    cached = profile.weights
    if isinstance(cached, HabitWeights):
        return cached
    if profile.active_hours() < MIN_ACTIVE_HOURS:
        return None
    counts = profile.counts
    active = counts[ACTIVE:SENT]
    by_hour = [sum(active[hour::24]) for hour in range(24)]
    busiest_hour = max(by_hour)
    busiest = max(active)
    sent_total = sum(counts[SENT:ANSWERED])
    rate_all = (sum(counts[ANSWERED:]) + UNIT) / (sent_total + 2 * UNIT)
    prior = ANSWER_PRIOR * UNIT
    asleep = tuple(total < SLEEP_SHARE * busiest_hour for total in by_hour)
    raw = []
    for bucket in range(HOURS_OF_WEEK):
        hour = bucket % 24
        if asleep[hour]:
            raw.append(0.0)
            continue
        activity = 0.5 * active[bucket] / busiest + 0.5 * by_hour[hour] / busiest_hour
        rate = (counts[ANSWERED + bucket] + prior * rate_all) / (counts[SENT + bucket] + prior)
        raw.append(FLOOR + activity * (0.5 + rate))
    top = max(raw)
    weights = HabitWeights(tuple(round(w / top, 3) for w in raw), asleep)
    profile.weights = weights
    return weights


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
    to weigh (the caller draws uniformly)."""
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
    sleep = sleep_text(weights.asleep) if touched_sleep else ""
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
