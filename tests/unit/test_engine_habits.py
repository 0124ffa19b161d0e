"""Learned habits in the engine (core/engine/habit_learning.py) with a fake clock: what
messages teach, how the draw leans toward active hours and away from learned sleep,
that quiet hours win, that the switch and too little history leave the draw uniform,
and that profiles survive a restart (and a corrupt one does not stop it)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from harness.engine_rig import FRIEND, START, Rig, engine_config
from proactive_chat.core.engine.habits import ACTIVE, ANSWERED, SENT, HabitProfile
from proactive_chat.core.engine.local_hours import LocalHours
from proactive_chat.core.plugin_log import PLUGIN_LOGGER_NAME

HOUR = 3600.0
DAY = 86_400.0
UTC_HOURS = LocalHours(UTC)
SATURDAY_NOON = 5 * 24 + 12  # START's hour of the week
WIDE = {"min_interval_minutes": 60, "max_interval_minutes": 24 * 60}


def seeded(hours_of_day: range, days: int = 14, until: float = START) -> HabitProfile:
    """Someone who wrote in each of ``hours_of_day`` (UTC) on each of the ``days`` days
    before ``until``."""
    first = until - until % DAY - days * DAY
    profile = HabitProfile(first)
    for day in range(days):
        for hour in hours_of_day:
            at = first + day * DAY + hour * HOUR + 60
            profile.note_active(UTC_HOURS.hour(at), at)
    return profile


def hour_of(at: float) -> int:
    return datetime.fromtimestamp(at, UTC).hour


async def sql(rig: Rig, statement: str) -> list[tuple]:
    """A raw statement on the store's own thread."""
    return await rig.store._in_thread(rig.store._db.execute, statement)


async def planned_detail(rig: Rig) -> dict:
    entries = await rig.store.query_journal(umo=FRIEND, kinds=["planned"], limit=1)
    return entries[0].detail


async def test_messages_teach_the_active_hours_in_the_batch(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    profile = engine.habits[FRIEND]
    assert profile.row(ACTIVE)[SATURDAY_NOON] == 1.0
    clock.advance(HOUR)
    engine.note_user_message(FRIEND, None, "hi")
    engine.note_user_message(FRIEND, None, "again")
    assert profile.row(ACTIVE)[SATURDAY_NOON + 1] == 0.0  # the handler only notes
    engine.apply_pending_messages()
    assert profile.row(ACTIVE)[SATURDAY_NOON + 1] == 1.0  # one count for the hour
    await rig.store.flush()
    stored = await sql(rig, "SELECT umo, length(data) FROM habits")
    assert stored == [(FRIEND, len(profile.to_bytes()))]


async def test_an_answer_to_a_proactive_message_is_learned(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    await rig.advance(engine.sessions[FRIEND].next_at - clock.now + 1)
    assert rig.sender.sent
    sent_hour = (UTC_HOURS.hour(clock.now) + 72) % 168
    clock.advance(300)
    engine.on_user_message(FRIEND, "Alice", "oh hi")
    profile = engine.habits[FRIEND]
    assert profile.row(SENT)[sent_hour] == 1.0
    assert profile.row(ANSWERED)[sent_hour] == 1.0
    assert 300 <= profile.delay_mean <= 301


async def test_the_draw_leans_toward_the_hours_the_user_is_active(tmp_path, clock):
    clock.now = START  # Saturday 12:00 UTC
    friends = tuple(f"test:FriendMessage:u{i}" for i in range(40))
    rig = Rig(tmp_path, clock, engine_config(friends=friends, **WIDE))
    engine = await rig.start()
    try:
        for umo in friends:
            engine.on_user_message(umo, "x")  # a session, and an hour at noon
            engine.habits[umo] = seeded(range(18, 22))
            engine.reschedule(umo)
        evening = sum(18 <= hour_of(engine.sessions[u].next_at) < 22 for u in friends)
        assert evening == len(friends)  # uniform over the day would give about a sixth
        entries = await rig.store.query_journal(umo=friends[0], kinds=["planned"], limit=1)
        detail = entries[0].detail
        assert detail["rule"] == "habits"
        assert 0 < detail["habit_weight"] <= 1
        assert detail["sleep_avoided"] == "22–18"
    finally:
        await rig.stop()


async def test_learned_sleep_is_avoided_like_quiet_hours(tmp_path, clock):
    clock.now = START + 10 * HOUR + 1800  # 22:30, awake
    raw = engine_config(min_interval_minutes=120, max_interval_minutes=240)
    rig = Rig(tmp_path, clock, raw)
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND, "Alice")
        engine.habits[FRIEND] = seeded(range(8, 23))
        engine.reschedule(FRIEND)  # 00:30-02:30 is asleep: the first waking hour
        next_at = engine.sessions[FRIEND].next_at
        woke = START - 12 * HOUR + DAY + 8 * HOUR  # Sunday 08:00
        assert woke <= next_at <= woke + 15 * 60
        assert (await planned_detail(rig))["sleep_avoided"] == "23–08"
    finally:
        await rig.stop()


async def test_configured_quiet_hours_win_over_habits(tmp_path, clock):
    clock.now = START + 10 * HOUR + 1800  # 22:30
    raw = engine_config(min_interval_minutes=120, max_interval_minutes=600, quiet_hours="8-12")
    rig = Rig(tmp_path, clock, raw)
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND, "Alice")
        engine.habits[FRIEND] = seeded(range(8, 23))  # most active right in quiet hours
        engine.reschedule(FRIEND)
        next_at = engine.sessions[FRIEND].next_at
        assert 12 <= hour_of(next_at) < 13, datetime.fromtimestamp(next_at, UTC)
    finally:
        await rig.stop()


async def _uniform_plan(tmp_path, clock, name: str, raw: dict, profile: HabitProfile | None):
    """``next_at`` after a reschedule on a fresh rig (same seed) with ``profile``."""
    clock.now = START
    rig = Rig(tmp_path / name, clock, raw)
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND, "Alice")
        if profile is not None:
            engine.habits[FRIEND] = profile
        engine.reschedule(FRIEND)
        return engine.sessions[FRIEND].next_at, await planned_detail(rig), engine
    finally:
        await rig.stop()


async def test_the_switch_off_and_too_little_history_leave_the_draw_uniform(tmp_path, clock):
    raw = engine_config(**WIDE)
    uniform, detail, _ = await _uniform_plan(tmp_path, clock, "none", raw, None)
    assert "rule" not in detail
    young = seeded(range(18, 22), days=3)
    assert (await _uniform_plan(tmp_path, clock, "young", raw, young))[0] == uniform
    off = engine_config(learn_habits=False, **WIDE)
    at, detail, engine = await _uniform_plan(tmp_path, clock, "off", off, seeded(range(18, 22)))
    assert at == uniform and "rule" not in detail
    habits = engine.habits[FRIEND]
    assert habits.row(ACTIVE)[SATURDAY_NOON] == 0.0  # off: nothing learned either


async def test_profiles_survive_a_restart_and_a_corrupt_one_is_dropped(rig, clock, caplog):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    await rig.store.flush()
    await sql(rig, "INSERT INTO habits (umo, data) VALUES ('x:FriendMessage:y', x'00ff')")
    await sql(rig, "INSERT INTO habits (umo, data) VALUES ('x:FriendMessage:z', 'text')")
    engine = await rig.restart()
    assert engine.habits[FRIEND].row(ACTIVE)[SATURDAY_NOON] == 1.0
    assert set(engine.habits) == {FRIEND}
    lines = [r.getMessage() for r in caplog.records if r.name == PLUGIN_LOGGER_NAME]
    assert any("Dropped 2 unreadable learned-habit profiles" in line for line in lines)


async def test_a_store_from_before_habits_gets_the_table(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    await rig.stop()
    path = rig.tmp_path / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE habits")  # the file as the version before wrote it
    engine = await rig.start()
    assert FRIEND in engine.sessions and engine.habits == {}
    engine.note_user_message(FRIEND, None, "back")
    engine.apply_pending_messages()
    assert await rig.store.flush()
    assert await sql(rig, "SELECT count(*) FROM habits") == [(1,)]


async def test_day_old_weights_are_weighed_again_off_the_message_path(tmp_path, clock):
    clock.now = START
    rig = Rig(tmp_path, clock, engine_config(**WIDE))
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND, "Alice")
        engine.habits[FRIEND] = seeded(range(18, 22))
        engine.reschedule(FRIEND)  # never weighed: weighed now, once
        weights = engine.habits[FRIEND].weights
        assert weights is not None and weights.made_at == START
        clock.advance(DAY + HOUR)
        engine.note_user_message(FRIEND, None, "evening")
        engine.apply_pending_messages()
        assert engine.habits[FRIEND].weights is weights  # the batch drew with them
        assert (await planned_detail(rig))["rule"] == "habits"
        assert list(engine._habit_refresh) == [FRIEND]
        assert engine._habit_refresh_timer is not None
        assert engine.reweigh_habits() == 1
        assert engine.habits[FRIEND].weights.made_at == clock.now
        assert not engine._habit_refresh and engine._habit_refresh_timer is None
    finally:
        await rig.stop()


async def test_loaded_profiles_are_weighed_in_the_background_and_stop_leaves_no_timer(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    engine.habits[FRIEND] = seeded(range(18, 22))
    rig.store.put_habits(FRIEND, engine.habits[FRIEND].to_bytes)
    await rig.store.flush()
    engine = await rig.restart()
    assert engine.habits[FRIEND].weights is None
    assert list(engine._habit_refresh) == [FRIEND]  # queued at load, not weighed yet
    timer = engine._habit_refresh_timer
    assert timer is not None
    await rig.stop()
    assert timer.cancelled() and not engine._habit_refresh
