"""What the model reads besides the conversation (core/engine/chat_context.py): its last
proactive messages (``{{recent_proactive}}``) and the chat's recent messages
(``{{group_context}}``, by ``context_settings.source_mode``): bounded, O(1), saved with
the session and restored, cleared when the session is switched off, never logged."""

from __future__ import annotations

import copy
import logging
import time

import pytest

from harness.engine_rig import FRIEND, GROUP, START, Rig, engine_config
from proactive_chat.core.engine.chat_context import (
    NAME_CHARS,
    SENT_KEPT,
    TALK_HEADING,
    TALK_LINES,
    TALK_TEXT_CHARS,
    add_talk,
)
from proactive_chat.core.engine.config import parse_plugin_config
from proactive_chat.core.engine.models import SessionState
from proactive_chat.core.store.session_store import SessionStore


def _config(group_mode: str | None = None, friend_mode: str | None = None) -> dict:
    raw = copy.deepcopy(engine_config())
    if group_mode is not None:
        raw["group_settings"]["context_settings"] = {"source_mode": group_mode}
    if friend_mode is not None:
        raw["friend_settings"]["context_settings"] = {"source_mode": friend_mode}
    return raw


async def _group_prompt(rig: Rig) -> str:
    """Let the group fall silent and the plan fire; the prompt the model got."""
    await rig.advance(10 * 60 + 1)  # the silence ends: planned
    await rig.advance(40 * 60 + 1)  # the plan fires
    assert rig.composer.calls, "nothing was written"
    return rig.composer.calls[-1][1]


# --- the config -----------------------------------------------------------------------


def test_source_mode_defaults_and_the_1_2_values():
    settings, problems = parse_plugin_config({})
    assert problems == []
    assert settings.friend.source_mode == "conversation_history"
    assert settings.group.source_mode == "hybrid"
    for mode, turns, keeps in (
        ("conversation_history", 10, False),
        ("platform_message_history", 0, True),
        ("hybrid", 10, True),
    ):
        settings, problems = parse_plugin_config(_config(group_mode=mode))
        assert problems == []
        assert settings.group.conversation_turns == turns
        assert settings.group.keeps_recent_talk is keeps


def test_a_bad_source_mode_is_reported_and_the_default_used():
    settings, problems = parse_plugin_config(_config(group_mode="everything"))
    assert settings.group.source_mode == "hybrid"
    assert any("source_mode" in p for p in problems), problems


# --- the ring -------------------------------------------------------------------------


def test_the_ring_is_bounded_and_cuts_long_texts():
    state = SessionState(umo=GROUP, kind="group")
    for n in range(TALK_LINES * 3):
        add_talk(state, float(n), "u", f"m{n}" + "x" * 1000)
    assert len(state.talk) == TALK_LINES
    assert state.talk[0][2].startswith(f"m{TALK_LINES * 2}")
    assert state.talk[-1][2].startswith(f"m{TALK_LINES * 3 - 1}")
    assert all(len(text) == TALK_TEXT_CHARS for _, _, text in state.talk)


def test_adding_a_line_does_not_grow_with_the_ring():
    state = SessionState(umo=GROUP, kind="group")
    for n in range(TALK_LINES):
        add_talk(state, float(n), "u", "hello")
    rounds = 20_000
    started = time.perf_counter()
    for n in range(rounds):
        add_talk(state, float(n), "u", "hello")
    per_line = (time.perf_counter() - started) / rounds
    assert per_line < 20e-6, per_line  # the message path's whole budget (issue 17)
    assert len(state.talk) == TALK_LINES


async def test_group_messages_not_addressed_to_the_bot_reach_the_prompt(rig):
    engine = await rig.start()
    engine.note_user_message(GROUP, "The group", "周末有人去爬山吗")
    engine.note_talk(GROUP, "小明", "周末有人去爬山吗")
    engine.note_talk(GROUP, "小红", "我去！" + "长" * 500)
    engine.note_bot_talk(GROUP, "带上我")
    prompt = await _group_prompt(rig)
    assert "小明：周末有人去爬山吗" in prompt
    assert "小红：我去！" in prompt and "长" * (TALK_TEXT_CHARS + 10) not in prompt
    assert "你：带上我" in prompt
    assert "{{" not in prompt


async def test_the_names_are_cut_short(rig):
    engine = await rig.start()
    engine.note_user_message(GROUP, "G", "hi")
    engine.note_talk(GROUP, "N" * 500, "hi")
    assert engine.sessions[GROUP].talk[-1][1] == "N" * NAME_CHARS


async def test_conversation_history_mode_keeps_nothing(tmp_path, clock):
    clock.now = START
    rig = Rig(tmp_path, clock, _config(group_mode="conversation_history"))
    try:
        engine = await rig.start()
        engine.note_user_message(GROUP, "G", "hello all")
        engine.note_talk(GROUP, "小明", "hello all")
        assert engine.sessions[GROUP].talk == ()
        prompt = await _group_prompt(rig)
        assert "hello all" not in prompt
    finally:
        await rig.stop()


async def test_unserved_chats_keep_nothing(rig):
    engine = await rig.start()
    stranger = "test:GroupMessage:not-listed"
    engine.note_user_message(stranger, "G", "secret")
    engine.note_talk(stranger, "x", "secret")
    assert engine.sessions[stranger].talk == ()


async def test_a_prompt_without_the_placeholder_gets_the_lines_at_its_end(tmp_path, clock):
    # The rig's friend prompt has no {{group_context}}: source_mode still holds.
    clock.now = START
    rig = Rig(tmp_path, clock, _config(friend_mode="platform_message_history"))
    try:
        engine = await rig.start()
        engine.on_user_message(FRIEND, "Alice", "我在看电影")
        engine.note_talk(FRIEND, "Alice", "我在看电影")
        await rig.advance(60 * 60 + 1)
        prompt = rig.composer.calls[-1][1]
        assert prompt.startswith("count=0 name=Alice")
        assert prompt.endswith(f"{TALK_HEADING}\n[11-28 12:00] Alice：我在看电影")
    finally:
        await rig.stop()


async def test_the_friend_default_adds_nothing(rig):
    engine = await rig.start()
    engine.on_user_message(FRIEND, "Alice", "hi")
    engine.note_talk(FRIEND, "Alice", "hi")
    await rig.advance(60 * 60 + 1)
    assert rig.composer.calls[-1][1] == "count=0 name=Alice"


# --- recent proactive messages --------------------------------------------------------


async def test_the_last_proactive_messages_are_in_the_prompt_with_their_age(rig, clock):
    engine = await rig.start()
    engine.on_user_message(GROUP, "G")
    for _ in range(SENT_KEPT + 1):
        await _group_prompt(rig)
        engine.on_user_message(GROUP, "G")  # an answer: the cap never holds it back
    state = engine.sessions[GROUP]
    assert [text for _, text in state.recent_sent] == ["hello #2", "hello #3", "hello #4"]
    prompt = await _group_prompt(rig)
    assert "（50 分钟前）hello #4" in prompt
    assert "hello #1" not in prompt.split("[你最近主动发过的消息]")[1].split("[群里")[0]
    assert "你：hello #4" in prompt  # the bot's own line among the group's


async def test_the_first_message_has_an_empty_recent_list(rig):
    engine = await rig.start()
    engine.on_user_message(GROUP, "G")
    prompt = await _group_prompt(rig)
    assert "{{recent_proactive}}" not in prompt
    assert "[你最近主动发过的消息]（空着表示没有；不要重复这些话题和说法）\n\n" in prompt


# --- saved, restored, forgotten -------------------------------------------------------


async def test_lines_are_saved_with_the_session_and_restored(rig):
    engine = await rig.start()
    engine.note_user_message(GROUP, "G", "hello")
    engine.note_talk(GROUP, "小明", "hello")
    await _group_prompt(rig)
    before = engine.sessions[GROUP]
    talk, sent = tuple(before.talk), before.recent_sent
    assert talk and sent
    engine = await rig.restart()
    after = engine.sessions[GROUP]
    assert tuple(after.talk) == talk and after.recent_sent == sent
    engine.note_talk(GROUP, "小红", "and one more")  # appending after a restore
    assert tuple(engine.sessions[GROUP].talk) == (*talk, (rig.clock(), "小红", "and one more"))


async def test_damaged_lines_are_dropped_with_a_log_line_and_the_session_kept(rig, caplog):
    engine = await rig.start()
    engine.note_user_message(GROUP, "G", "hello")
    engine.note_talk(GROUP, "小明", "a private sentence")
    await rig.stop()
    store = SessionStore(rig.tmp_path / "store.db", clock=rig.clock)
    await store.open()
    await store._checked(
        store._db.execute, "UPDATE sessions SET talk = ? WHERE umo = ?", ("[[1, 2", GROUP)
    )
    await store.close()
    with caplog.at_level(logging.WARNING):
        engine = await rig.start()
    state = engine.sessions[GROUP]
    assert state.talk == () and state.name == "G"
    assert "unreadable recent messages of 1 sessions" in caplog.text
    assert "a private sentence" not in caplog.text


async def test_switching_a_chat_off_clears_what_it_said(rig):
    engine = await rig.start()
    engine.note_user_message(GROUP, "G", "hello")
    engine.note_talk(GROUP, "小明", "hello")
    await engine.set_enabled(GROUP, False)
    assert engine.sessions[GROUP].talk == ()
    engine.note_talk(GROUP, "小明", "still there?")
    assert engine.sessions[GROUP].talk == ()
    engine = await rig.restart()
    assert engine.sessions[GROUP].talk == ()


async def test_a_config_that_drops_the_chat_clears_it(rig):
    engine = await rig.start()
    engine.note_user_message(GROUP, "G", "hello")
    engine.note_talk(GROUP, "小明", "hello")
    raw = copy.deepcopy(rig.raw_config)
    raw["group_settings"]["session_list"] = []
    settings, _ = parse_plugin_config(raw)
    await engine.apply_settings(settings)
    assert engine.sessions[GROUP].talk == ()


async def test_the_lines_never_reach_the_log(rig, caplog):
    with caplog.at_level(logging.DEBUG):
        engine = await rig.start()
        engine.note_user_message(GROUP, "G", "my password is hunter2")
        engine.note_talk(GROUP, "小明", "my password is hunter2")
        await _group_prompt(rig)
        await rig.restart()
    assert "hunter2" not in caplog.text


@pytest.mark.parametrize("mode", ["platform_message_history", "hybrid"])
async def test_a_legacy_override_with_source_mode_is_honoured(rig, mode):
    engine = await rig.start()
    await engine.set_override(GROUP, {"context_settings": {"source_mode": mode}})
    assert engine.settings_for(GROUP).source_mode == mode


async def test_a_store_file_from_before_gets_the_new_columns(tmp_path, clock):
    import sqlite3

    path = tmp_path / "store.db"
    store = SessionStore(path, clock=clock)
    await store.open()
    store.put_session(SessionState(umo=GROUP, kind="group", name="old group", sent_total=4))
    await store.close()
    with sqlite3.connect(path) as conn:  # as the previous version left it
        conn.execute("ALTER TABLE sessions DROP COLUMN talk")
        conn.execute("ALTER TABLE sessions DROP COLUMN recent_sent")
    store = SessionStore(path, clock=clock)
    await store.open()
    try:
        [state] = await store.load_sessions()
        assert (state.name, state.sent_total, state.talk) == ("old group", 4, ())
        state.talk = ((1.0, "小明", "hi"),)
        store.put_session(state)
        assert await store.flush()
        [again] = await store.load_sessions()
        assert again.talk == ((1.0, "小明", "hi"),)
    finally:
        await store.close()
