"""The engine's rules with a fake clock, a real SessionStore and our own composer and
sender protocols (the host tests run the real AstrBot adapters)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from harness.engine_rig import FRIEND, GROUP, OTHER_FRIEND, START, Rig, engine_config
from proactive_chat.core.engine.config import parse_plugin_config
from proactive_chat.core.engine.models import (
    Phase,
)
from proactive_chat.core.engine.ports import ComposeError


async def test_a_private_message_plans_between_min_and_max(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    state = engine.sessions[FRIEND]
    assert state.phase == Phase.PLANNED
    assert START + 30 * 60 <= state.next_at <= START + 60 * 60
    assert engine.scheduler.when(FRIEND) == state.next_at
    assert state.name == "Alice"
    assert await rig.journal_kinds(FRIEND) == ["planned"]


async def test_unlisted_chats_are_recorded_but_never_planned(rig):
    """Seen, not served: the panel lists the chat (so it can be served), nothing is
    planned or journaled; what is not a chat leaves no state."""
    engine = await rig.start()
    for _ in range(3):
        engine.on_user_message(OTHER_FRIEND, "Bob")
        engine.on_user_message("test:OtherMessage:x")
        engine.on_user_message("garbage")
    state = engine.sessions[OTHER_FRIEND]
    assert state.phase == Phase.IDLE and state.next_at is None and state.name == "Bob"
    assert state.last_user_at == START
    assert not engine.is_served(OTHER_FRIEND)
    assert list(engine.sessions) == [OTHER_FRIEND]
    assert await rig.journal_kinds(OTHER_FRIEND) == []


async def test_bare_ids_from_old_configs_are_listed(tmp_path, clock):
    raw = engine_config()
    raw["friend_settings"]["session_list"] = ["bob"]
    rig = Rig(tmp_path, clock, raw)
    engine = await rig.start()
    try:
        engine.on_user_message(OTHER_FRIEND)
        assert engine.sessions[OTHER_FRIEND].phase == Phase.PLANNED
    finally:
        await rig.stop()


async def test_the_time_comes_the_message_is_sent_and_the_next_one_planned(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    await rig.advance(60 * 60 + 1)
    assert rig.sender.sent == [(FRIEND, "hello #1")]
    assert rig.composer.calls[0][1] == "count=0 name=Alice"
    assert rig.composer.remembered == [(FRIEND, "hello #1")]
    state = engine.sessions[FRIEND]
    assert state.unanswered == 1
    assert state.phase == Phase.PLANNED
    sent_at = rig.clock.now
    assert sent_at + 30 * 60 <= state.next_at <= sent_at + 60 * 60
    assert await rig.journal_kinds(FRIEND) == ["planned", "fired", "sent", "planned"]


async def test_the_cap_stops_and_a_reply_resets(rig):
    rig.raw_config = engine_config(max_unanswered_times=2)
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    await rig.advance(3601)
    await rig.advance(3601)
    state = engine.sessions[FRIEND]
    assert len(rig.sender.sent) == 2
    assert state.unanswered == 2
    assert state.phase == Phase.CAPPED and state.next_at is None
    assert FRIEND not in engine.scheduler
    await rig.advance(10 * 3600)
    assert len(rig.sender.sent) == 2  # nothing more until the user speaks
    engine.on_user_message(FRIEND)
    assert state.unanswered == 0 and state.phase == Phase.PLANNED
    kinds = await rig.journal_kinds(FRIEND)
    assert kinds[-3:] == ["capped", "answered", "planned"]
    # the next prompt says how many went unanswered
    await rig.advance(3601)
    await rig.advance(3601)
    assert rig.composer.calls[-1][1].startswith("count=1")


async def test_zero_means_no_cap(rig):
    rig.raw_config = engine_config(max_unanswered_times=0)
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    for _ in range(6):
        await rig.advance(3601)
    assert len(rig.sender.sent) == 6
    assert engine.sessions[FRIEND].phase == Phase.PLANNED


async def test_a_group_waits_for_silence_and_every_message_restarts_it(rig):
    engine = await rig.start()
    engine.on_user_message(GROUP, "Group One")
    state = engine.sessions[GROUP]
    assert state.phase == Phase.SILENCE
    assert state.next_at == START + 10 * 60
    await rig.advance(9 * 60)
    engine.on_user_message(GROUP)  # someone speaks: the silence starts again
    assert state.next_at == rig.clock.now + 10 * 60
    await rig.advance(5 * 60)
    engine.on_bot_message(GROUP)  # the bot's own reply also counts
    assert state.next_at == rig.clock.now + 10 * 60
    assert await rig.journal_kinds(GROUP) == []  # waiting for silence is not journaled
    await rig.advance(10 * 60)
    silent_since = rig.clock.now
    assert state.phase == Phase.PLANNED
    assert silent_since + 20 * 60 <= state.next_at <= silent_since + 40 * 60
    await rig.advance(40 * 60 + 1)
    assert rig.sender.sent == [(GROUP, "hello #1")]
    # after a proactive message the silence starts again
    assert state.phase == Phase.SILENCE
    assert state.next_at == rig.clock.now + 10 * 60
    assert state.unanswered == 1


async def test_quiet_hours_move_a_plan_to_the_end_of_the_window(tmp_path, clock):
    clock.now = datetime(2026, 11, 28, 0, 30, tzinfo=UTC).timestamp()
    rig = Rig(
        tmp_path,
        clock,
        engine_config(min_interval_minutes=60, max_interval_minutes=60, quiet_hours="01:00-07:30"),
    )
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND)
        state = engine.sessions[FRIEND]
        end = datetime(2026, 11, 28, 7, 30, tzinfo=UTC).timestamp()
        assert end <= state.next_at <= end + 15 * 60
        assert await rig.journal_kinds(FRIEND) == ["quiet_shifted", "planned"]
    finally:
        await rig.stop()


async def test_quiet_hours_wrapping_midnight_in_whole_hours(tmp_path, clock):
    clock.now = datetime(2026, 11, 28, 22, 0, tzinfo=UTC).timestamp()
    rig = Rig(
        tmp_path,
        clock,
        engine_config(min_interval_minutes=120, max_interval_minutes=120, quiet_hours="23-7"),
    )
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND)
        end = datetime(2026, 11, 29, 7, 0, tzinfo=UTC).timestamp()
        assert end <= engine.sessions[FRIEND].next_at <= end + 15 * 60
    finally:
        await rig.stop()


async def test_a_user_message_while_writing_cancels_the_send(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.composer.gate = asyncio.Event()
    rig.clock.advance(3601)
    engine.scheduler.run_due()
    await asyncio.wait_for(rig.composer.entered.wait(), 2)
    engine.on_user_message(FRIEND)  # the user speaks first
    rig.composer.gate.set()
    await rig.settle()
    assert rig.sender.sent == []
    kinds = await rig.journal_kinds(FRIEND)
    assert kinds[-1] == "cancelled" or kinds[-2:] == ["planned", "cancelled"]
    state = engine.sessions[FRIEND]
    assert state.phase == Phase.PLANNED and state.unanswered == 0
    assert state.next_at >= rig.clock.now + 30 * 60


async def test_a_failure_is_journaled_and_retried_with_back_off(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.composer.script = [ComposeError("llm_failed", "timed out"), ComposeError("llm_failed", "x")]
    await rig.advance(3601)
    state = engine.sessions[FRIEND]
    assert state.next_at == pytest.approx(rig.clock.now + 5 * 60)
    await rig.advance(5 * 60)
    assert state.next_at == pytest.approx(rig.clock.now + 15 * 60)
    kinds = await rig.journal_kinds(FRIEND)
    assert kinds.count("llm_failed") == 2 and kinds.count("retry") == 2
    await rig.advance(15 * 60)
    assert rig.sender.sent == [(FRIEND, "hello #3")]


async def test_a_platform_that_cannot_send_is_skipped_without_asking_the_model(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.sender.problem = "platform test cannot send proactive messages"
    await rig.advance(3601)
    assert rig.composer.calls == []
    assert "platform_skipped" in await rig.journal_kinds(FRIEND)
    assert engine.sessions[FRIEND].next_at > rig.clock.now


async def test_a_failed_send_does_not_count_as_unanswered(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.sender.ok = False
    await rig.advance(3601)
    assert engine.sessions[FRIEND].unanswered == 0
    assert "send_failed" in await rig.journal_kinds(FRIEND)


async def test_auto_trigger_plans_listed_sessions_with_no_activity(tmp_path, clock):
    clock.now = START
    raw = engine_config()
    raw["friend_settings"]["auto_trigger_settings"] = {
        "enable_auto_trigger": True,
        "auto_trigger_after_minutes": 7,
    }
    rig = Rig(tmp_path, clock, raw)
    engine = await rig.start()
    try:
        state = engine.sessions[FRIEND]
        assert state.next_at == START + 7 * 60
        assert await rig.journal_kinds(FRIEND) == ["auto_trigger"]
        assert GROUP not in engine.sessions  # groups did not ask for it
        await rig.advance(7 * 60)
        assert rig.sender.sent == [(FRIEND, "hello #1")]
    finally:
        await rig.stop()


async def test_a_restart_restores_plans(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    planned = engine.sessions[FRIEND].next_at
    engine = await rig.restart()
    assert engine.sessions[FRIEND].next_at == planned
    assert engine.scheduler.when(FRIEND) == planned
    await rig.advance(3601)
    assert len(rig.sender.sent) == 1


async def test_a_recently_missed_plan_fires_soon_and_an_old_one_is_replanned(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    engine.on_user_message(OTHER_FRIEND)  # not listed: no state
    planned = engine.sessions[FRIEND].next_at
    await rig.stop()
    rig.clock.now = planned + 10 * 60  # AstrBot was down when it was due
    engine = await rig.start()
    state = engine.sessions[FRIEND]
    assert rig.clock.now + 15 <= state.next_at <= rig.clock.now + 60
    assert "missed" in await rig.journal_kinds(FRIEND)
    await rig.advance(60)
    assert len(rig.sender.sent) == 1
    # now down for a day: re-planned from now instead
    planned = state.next_at
    await rig.stop()
    rig.clock.now = planned + 24 * 3600
    engine = await rig.start()
    state = engine.sessions[FRIEND]
    assert state.next_at >= rig.clock.now + 30 * 60


async def test_many_missed_plans_are_spread_out(tmp_path, clock):
    raw = engine_config()
    many = [f"test:FriendMessage:u{i}" for i in range(50)]
    raw["friend_settings"]["session_list"] = many
    rig = Rig(tmp_path, clock, raw)
    engine = await rig.start()
    for umo in many:
        engine.on_user_message(umo)
    await rig.stop()
    clock.advance(3700)
    engine = await rig.start()
    try:
        times = sorted(engine.sessions[u].next_at for u in many)
        assert times[0] >= clock.now + 15
        assert times[-1] - times[0] > 60  # not all at once
        assert times[-1] <= clock.now + 15 + 50 * 20 * 1.5
    finally:
        await rig.stop()


async def test_stopping_while_writing_keeps_the_plan_and_does_not_blame_the_user(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    planned = engine.sessions[FRIEND].next_at
    rig.composer.gate = asyncio.Event()
    rig.clock.advance(3601)
    engine.scheduler.run_due()
    await asyncio.wait_for(rig.composer.entered.wait(), 2)
    engine = await rig.restart()
    assert rig.sender.sent == []
    assert "cancelled" not in await rig.journal_kinds(FRIEND)
    # the plan survived and, being recently missed, fires soon
    assert engine.sessions[FRIEND].next_at is not None
    assert engine.sessions[FRIEND].next_at > planned
    rig.composer.gate = None
    await rig.advance(120)
    assert len(rig.sender.sent) == 1


async def test_on_and_off_for_one_session_without_touching_the_list(rig):
    engine = await rig.start()
    await engine.set_enabled(OTHER_FRIEND, True)
    assert engine.is_served(OTHER_FRIEND)
    engine.on_user_message(OTHER_FRIEND)
    assert engine.sessions[OTHER_FRIEND].phase == Phase.PLANNED
    await engine.set_enabled(FRIEND, False)
    engine.on_user_message(FRIEND)
    assert not engine.is_served(FRIEND)
    assert engine.sessions[FRIEND].next_at is None
    # overrides survive a restart
    engine = await rig.restart()
    assert engine.is_served(OTHER_FRIEND) and not engine.is_served(FRIEND)


async def test_removing_a_session_from_the_list_cancels_its_plan(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    raw = engine_config()
    raw["friend_settings"]["session_list"] = []
    await engine.apply_settings(parse_plugin_config(raw)[0])
    assert FRIEND not in engine.scheduler
    assert engine.sessions[FRIEND].next_at is None
    assert (await rig.journal_kinds(FRIEND))[-1] == "disabled"


async def test_manual_trigger_pause_resume(rig):
    engine = await rig.start()
    engine.request_trigger(FRIEND)
    await rig.settle()
    assert rig.sender.sent == [(FRIEND, "hello #1")]
    engine.pause(FRIEND)
    assert engine.sessions[FRIEND].next_at is None
    engine.on_user_message(FRIEND)
    assert engine.sessions[FRIEND].next_at is None  # paused: activity noted, no plan
    engine.resume(FRIEND)
    assert engine.sessions[FRIEND].phase == Phase.PLANNED


async def test_the_message_path_does_no_disk_io(rig):
    engine = await rig.start()
    before = rig.store.stats["transactions"]
    for i in range(1000):
        engine.on_user_message(FRIEND, f"name{i % 3}")
        engine.on_user_message(GROUP)
    assert rig.store.stats["transactions"] == before
    assert await rig.store.flush()
    assert rig.store.stats["transactions"] == before + 1


async def test_an_unexpected_error_from_the_model_is_a_failure_not_a_stuck_plan(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.composer.script = [RuntimeError("provider exploded")]
    await rig.advance(3601)
    state = engine.sessions[FRIEND]
    assert state.phase == Phase.PLANNED
    assert engine.scheduler.when(FRIEND) == state.next_at > rig.clock.now
    assert "llm_failed" in await rig.journal_kinds(FRIEND)


async def test_stop_does_not_wait_when_nothing_is_being_sent(rig):
    engine = await rig.start()
    engine.request_trigger(FRIEND)
    await rig.settle()
    loop = asyncio.get_running_loop()
    began = loop.time()
    await engine.stop()
    assert loop.time() - began < 0.5


async def test_a_paused_session_cannot_be_replanned_and_a_failed_manual_send_is_not_retried(rig):
    from proactive_chat.core.engine.errors import EngineError

    engine = await rig.start()
    engine.pause(FRIEND)
    with pytest.raises(EngineError):
        engine.reschedule(FRIEND)
    rig.sender.ok = False
    engine.request_trigger(FRIEND)
    await rig.settle()
    assert engine.sessions[FRIEND].next_at is None
    assert "send_failed" in await rig.journal_kinds(FRIEND)


async def test_half_an_emoji_in_a_name_or_a_reply_does_not_stop_the_store(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "bad \ud83d name")
    rig.composer.script = ["half an emoji \ud83d here"]
    await rig.advance(3601)
    assert await rig.store.flush()
    assert rig.store.stats["pending"] == 0
