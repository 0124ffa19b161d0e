"""Daily moments (core/engine/moments.py) with a fake clock: a moment fires at its time on
its weekdays only, with its own prompt; it takes the place of a later random plan but not
of a time the user named or a promise; quiet hours skip it (journaled why), the cap holds
it back, a reply in between keeps it, and a session fires it at most once a day, also
across a restart. START is Saturday 2026-11-28 12:00 UTC; the rig's zone is UTC."""

from __future__ import annotations

import sqlite3

from harness.engine_rig import FRIEND, GROUP, START, Rig, engine_config
from proactive_chat.core.engine.config import parse_plugin_config
from proactive_chat.core.engine.models import Phase
from proactive_chat.core.store.session_store import SessionStore

HOUR = 3600.0
DAY = 24 * HOUR
FAR = 3000  # minutes: the random draw lands two days on, after any moment below


def moments_config(*moments: str, kind: str = "friend_settings", **schedule: object) -> dict:
    raw = engine_config(min_interval_minutes=FAR, max_interval_minutes=FAR, **schedule)
    raw[kind]["moment_settings"] = {"enable": True, "moments": list(moments)}
    return raw


async def started(tmp_path, clock, raw: dict) -> Rig:
    clock.now = START
    rig = Rig(tmp_path, clock, raw)
    await rig.start()
    return rig


async def test_a_moment_fires_at_its_time_with_its_own_prompt(tmp_path, clock):
    rig = await started(tmp_path, clock, moments_config("13:00 | 6 | morning {{session_name}}"))
    engine = rig.engine
    try:
        engine.on_user_message(FRIEND, "Alice")
        state = engine.sessions[FRIEND]
        assert (state.next_reason, state.next_at) == ("moment", START + HOUR)
        planned = (await rig.store.query_journal(umo=FRIEND, kinds=["planned"], limit=1))[0]
        assert planned.detail["moment"] == "13:00 | 6"
        await rig.advance(HOUR)
        assert rig.composer.calls[-1][1] == "morning Alice"
        assert len(rig.sender.sent) == 1
        # Saturday only: the next plan is the random draw, not next Saturday's moment.
        assert state.next_reason == "after_proactive"
    finally:
        await rig.stop()


async def test_a_moment_may_name_a_built_in_prompt(tmp_path, clock):
    """The shipped defaults name their prompts ("good_morning"): the config stays short and
    in no language, and the model gets the kind's built-in text."""
    raw = moments_config("13:00 | * | good_morning", "14:00 | * | good_night")
    raw["group_settings"]["moment_settings"] = {
        "enable": True,
        "moments": ["13:00 | * | good_morning"],
    }
    rig = await started(tmp_path, clock, raw)
    try:
        rig.engine.on_user_message(FRIEND, "Alice")
        await rig.advance(HOUR)
        prompt = rig.composer.calls[-1][1]
        assert "早安" in prompt and "Alice" in prompt and "good_morning" not in prompt
        assert "群" not in prompt  # a private chat gets the private text
    finally:
        await rig.stop()


def test_the_shipped_moments_name_built_in_prompts():
    settings, problems = parse_plugin_config({})
    assert problems == []
    for kind in (settings.friend, settings.group):
        assert kind.moments.enable is False
    for group in (settings.friend_dict, settings.group_dict):
        lines = group["moment_settings"]["moments"]
        assert lines, "defaults are offered, switched off"
        assert {line.rsplit("|", 1)[1].strip() for line in lines} <= {"good_morning", "good_night"}


async def test_only_on_its_weekdays(tmp_path, clock):
    rig = await started(tmp_path, clock, moments_config("13:00 | 1-5 | weekday"))
    try:
        rig.engine.on_user_message(FRIEND, "Alice")  # a Saturday
        state = rig.engine.sessions[FRIEND]
        assert state.next_reason == "moment"
        assert state.next_at == START + 2 * DAY + HOUR  # Monday 13:00
    finally:
        await rig.stop()


async def test_a_reply_in_between_keeps_the_moment(tmp_path, clock):
    rig = await started(tmp_path, clock, moments_config("13:00 | * | hi"))
    try:
        rig.engine.on_user_message(FRIEND, "Alice")
        clock.advance(30 * 60)
        rig.engine.on_user_message(FRIEND, None, "还在吗")
        state = rig.engine.sessions[FRIEND]
        assert (state.next_reason, state.next_at) == ("moment", START + HOUR)
        plans = await rig.store.query_journal(umo=FRIEND, kinds=["planned"], limit=10)
        assert len(plans) == 1  # the same moment is not journaled again
    finally:
        await rig.stop()


async def test_inside_quiet_hours_it_is_skipped_and_says_why(tmp_path, clock):
    raw = moments_config("13:00 | * | hi", quiet_hours="12:30-14:00")
    rig = await started(tmp_path, clock, raw)
    try:
        rig.engine.on_user_message(FRIEND, "Alice")
        await rig.advance(HOUR)
        assert rig.sender.sent == []
        skipped = await rig.store.query_journal(umo=FRIEND, kinds=["moment_skipped"], limit=5)
        assert len(skipped) == 1
        assert skipped[0].reason == "the moment falls inside quiet hours (12:30-14:00)"
        assert skipped[0].detail["moment"] == "13:00 | *"
        state = rig.engine.sessions[FRIEND]
        assert state.next_at is not None and state.next_at > START + 2 * HOUR
    finally:
        await rig.stop()


async def test_the_unanswered_cap_holds_moments_back(tmp_path, clock):
    raw = moments_config("13:00 | * | one", "14:00 | * | two", max_unanswered_times=1)
    rig = await started(tmp_path, clock, raw)
    try:
        rig.engine.on_user_message(FRIEND, "Alice")
        await rig.advance(HOUR)
        await rig.advance(2 * HOUR)
        assert [prompt for _, prompt in rig.composer.calls] == ["one"]
        assert rig.engine.sessions[FRIEND].phase == Phase.CAPPED
    finally:
        await rig.stop()


async def test_once_a_day_also_across_a_restart(tmp_path, clock):
    rig = await started(tmp_path, clock, moments_config("13:00 | * | hi"))
    try:
        rig.engine.on_user_message(FRIEND, "Alice")
        await rig.advance(HOUR)
        assert len(rig.sender.sent) == 1
        engine = await rig.restart()
        assert engine.sessions[FRIEND].moments_fired.endswith("|13:00")
        clock.now = START + 30 * 60  # the clock set back: 13:00 today comes again
        engine.on_user_message(FRIEND, None, "hello")
        state = engine.sessions[FRIEND]
        assert (state.next_reason, state.next_at) == ("moment", START + DAY + HOUR)
    finally:
        await rig.stop()


async def test_a_planned_moment_keeps_its_prompt_across_a_restart(tmp_path, clock):
    rig = await started(tmp_path, clock, moments_config("13:00 | * | own prompt"))
    try:
        rig.engine.on_user_message(FRIEND, "Alice")
        await rig.restart()
        await rig.advance(HOUR)
        assert rig.composer.calls[-1][1] == "own prompt"
    finally:
        await rig.stop()


async def test_an_earlier_cue_or_promise_keeps_its_plan(tmp_path, clock):
    rig = await started(tmp_path, clock, moments_config("13:00 | * | hi"))
    engine = rig.engine
    try:
        engine.on_user_message(FRIEND, "Alice", "20分钟后再聊")
        state = engine.sessions[FRIEND]
        assert state.next_reason == "cue" and state.next_at < START + HOUR
        engine.on_bot_message(FRIEND, "好的，我十分钟后提醒你。")
        assert state.next_reason == "promise" and state.next_at < START + HOUR
        await rig.advance(11 * 60)
        assert len(rig.sender.sent) == 1
        # Kept: now the moment comes before the random draw again.
        assert (state.next_reason, state.next_at) == ("moment", START + HOUR)
    finally:
        await rig.stop()


async def test_a_group_moment_comes_before_the_end_of_the_silence(tmp_path, clock):
    raw = moments_config("12:05 | * | morning all", kind="group_settings")
    rig = await started(tmp_path, clock, raw)
    try:
        rig.engine.on_user_message(GROUP, "G")  # silence would end at 12:10
        state = rig.engine.sessions[GROUP]
        assert (state.phase, state.next_reason) == (Phase.PLANNED, "moment")
        await rig.advance(5 * 60)
        assert [prompt for _, prompt in rig.composer.calls] == ["morning all"]
    finally:
        await rig.stop()


async def test_switching_moments_on_moves_a_later_random_plan(tmp_path, clock):
    rig = await started(tmp_path, clock, moments_config())
    try:
        rig.engine.on_user_message(FRIEND, "Alice")
        assert rig.engine.sessions[FRIEND].next_reason == "user_message"
        settings, _ = parse_plugin_config(moments_config("13:00 | * | hi"))
        await rig.engine.apply_settings(settings)
        assert rig.engine.sessions[FRIEND].next_reason == "moment"
        settings, _ = parse_plugin_config(engine_config(min_interval_minutes=FAR))
        await rig.engine.apply_settings(settings)  # switched off: planned afresh
        assert rig.engine.sessions[FRIEND].next_reason == "moment_removed"
    finally:
        await rig.stop()


def test_each_bad_entry_is_named_and_the_good_ones_kept():
    raw = moments_config(
        "22:30 | * | night",
        "25:00 | * | x",
        "08:00 | 8 | y",
        "08:00 | 工作日 | morning",
        "08:00 | * | again",
        "nonsense",
    )
    settings, problems = parse_plugin_config(raw)
    path = "friend_settings.moment_settings.moments"
    assert [p.split(":", 1)[0] for p in problems] == [f"{path}[{i}]" for i in (1, 2, 4, 5)]
    assert all(p.endswith("; ignored") for p in problems)
    assert "not a time of day" in problems[0] and "Monday is 1" in problems[1]
    assert "second moment at 08:00" in problems[2]
    kept = settings.friend.moments.moments
    assert [(m.key, m.prompt) for m in kept] == [("08:00", "morning"), ("22:30", "night")]
    assert settings.friend_dict["moment_settings"]["moments"] == [
        "08:00 | 1-5 | morning",
        "22:30 | * | night",
    ]


async def test_a_store_from_before_moments_gains_the_column(tmp_path, clock):
    path = tmp_path / "old.db"
    store = SessionStore(path, clock=clock)
    await store.open()
    await store.close()
    with sqlite3.connect(path) as conn:  # as the versions before moments left it
        for column in ("moments_fired", "talk", "recent_sent"):
            conn.execute(f"ALTER TABLE sessions DROP COLUMN {column}")
        conn.execute(
            "INSERT INTO sessions VALUES (?, 'friend', 'A', 1, 1, 1, 0, NULL, 'idle', '', 0, 1, 2)",
            (FRIEND,),
        )
    store = SessionStore(path, clock=clock)
    await store.open()
    try:
        (state,) = await store.load_sessions()
        assert (state.sent_total, state.moments_fired) == (2, "")
        state.moments_fired = "739000|08:00"
        store.put_session(state)
        assert await store.flush()
        (state,) = await store.load_sessions()
        assert state.moments_fired == "739000|08:00"
    finally:
        await store.close()


async def test_send_now_before_a_moment_leaves_it_planned(tmp_path, clock):
    rig = await started(tmp_path, clock, moments_config("13:00 | * | moment prompt"))
    engine = rig.engine
    try:
        engine.on_user_message(FRIEND, "Alice")
        engine.request_trigger(FRIEND)
        await rig.settle()
        assert len(rig.sender.sent) == 1
        assert rig.composer.calls[-1][1] != "moment prompt"  # the main prompt
        state = engine.sessions[FRIEND]
        assert (state.next_reason, state.next_at) == ("moment", START + HOUR)
        assert state.moments_fired == ""
    finally:
        await rig.stop()
