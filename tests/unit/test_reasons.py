"""The engine's journal reasons are shown in the reader's language (web/reasons.py)."""

from __future__ import annotations

import re

import pytest

from harness.engine_rig import FRIEND, GROUP, START, Rig
from proactive_chat.core.engine.ports import ComposeError
from proactive_chat.web.i18n import EN, JS_KEYS, ZH, translator
from proactive_chat.web.reasons import REASONS, browser_table, reason_text

PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Failures whose reason is a provider's or platform's own error text: shown as they are.
RAW_KINDS = {"llm_failed", "send_failed", "platform_skipped", "llm_empty"}


def scenario_config() -> dict:
    schedule = {
        "min_interval_minutes": 30,
        "max_interval_minutes": 60,
        "quiet_hours": "13:00-14:00",
        "max_unanswered_times": 3,
    }
    return {
        "friend_settings": {
            "enable": True,
            "session_list": [FRIEND],
            "schedule_settings": schedule,
            "auto_trigger_settings": {"enable_auto_trigger": True, "auto_trigger_after_minutes": 5},
        },
        "group_settings": {
            "enable": True,
            "session_list": [GROUP],
            "group_idle_trigger_minutes": 10,
            "schedule_settings": {**schedule, "quiet_hours": "00:00-23:00"},
        },
    }


@pytest.mark.parametrize(("pattern", "key"), REASONS)
def test_every_reason_has_both_texts_with_its_placeholders(pattern, key):
    groups = set(re.compile(pattern).groupindex)
    for table in (ZH, EN):
        assert set(PLACEHOLDER.findall(table[key])) == groups, (key, table[key])
    assert key in JS_KEYS  # live entries are translated in the browser


def test_the_browser_table_uses_javascript_group_syntax():
    for source, key in browser_table():
        assert "(?P<" not in source, key
    assert len(browser_table()) == len(REASONS)


def test_known_reasons_are_translated_and_unknown_ones_kept():
    zh = translator("zh")
    assert reason_text("sent (2 part(s), voice)", zh) == "已发送（2 段，含语音）"
    assert reason_text("retry #3 after llm_failed", zh) == "第 3 次重试（原因：模型出错）"
    assert reason_text("provider-x: HTTP 502 <html>", zh) == "provider-x: HTTP 502 <html>"
    # English plurals (issue 14): "1 part", "2 parts", never "part(s)".
    assert reason_text("sent (2 part(s))", translator("en")) == "sent (2 parts)"
    assert reason_text("sent (1 part(s))", translator("en")) == "sent (1 part)"
    en = translator("en")
    assert reason_text("sent (1 part(s), 1 picture(s))", en) == "sent (1 part, pictures: 1)"
    assert (
        reason_text("sent (2 part(s), voice, 1 picture(s))", en)
        == "sent (2 parts, with voice, pictures: 1)"
    )
    assert reason_text("sent (1 part(s), 2 picture(s))", zh) == "已发送（1 段，2 张图）"


async def test_every_reason_a_real_engine_writes_is_translated(tmp_path, clock):
    """Drive the engine through its paths and read back what it journaled: a reason
    added to core/engine/engine.py without a translation fails here."""
    clock.now = START
    rig = Rig(tmp_path, clock, scenario_config())
    try:
        engine = await rig.start()
        await rig.advance(5 * 60 + 1)  # auto-trigger
        engine.on_user_message(FRIEND, "Alice")
        for _ in range(4):  # sent ... capped (with a quiet-hours shift on the way)
            await rig.advance(3 * 3600)
        engine.on_user_message(FRIEND, "Alice")  # answered
        rig.composer.script = [ComposeError("llm_failed", "timed out")]
        await rig.advance(3 * 3600)  # failure and retry
        engine.request_trigger(FRIEND)
        await rig.settle()
        engine.reschedule(FRIEND)
        engine.plan_at(FRIEND, clock.now + 600)
        engine.pause(FRIEND)
        engine.resume(FRIEND)
        engine.cancel_plan(FRIEND)
        await engine.set_override(FRIEND, {"schedule_settings": {"max_unanswered_times": 5}})
        await engine.set_override(FRIEND, {})
        await engine.set_override(FRIEND, {"enable": False})
        engine.on_user_message(GROUP, "Team")
        await rig.advance(11 * 60)
        await rig.advance(3600)
        engine.request_trigger(GROUP)  # still queued when the engine stops: not sent
        engine = await rig.restart()  # restored
        entries = await rig.store.query_journal(limit=1000)
    finally:
        await rig.stop()
    zh, en = translator("zh"), translator("en")
    seen = set()
    for entry in entries:
        seen.add(entry.kind)
        if entry.kind in RAW_KINDS or not entry.reason:
            continue
        assert reason_text(entry.reason, zh) != entry.reason, (entry.kind, entry.reason)
        assert reason_text(entry.reason, en), (entry.kind, entry.reason)
    # the scenario reached the paths it is meant to cover
    assert {"planned", "sent", "capped", "answered", "retry", "manual", "override"} <= seen
    assert {"quiet_shifted", "auto_trigger", "restored", "fired", "disabled", "cancelled"} <= seen
