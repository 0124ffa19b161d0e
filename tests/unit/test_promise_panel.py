"""The bot's promise on the panel: the session view shows it (sentence, time), an admin
cancels it (engine action and ``POST /api/sessions/{umo}/promise/cancel``, behind login,
journaled, the plan drawn again), and it survives a restart through the store."""

from __future__ import annotations

import pytest

from harness.engine_rig import FRIEND, GROUP, START
from proactive_chat.core.engine.errors import NothingToCancel
from proactive_chat.core.engine.models import Phase

PROMISE_TEXT = "好的，我十分钟后提醒你喝水。"


async def _promised(rig, umo: str = FRIEND):
    engine = await rig.start()
    engine.on_user_message(umo, "Alice")
    engine.on_bot_message(umo, PROMISE_TEXT)
    return engine


async def test_the_session_view_shows_the_pending_promise(rig):
    engine = await _promised(rig)
    view = engine.session_view(engine.sessions[FRIEND])
    promise = view["promise"]
    assert "十分钟后提醒你" in promise["sentence"]
    assert promise["at"] == engine.sessions[FRIEND].next_at
    assert promise["promised_at"] == pytest.approx(START + 600, abs=60)
    assert promise["rule"].startswith("zh.promise")


async def test_cancelling_the_promise_redraws_the_plan_and_says_why(rig):
    engine = await _promised(rig)
    promised_at = engine.sessions[FRIEND].next_at
    state = engine.cancel_promise(FRIEND)
    assert engine.promise_of(FRIEND) is None
    assert engine.session_view(state)["promise"] is None
    assert state.phase == Phase.PLANNED and state.next_reason == "promise_cancelled"
    assert state.next_at != promised_at
    entries = await rig.store.query_journal(umo=FRIEND, limit=3)
    planned, manual = entries[0], entries[1]
    assert planned.kind == "planned" and planned.reason == "promise_cancelled"
    assert manual.kind == "manual" and manual.reason == "promise cancelled"
    assert "十分钟后提醒你" in manual.detail["sentence"]
    with pytest.raises(NothingToCancel):
        engine.cancel_promise(FRIEND)


async def test_a_group_waits_for_silence_again_after_the_promise_is_cancelled(rig):
    engine = await _promised(rig, GROUP)
    state = engine.cancel_promise(GROUP)
    assert state.phase == Phase.SILENCE
    assert "silence_started" in await rig.journal_kinds(GROUP)


async def test_the_promise_survives_a_restart(rig, clock):
    engine = await _promised(rig)
    at = engine.sessions[FRIEND].next_at
    clock.advance(60)
    engine = await rig.restart()  # ready: restored
    promise = engine.promise_of(FRIEND)
    assert promise is not None and "十分钟后提醒你" in promise.sentence
    assert engine.sessions[FRIEND].next_at == at
    assert engine.session_view(engine.sessions[FRIEND])["promise"]["at"] == at


async def test_a_re_planned_session_restores_no_promise(rig, clock):
    engine = await _promised(rig)
    engine.cancel_promise(FRIEND)
    engine = await rig.restart()
    assert engine.promise_of(FRIEND) is None
