"""Learned habits, the pure parts: the profile (core/engine/habits.py), local hours
(local_hours.py) and the weighted draw (habit_draw.py)."""

from __future__ import annotations

import random
from array import array
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from proactive_chat.core.engine.habit_draw import (
    _habit_time_by_hour,
    habit_time,
    habit_weights,
    has_history,
    sleep_text,
    weigh_habits,
)
from proactive_chat.core.engine.habits import (
    ACTIVE,
    ANSWER_WINDOW,
    ANSWERED,
    BLOB_BYTES,
    HALF_LIFE,
    SENT,
    UNIT,
    CorruptProfile,
    HabitProfile,
    hour_of_week,
)
from proactive_chat.core.engine.local_hours import LocalHours

MONDAY = datetime(2026, 11, 2, tzinfo=UTC).timestamp()  # a Monday, 00:00 UTC
HOUR = 3600.0
DAY = 86_400.0
UTC_HOURS = LocalHours(UTC)


def profile_active(hours_of_day: range, days: int = 14, start: float = MONDAY) -> HabitProfile:
    """A profile of someone who wrote in each of ``hours_of_day`` (UTC) for ``days`` days."""
    profile = HabitProfile(start)
    for day in range(days):
        for hour in hours_of_day:
            at = start + day * DAY + hour * HOUR + 60
            profile.note_active(UTC_HOURS.hour(at), at)
    return profile


def test_hour_of_week_starts_on_monday():
    assert hour_of_week(UTC_HOURS.hour(MONDAY)) == 0
    assert hour_of_week(UTC_HOURS.hour(MONDAY + 6 * DAY + 23 * HOUR)) == 167
    assert hour_of_week(UTC_HOURS.hour(MONDAY + 7 * DAY + 5 * HOUR)) == 5


def test_one_count_per_hour_however_many_messages():
    profile = HabitProfile(MONDAY)
    assert profile.note_active(UTC_HOURS.hour(MONDAY + 10), MONDAY + 10)
    assert not profile.note_active(UTC_HOURS.hour(MONDAY + 20), MONDAY + 20)
    assert profile.note_active(UTC_HOURS.hour(MONDAY + HOUR), MONDAY + HOUR)
    assert profile.row(ACTIVE)[:2] == [1.0, 1.0]
    assert profile.active_hours() == 2.0


def test_an_answer_counts_for_the_hour_it_was_sent_in_once_and_in_time():
    profile = HabitProfile(MONDAY)
    sent = MONDAY + 9 * HOUR
    profile.note_sent(UTC_HOURS.hour(sent), sent)
    assert profile.note_answered(sent + 600)
    assert not profile.note_answered(sent + 700)  # each message is answered once
    assert profile.row(SENT)[9] == 1.0 and profile.row(ANSWERED)[9] == 1.0
    assert profile.delay_mean == 600
    late = sent + DAY
    profile.note_sent(UTC_HOURS.hour(late), late)
    assert not profile.note_answered(late + ANSWER_WINDOW + 1)
    decayed = 0.5 ** ((late - MONDAY) / HALF_LIFE)  # applied when the next one was sent
    assert profile.row(ANSWERED)[9] == pytest.approx(decayed, abs=2 / UNIT)


def test_counts_halve_every_half_life_and_saturate():
    profile = profile_active(range(20, 21), days=1)
    profile.decay_to(MONDAY + HALF_LIFE)  # decayed from the profile's start
    assert profile.row(ACTIVE)[20] == pytest.approx(0.5, abs=1 / UNIT)
    profile.decay_to(profile.decayed_at + 3600)  # within a day: not applied again
    assert profile.row(ACTIVE)[20] == pytest.approx(0.5, abs=1 / UNIT)
    for week in range(400):
        at = MONDAY + week * 7 * DAY
        profile.note_active(UTC_HOURS.hour(at), at)
    assert max(profile.counts) <= 0xFFFF


def test_the_blob_has_a_fixed_size_and_round_trips():
    profile = profile_active(range(8, 23), days=30)
    profile.note_sent(UTC_HOURS.hour(MONDAY), MONDAY)
    blob = profile.to_bytes()
    assert len(blob) == BLOB_BYTES == len(HabitProfile(0.0).to_bytes())
    back = HabitProfile.from_bytes(blob)
    assert back.to_bytes() == blob
    assert back.counts == profile.counts and back.sent_bucket == profile.sent_bucket


@pytest.mark.parametrize(
    "blob",
    [b"", b"x" * BLOB_BYTES, HabitProfile(0.0).to_bytes()[:-1], "text"],
)
def test_a_corrupt_blob_is_refused(blob):
    with pytest.raises(CorruptProfile):
        HabitProfile.from_bytes(blob)


def test_local_hours_match_the_zone_across_dst():
    zone = ZoneInfo("Europe/Berlin")
    hours = LocalHours(zone)
    start = datetime(2026, 3, 27, tzinfo=UTC).timestamp()  # clocks go forward on the 29th
    for step in range(0, 6 * 24 * 4):
        at = start + step * 900 + 7
        local = datetime.fromtimestamp(at, zone).replace(tzinfo=None)
        expected = (local - datetime(1970, 1, 1)) // timedelta(hours=1)
        assert hours.hour(at) == expected, local


def test_not_enough_history_gives_no_weights():
    young = profile_active(range(8, 23), days=5)
    assert habit_weights(young, MONDAY + 5 * DAY) is None
    quiet = profile_active(range(9, 10), days=10)  # 10 active hours only
    assert not has_history(quiet, MONDAY + 10 * DAY)
    assert habit_weights(quiet, MONDAY + 10 * DAY) is None


def test_weights_favour_active_hours_and_zero_learned_sleep():
    profile = profile_active(range(8, 23))
    weights = habit_weights(profile, MONDAY + 14 * DAY)
    assert weights is not None
    assert weights.asleep == tuple(h < 8 or h >= 23 for h in range(24))
    assert max(weights.weights) == 1.0
    assert weights.weights[3] == 0.0 and weights.weights[12] > 0.5
    assert sleep_text(weights.asleep) == "23–08"
    assert habit_weights(profile, MONDAY + 14 * DAY) is weights  # cached until re-weighed


def test_sleep_text_lists_each_run():
    asleep = tuple(h in (1, 2, 3, 14) for h in range(24))
    assert sleep_text(asleep) == "01–04, 14–15"
    assert sleep_text((False,) * 24) == ""


def test_the_draw_leans_toward_active_hours():
    profile = profile_active(range(18, 22))  # evenings only: every other hour is asleep
    weights = habit_weights(profile, MONDAY + 14 * DAY)
    rng = random.Random(3)
    low = MONDAY + 14 * DAY
    draws = [habit_time(low, low + DAY, weights, UTC_HOURS, rng) for _ in range(300)]
    hours = [datetime.fromtimestamp(d.at, UTC).hour for d in draws]
    assert all(18 <= h < 22 for h in hours)
    assert all(d.weight > 0 and d.sleep == "22–18" for d in draws)


def test_a_range_wholly_in_learned_sleep_moves_to_the_first_waking_hour():
    profile = profile_active(range(8, 23))
    weights = habit_weights(profile, MONDAY + 14 * DAY)
    low = MONDAY + 14 * DAY + 1 * HOUR  # 01:00-03:00, asleep
    draw = habit_time(low, low + 2 * HOUR, weights, UTC_HOURS, random.Random(1))
    woke = MONDAY + 14 * DAY + 8 * HOUR
    assert woke <= draw.at <= woke + 15 * 60
    assert draw.sleep == "23–08"


def test_the_draw_is_deterministic_under_the_rng():
    weights = habit_weights(profile_active(range(8, 23)), MONDAY + 14 * DAY)
    low = MONDAY + 14 * DAY + 5 * HOUR
    first = habit_time(low, low + 10 * HOUR, weights, UTC_HOURS, random.Random(9))
    again = habit_time(low, low + 10 * HOUR, weights, UTC_HOURS, random.Random(9))
    assert first == again


def test_decay_scales_every_counter_at_once_within_one_count():
    rng = random.Random(4)
    for _ in range(300):
        profile = HabitProfile(MONDAY)
        profile.counts = array(
            "H",
            [
                rng.choice([0, 1, 256, 0xFFFF, rng.randrange(0x10000)])
                for _ in range(len(profile.counts))
            ],
        )
        before = list(profile.counts)
        elapsed = rng.uniform(DAY, 20 * HALF_LIFE)
        profile.decay_to(MONDAY + elapsed)
        factor = 0.5 ** (elapsed / HALF_LIFE)
        exact = [int(count * factor) for count in before]
        assert len(profile.counts) == len(before)
        assert all(e - 1 <= got <= e for got, e in zip(profile.counts, exact, strict=True))


def test_learning_keeps_the_weights_until_they_are_weighed_again():
    profile = profile_active(range(8, 23))
    weights = habit_weights(profile, MONDAY + 14 * DAY)
    at = MONDAY + 14 * DAY + 3 * HOUR  # a first message at 03:00, in learned sleep
    profile.note_active(UTC_HOURS.hour(at), at)
    assert habit_weights(profile, at) is weights  # the draw keeps the day's weights
    fresh = weigh_habits(profile, at)
    assert fresh is not None and fresh.made_at == at and fresh is not weights


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/St_Johns", "Europe/Berlin"])
def test_the_quick_draw_picks_what_the_hour_by_hour_walk_picks(zone):
    """habit_time's one pick over the cumulative weights against the walk over each hour
    (which it uses across a DST change): the same time and weight for the same draws."""
    hours = LocalHours(ZoneInfo(zone))
    rng = random.Random(8)
    start = datetime(2026, 10, 12, tzinfo=UTC).timestamp()  # Berlin changes on the 25th
    profile = HabitProfile(start)
    for day in range(21):
        for hour in rng.sample(range(24), 9):
            at = start + day * DAY + hour * HOUR + 60
            profile.note_active(hours.hour(at), at)
    weights = weigh_habits(profile, start + 21 * DAY)
    assert weights is not None
    for _ in range(1500):
        low = start + 21 * DAY + rng.uniform(-14 * DAY, 7 * DAY)
        high = low + rng.choice([0.0, 600.0, 3600.0, 7200.0, rng.uniform(0, 3 * DAY)])
        seed = rng.randrange(1 << 30)
        quick = habit_time(low, high, weights, hours, random.Random(seed))
        walked = _habit_time_by_hour(low, high, weights, hours, random.Random(seed))
        assert quick == walked, (low, high)


@pytest.mark.parametrize(
    ("zone", "change"),
    [
        ("Europe/Berlin", datetime(2026, 10, 25, 1, tzinfo=UTC)),
        ("Europe/Berlin", datetime(2026, 3, 29, 1, tzinfo=UTC)),
        ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, tzinfo=UTC)),  # half an hour
    ],
)
def test_local_hours_remember_both_sides_of_a_change_of_the_clocks(zone, change):
    tz = ZoneInfo(zone)
    at = change.timestamp()
    forward, backward = LocalHours(tz), LocalHours(tz)
    for second in range(-3 * 3600, 3 * 3600, 7):
        for hours, moment in ((forward, at + second), (backward, at - second - 0.5)):
            expected = datetime.fromtimestamp(moment, tz).utcoffset().total_seconds()
            assert hours.offset(moment) == expected, datetime.fromtimestamp(moment, tz)
