"""A time the user names moves the next plan (core/engine/messages.py with cues/): the
plan lands at the named time (quiet hours still win), the journal says which words and
rule, and a message without a cue plans as before."""

from __future__ import annotations

from datetime import UTC, datetime

from harness.engine_rig import FRIEND, GROUP, START, Rig, engine_config
from proactive_chat.core.engine.models import Phase

# START is a Saturday 12:00 UTC; the rig's engine reads times in UTC.


async def _planned(rig, umo: str) -> dict:
    """The newest "planned" entry of the session: its reason and detail."""
    entries = await rig.store.query_journal(umo=umo, limit=10)
    return next({"reason": e.reason, **e.detail} for e in entries if e.kind == "planned")


async def test_a_duration_in_a_message_sets_the_plan(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice", "在开会，两个小时后再聊")
    state = engine.sessions[FRIEND]
    assert state.phase == Phase.PLANNED
    assert START + 2 * 3600 <= state.next_at <= START + 2 * 3600 + 15 * 60
    assert state.next_reason == "cue"
    planned = await _planned(rig, FRIEND)
    assert planned["reason"] == "cue"
    assert "两个小时" in planned["cue"]
    assert planned["rule"].startswith("zh.")
    assert planned["at"] == state.next_at


async def test_the_batched_path_reads_the_cue_too(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    clock.advance(60)
    engine.note_user_message(FRIEND, None, "I'm out, back in 3 hours")
    engine.apply_pending_messages()
    state = engine.sessions[FRIEND]
    assert state.next_reason == "cue"
    assert START + 60 + 3 * 3600 <= state.next_at <= START + 60 + 3 * 3600 + 15 * 60


async def test_good_night_waits_for_the_morning_not_the_random_draw(rig, clock):
    clock.now = datetime(2026, 11, 28, 23, 0, tzinfo=UTC).timestamp()
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice", "好困，去睡了，晚安")
    state = engine.sessions[FRIEND]
    morning = datetime.fromtimestamp(state.next_at, UTC)
    assert state.next_reason == "cue"
    assert morning.date().day == 29 and 5 <= morning.hour <= 11, morning


async def test_quiet_hours_still_win_over_a_cue(tmp_path, clock):
    clock.now = START  # 12:00 UTC
    rig = Rig(tmp_path, clock, engine_config(quiet_hours="13-15"))
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND, "Alice", "in an hour")
        state = engine.sessions[FRIEND]
        assert state.next_reason == "cue"
        assert START + 3 * 3600 <= state.next_at <= START + 3 * 3600 + 15 * 60
        kinds = [e.kind for e in await rig.store.query_journal(umo=FRIEND, limit=10)]
        assert "quiet_shifted" in kinds
    finally:
        await rig.stop()


async def test_no_cue_and_a_past_time_plan_as_before(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice", "我等了10分钟")
    state = engine.sessions[FRIEND]
    assert state.next_reason == "user_message"
    assert START + 30 * 60 <= state.next_at <= START + 60 * 60


async def test_the_switch_turns_cues_off(tmp_path, clock):
    clock.now = START
    raw = engine_config()
    raw["friend_settings"]["schedule_settings"]["time_cues"] = False
    rig = Rig(tmp_path, clock, raw)
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND, "Alice", "两个小时后再聊")
        assert engine.sessions[FRIEND].next_reason == "user_message"
    finally:
        await rig.stop()


async def test_a_cue_in_a_group_plans_instead_of_waiting_for_silence(rig):
    engine = await rig.start()
    engine.on_user_message(GROUP, "G", "大家晚上八点再聊")
    state = engine.sessions[GROUP]
    assert state.phase == Phase.PLANNED
    assert datetime.fromtimestamp(state.next_at, UTC).hour == 20
