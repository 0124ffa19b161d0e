"""Chats the bot has seen but does not serve are recorded (bounded) so the owner can find
and serve them; one put on the list by a config save gets a plan at once, and the journal
says so (core/engine/messages.py, engine.apply_settings)."""

from __future__ import annotations

from harness.engine_rig import FRIEND, GROUP, OTHER_FRIEND, START, engine_config
from proactive_chat.core.engine import messages
from proactive_chat.core.engine.config import parse_plugin_config
from proactive_chat.core.engine.models import Phase


def _settings(friends: tuple[str, ...]):
    settings, problems = parse_plugin_config(engine_config(friends=friends))
    assert not problems
    return settings


async def test_a_seen_chat_put_on_the_list_is_planned_at_once(rig, clock):
    engine = await rig.start()
    engine.on_user_message(OTHER_FRIEND, "Bob")
    clock.advance(600)
    await engine.apply_settings(_settings((FRIEND, OTHER_FRIEND)))
    state = engine.sessions[OTHER_FRIEND]
    assert state.phase == Phase.PLANNED
    assert START + 600 + 30 * 60 <= state.next_at <= START + 600 + 60 * 60
    entries = await rig.store.query_journal(umo=OTHER_FRIEND, limit=5)
    assert [(e.kind, e.reason) for e in entries] == [("planned", "newly_listed")]


async def test_a_session_served_before_the_save_keeps_its_plan(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    plan = engine.sessions[FRIEND].next_at
    clock.advance(60)
    await engine.apply_settings(_settings((FRIEND, OTHER_FRIEND)))
    assert engine.sessions[FRIEND].next_at == plan


async def test_a_listed_group_waits_for_silence_from_the_save(tmp_path, clock):
    from harness.engine_rig import Rig

    clock.now = START
    raw = engine_config()
    raw["group_settings"]["session_list"] = []
    rig = Rig(tmp_path, clock, raw)
    engine = await rig.start()
    try:
        engine.on_user_message(GROUP, "G")
        assert engine.sessions[GROUP].phase == Phase.IDLE
        clock.advance(60)
        settings, _ = parse_plugin_config(engine_config())
        await engine.apply_settings(settings)
        state = engine.sessions[GROUP]
        assert state.phase == Phase.SILENCE and state.next_at == START + 60 + 10 * 60
        assert "silence_started" in await rig.journal_kinds(GROUP)
    finally:
        await rig.stop()


async def test_recording_unserved_chats_is_bounded(rig, monkeypatch):
    engine = await rig.start()
    monkeypatch.setattr(messages, "MAX_RECORDED_SESSIONS", 3)
    for index in range(10):
        engine.on_user_message(f"test:FriendMessage:stranger{index}", "x")
    assert len(engine.sessions) == 3
    engine.on_user_message(FRIEND, "Alice")  # a served chat is always recorded
    assert FRIEND in engine.sessions


async def test_a_recorded_chat_takes_the_batched_path_and_stays_unplanned(rig, clock):
    engine = await rig.start()
    engine.on_user_message(OTHER_FRIEND, "Bob")
    clock.advance(30)
    engine.note_user_message(OTHER_FRIEND, "Bobby", "in an hour")
    engine.apply_pending_messages()
    state = engine.sessions[OTHER_FRIEND]
    assert state.name == "Bobby" and state.last_user_at == START + 30
    assert state.phase == Phase.IDLE and state.next_at is None
