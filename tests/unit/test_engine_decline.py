"""The model may choose silence: it answers the marker ``[SKIP]`` (the default prompts
tell it how), nothing is sent, the unanswered count stays, the journal says "declined",
and the next time is planned as after a message (core/engine/delivery.py)."""

from __future__ import annotations

from harness.engine_rig import FRIEND, GROUP, START
from proactive_chat.core.engine.delivery import DECLINE_MARKER
from proactive_chat.core.engine.models import Phase
from proactive_chat.core.engine.prompt_template import DEFAULT_FRIEND_PROMPT, DEFAULT_GROUP_PROMPT


async def test_a_declined_turn_sends_nothing_and_plans_again(rig, clock):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    rig.composer.script = ["[SKIP]"]
    await rig.advance(60 * 60 + 1)
    state = engine.sessions[FRIEND]
    assert rig.sender.sent == []
    assert rig.composer.remembered == []  # nothing goes into the conversation's history
    assert state.unanswered == 0
    assert state.phase == Phase.PLANNED and state.next_at > clock()
    assert state.next_reason == "after_declined"
    kinds = await rig.journal_kinds(FRIEND)
    assert kinds[-2:] == ["declined", "planned"], kinds
    entries = await rig.store.query_journal(umo=FRIEND, limit=5)
    declined = next(e for e in entries if e.kind == "declined")
    assert declined.reason == "the model chose not to write now"
    assert declined.detail["provider"] == "test-model"


async def test_text_around_the_marker_is_never_sent(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    rig.composer.script = ["嗯……他刚说去开会了。[SKIP]"]
    await rig.advance(60 * 60 + 1)
    assert rig.sender.sent == []
    assert engine.sessions[FRIEND].unanswered == 0


async def test_the_next_turn_after_a_decline_may_speak(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    rig.composer.script = [DECLINE_MARKER, "hi again"]
    await rig.advance(60 * 60 + 1)
    await rig.advance(60 * 60 + 1)
    assert rig.sender.sent == [(FRIEND, "hi again")]
    assert engine.sessions[FRIEND].unanswered == 1


async def test_a_group_that_declined_waits_for_silence_again(rig, clock):
    engine = await rig.start()
    engine.on_user_message(GROUP, "G")
    rig.composer.script = ["[SKIP]"]
    await rig.advance(10 * 60 + 1)  # the silence ends: planned
    await rig.advance(40 * 60 + 1)  # the plan fires: declined
    state = engine.sessions[GROUP]
    assert rig.sender.sent == []
    assert state.unanswered == 0
    assert "declined" in await rig.journal_kinds(GROUP)
    assert state.next_at is not None and state.next_at > START + 50 * 60


async def test_a_manual_send_the_model_declines_is_journaled(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    rig.composer.script = ["[SKIP]"]
    engine.request_trigger(FRIEND)
    await rig.settle()
    assert rig.sender.sent == []
    assert "declined" in await rig.journal_kinds(FRIEND)


def test_the_default_prompts_say_how_to_decline():
    assert DECLINE_MARKER in DEFAULT_FRIEND_PROMPT
    assert DECLINE_MARKER in DEFAULT_GROUP_PROMPT
