"""Preview and draft (core/engine/preview.py): the preview is the composer's request
with the prompt a delivery would render; a draft writes with the session's model and
changes nothing but the journal; one at a time per session; stopping cancels it."""

from __future__ import annotations

import asyncio

import pytest

from harness.engine_rig import FRIEND, OTHER_FRIEND
from proactive_chat.core.engine.errors import EngineStopped, SessionBusy, SessionNotFound
from proactive_chat.core.engine.ports import ComposeError


async def test_the_preview_shows_the_messages_in_order(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    view = await engine.preview(FRIEND)
    assert view["prompt"] == "count=0 name=Alice"  # the delivery's own rendering
    assert view["messages"] == [
        {"role": "system", "content": "PERSONA"},
        {"role": "user", "content": "earlier"},
        {"role": "user", "content": "count=0 name=Alice"},
    ]
    assert view["providers"] == ["test-model"] and view["problem"] is None
    assert await rig.journal_kinds(FRIEND) == ["planned"]  # nothing journaled
    with pytest.raises(SessionNotFound):
        await engine.preview(OTHER_FRIEND)


async def test_a_preview_without_a_model_still_shows_the_prompt(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")

    async def no_model(umo, settings, prompt):
        raise ComposeError("no_provider", "no chat model", advice="choose one")

    rig.composer.prepare = no_model
    view = await engine.preview(FRIEND)
    assert view["messages"] == [{"role": "user", "content": "count=0 name=Alice"}]
    assert view["problem"] == {
        "kind": "no_provider",
        "reason": "no chat model",
        "advice": "choose one",
    }


async def test_a_draft_is_journaled_and_never_sent(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    state = engine.sessions[FRIEND]
    plan = (state.phase, state.next_at, state.unanswered)
    rig.composer.script = ["How was the trip?"]
    draft = await engine.draft(FRIEND)
    assert draft["ok"] and draft["text"] == "How was the trip?"
    assert draft["provider"] == "test-model"
    assert rig.sender.sent == [] and rig.composer.remembered == []
    assert (state.phase, state.next_at, state.unanswered) == plan
    entries = await rig.store.query_journal(umo=FRIEND, limit=5)
    assert entries[0].kind == "draft" and entries[0].detail["text"] == "How was the trip?"
    assert entries[0].reason == "draft written, not sent"


async def test_a_failed_draft_says_why(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    rig.composer.script = [ComposeError("llm_failed", "timed out", advice="raise it")]
    draft = await engine.draft(FRIEND)
    assert not draft["ok"] and draft["reason"] == "timed out" and draft["advice"] == "raise it"
    entries = await rig.store.query_journal(umo=FRIEND, limit=1)
    assert entries[0].kind == "draft" and entries[0].reason == "no draft: timed out"


async def test_one_draft_at_a_time_and_stop_cancels_it(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice")
    rig.composer.gate = asyncio.Event()
    first = asyncio.create_task(engine.draft(FRIEND))
    await rig.composer.entered.wait()
    with pytest.raises(SessionBusy):
        await engine.draft(FRIEND)
    await engine.stop()
    with pytest.raises(EngineStopped):
        await first
    assert rig.sender.sent == []
    entries = await rig.store.query_journal(umo=FRIEND, limit=1)
    assert entries[0].kind == "draft" and "stopped" in entries[0].reason
    with pytest.raises(EngineStopped):
        await engine.draft(FRIEND)
