"""The bot's own promises (core/engine/promises.py): a reply that commits to a time plans
a follow-up for it, the model is told what it promised ({{occasion}}), the user's next
message does not move it, it is kept once, and cancelling the plan drops it."""

from __future__ import annotations

from harness.engine_rig import FRIEND, GROUP, START, Rig, engine_config
from proactive_chat.core.engine.models import Phase


def _occasion_config() -> dict:
    raw = engine_config()
    raw["friend_settings"]["proactive_prompt"] = "occasion=[{{occasion}}]"
    return raw


async def test_a_reply_that_promises_a_time_plans_a_follow_up(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    engine.on_bot_message(FRIEND, "好的，我十分钟后提醒你喝水。")
    state = engine.sessions[FRIEND]
    assert state.phase == Phase.PLANNED and state.next_reason == "promise"
    assert START + 10 * 60 <= state.next_at <= START + 11 * 60
    entries = await rig.store.query_journal(umo=FRIEND, limit=5)
    planned = next(e for e in entries if e.kind == "planned")
    assert planned.reason == "promise"
    assert "十分钟后提醒你" in planned.detail["sentence"]
    assert planned.detail["rule"].startswith("zh.promise")
    assert engine.promise_of(FRIEND) is not None


async def test_the_model_is_told_what_it_promised_and_it_is_kept_once(tmp_path, clock):
    clock.now = START
    rig = Rig(tmp_path, clock, _occasion_config())
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND, "Alice")
        engine.on_bot_message(FRIEND, "OK! I'll check on you in an hour.")
        await rig.advance(61 * 60)
        assert rig.sender.sent and "check on you in an hour" in rig.composer.calls[0][1]
        assert engine.promise_of(FRIEND) is None  # kept once
        state = engine.sessions[FRIEND]
        assert state.next_reason == "after_proactive"
        await rig.advance(60 * 60 + 1)
        assert rig.composer.calls[1][1] == "occasion=[]"  # the next one has none
    finally:
        await rig.stop()


async def test_the_users_next_message_does_not_move_the_promise(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    engine.on_bot_message(FRIEND, "我二十分钟后再来问你。")
    promised = engine.sessions[FRIEND].next_at
    clock.advance(30)
    engine.on_user_message(FRIEND, None, "好呀谢谢")
    state = engine.sessions[FRIEND]
    assert state.next_at == promised and state.next_reason == "promise"
    clock.advance(30)
    engine.on_user_message(FRIEND, None, "对了，5分钟后叫我一下")  # an earlier time wins
    assert state.next_reason == "cue"
    assert state.next_at < promised


async def test_cancelling_the_plan_drops_the_promise(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    engine.on_bot_message(FRIEND, "I'll remind you in 30 minutes.")
    engine.cancel_plan(FRIEND)
    assert engine.promise_of(FRIEND) is None
    assert engine.sessions[FRIEND].phase == Phase.IDLE


async def test_a_group_promise_is_not_replaced_by_the_silence(rig, clock):
    engine = await rig.start()
    engine.on_user_message(GROUP, "G")
    engine.on_bot_message(GROUP, "大家等我，我半小时后回来汇报结果。")
    state = engine.sessions[GROUP]
    assert state.phase == Phase.PLANNED and state.next_reason == "promise"
    promised = state.next_at
    engine.on_bot_message(GROUP)  # the same reply, seen again after it was sent
    assert state.next_at == promised


async def test_replies_without_a_promise_and_the_switch_off_change_nothing(tmp_path, clock):
    clock.now = START
    raw = engine_config()
    raw["friend_settings"]["schedule_settings"]["time_cues"] = False
    rig = Rig(tmp_path, clock, raw)
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND, "Alice")
        before = engine.sessions[FRIEND].next_at
        engine.on_bot_message(FRIEND, "我十分钟后提醒你。")
        engine.on_bot_message(FRIEND, "哈哈，我昨天等了十分钟。")
        assert engine.sessions[FRIEND].next_at == before
        assert engine.promise_of(FRIEND) is None
    finally:
        await rig.stop()
