"""The handler's path, ``note_user_message``: the plan waits for the next batch, is the
plan the message would have made at once, and a plan that comes due meanwhile does
not fire (core/engine/messages.py)."""

from __future__ import annotations

import asyncio
import random

from harness.engine_rig import FRIEND, GROUP, OTHER_FRIEND, START, Rig, engine_config
from proactive_chat.core.engine.messages import BATCH_SECONDS
from proactive_chat.core.engine.models import Phase

TWO = (FRIEND, OTHER_FRIEND)


async def _two_rigs(tmp_path, clock) -> tuple[Rig, Rig]:
    clock.now = START
    rigs = []
    for name in ("inline", "batched"):
        (tmp_path / name).mkdir()
        rig = Rig(tmp_path / name, clock, engine_config(friends=TWO))
        await rig.start()
        rigs.append(rig)
    return rigs[0], rigs[1]


async def test_the_batch_plans_what_the_message_would_have_planned_at_once(tmp_path, clock):
    inline, batched = await _two_rigs(tmp_path, clock)
    try:
        for rig in (inline, batched):
            rig.engine.rng = random.Random(11)
        inline.engine.on_user_message(FRIEND, "Alice")
        inline.engine.on_user_message(OTHER_FRIEND, "Bob")
        batched.engine.note_user_message(FRIEND, "Alice")  # a new session: at once
        batched.engine.on_user_message(OTHER_FRIEND, "Bob")
        clock.advance(5)
        for rig in (inline, batched):
            rig.engine.rng = random.Random(12)
        state = batched.engine.sessions[FRIEND]
        before = state.next_at
        inline.engine.on_user_message(FRIEND)
        batched.engine.note_user_message(FRIEND)
        assert state.last_user_at == START + 5  # noted at once
        assert state.next_at == before  # planned in the batch
        assert batched.engine.apply_pending_messages() == 1
        assert state.next_at == inline.engine.sessions[FRIEND].next_at
        assert state.next_at != before
        assert batched.engine.scheduler.when(FRIEND) == state.next_at
        assert await batched.journal_kinds(FRIEND) == await inline.journal_kinds(FRIEND)
    finally:
        await inline.stop()
        await batched.stop()


async def test_the_batch_runs_by_itself_soon_after_the_message(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    first = engine.sessions[FRIEND].next_at
    clock.advance(60)
    engine.note_user_message(FRIEND)
    assert engine.sessions[FRIEND].next_at == first
    await asyncio.sleep(BATCH_SECONDS * 3)
    state = engine.sessions[FRIEND]
    assert START + 60 + 30 * 60 <= state.next_at <= START + 60 + 60 * 60
    assert not engine._pending_messages
    assert await rig.journal_kinds(FRIEND) == ["planned", "planned"]


async def test_a_plan_due_before_the_batch_saw_a_later_message_does_not_fire(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    due = engine.sessions[FRIEND].next_at
    clock.advance(due - clock() - 1)
    engine.note_user_message(FRIEND)  # one second before the plan
    await rig.advance(2)  # the old plan comes due before the batch ran
    assert rig.sender.sent == []
    state = engine.sessions[FRIEND]
    assert state.phase == Phase.PLANNED
    assert state.next_at >= due - 1 + 30 * 60
    assert not engine._pending_messages


async def test_what_cannot_wait_goes_the_full_way_at_once(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    await rig.advance(60 * 60 + 1)  # sent: one unanswered
    assert engine.sessions[FRIEND].unanswered == 1
    engine.note_user_message(FRIEND)
    assert engine.sessions[FRIEND].unanswered == 0
    assert not engine._pending_messages
    assert (await rig.journal_kinds(FRIEND))[-2:] == ["answered", "planned"]


async def test_stop_applies_the_messages_still_waiting(tmp_path, clock):
    clock.now = START
    rig = Rig(tmp_path, clock)
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    first = engine.sessions[FRIEND].next_at
    clock.advance(120)
    engine.note_user_message(FRIEND)
    await rig.stop()
    engine = await rig.start()  # the store kept the plan made at stop
    try:
        assert engine.sessions[FRIEND].last_user_at == START + 120
        assert engine.sessions[FRIEND].next_at != first
        assert engine.sessions[FRIEND].next_at >= START + 120 + 30 * 60
    finally:
        await rig.stop()


async def test_a_group_message_restarts_the_silence_in_the_batch(rig, clock):
    engine = await rig.start()
    engine.on_user_message(GROUP, "G")
    clock.advance(300)
    engine.note_user_message(GROUP)
    assert engine.sessions[GROUP].next_at == START + 10 * 60
    engine.apply_pending_messages()
    assert engine.sessions[GROUP].phase == Phase.SILENCE
    assert engine.sessions[GROUP].next_at == START + 300 + 10 * 60


async def test_one_session_failing_in_the_batch_does_not_stop_the_others(tmp_path, clock):
    clock.now = START
    rig = Rig(tmp_path, clock, engine_config(friends=TWO))
    engine = await rig.start()
    try:
        for umo in TWO:
            engine.on_user_message(umo)
        clock.advance(60)
        plan = engine._plan

        def failing_for_alice(state, *args, **kwargs):
            if state.umo == FRIEND:
                raise RuntimeError("boom")
            return plan(state, *args, **kwargs)

        engine._plan = failing_for_alice
        for umo in TWO:
            engine.note_user_message(umo)
        assert engine.apply_pending_messages() == 2
        assert engine.sessions[OTHER_FRIEND].next_at >= START + 60 + 30 * 60
    finally:
        await rig.stop()


async def test_a_big_batch_is_split_over_loop_turns(tmp_path, clock):
    clock.now = START
    rig = Rig(tmp_path, clock, engine_config(friends=TWO))
    engine = await rig.start()
    try:
        for umo in TWO:
            engine.on_user_message(umo)
        clock.advance(60)
        for umo in TWO:
            engine.note_user_message(umo)
        assert engine.apply_pending_messages(limit=1) == 1
        assert list(engine._pending_messages) == [OTHER_FRIEND]  # the rest: next loop turn
        await asyncio.sleep(0.01)
        assert not engine._pending_messages
        assert engine.sessions[OTHER_FRIEND].next_at >= START + 60 + 30 * 60
    finally:
        await rig.stop()


async def test_an_admin_plan_after_a_noted_message_is_the_one_that_fires(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    clock.advance(10)
    engine.note_user_message(FRIEND)
    engine.plan_at(FRIEND, clock() + 5)  # the message is applied first, then the plan
    assert not engine._pending_messages
    assert engine.sessions[FRIEND].next_at == clock() + 5
    await rig.advance(6)
    assert rig.sender.sent == [(FRIEND, "hello #1")]
