"""``fill_prompt``, ``describe_elapsed``, ``format_local_time``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from proactive_chat.core.engine.prompt_template import (
    DEFAULT_FRIEND_PROMPT,
    DEFAULT_GROUP_PROMPT,
    PLACEHOLDERS,
    describe_elapsed,
    fill_prompt,
    format_local_time,
)

VALUES = {
    "unanswered_count": 2,
    "current_time": "2026-11-28 14:05 星期六",
    "time_since_last_chat": "3 小时",
    "session_name": "小明",
    "occasion": "我十分钟后提醒你喝水。",
    "recent_proactive": "- （3 小时前）早呀",
    "group_context": "[12-07 14:05] 小明：周末有人去爬山吗",
}


def test_placeholders():
    assert PLACEHOLDERS == (
        "unanswered_count",
        "current_time",
        "time_since_last_chat",
        "session_name",
        "occasion",
        "recent_proactive",
        "group_context",
    )


@pytest.mark.parametrize(
    ("template", "filled"),
    [
        ("{{unanswered_count}}", "2"),
        ("{{ unanswered_count }}", "2"),
        ("{{\tsession_name  }}!", "小明!"),
        (
            "at {{current_time}}, {{time_since_last_chat}} ago",
            "at 2026-11-28 14:05 星期六, 3 小时 ago",
        ),
        ("{{session_name}}{{session_name}}", "小明小明"),
        ("{{{session_name}}}", "{小明}"),
        ("{{unknown}} {{session_name}}", "{{unknown}} 小明"),
        ('{"json": {"a": 1}} {0} {session_name} {{', '{"json": {"a": 1}} {0} {session_name} {{'),
        ("{{ session_name }", "{{ session_name }"),
        ("{ {session_name} }", "{ {session_name} }"),
        ("{{session name}}", "{{session name}}"),
        ("{{Session_Name}}", "{{Session_Name}}"),
        ("", ""),
        ("no placeholders (◕‿◕)", "no placeholders (◕‿◕)"),
    ],
)
def test_fill_prompt(template, filled):
    assert fill_prompt(template, VALUES) == filled


def test_a_known_name_without_a_value_stays():
    assert fill_prompt("{{session_name}} {{current_time}}", {"current_time": "now"}) == (
        "{{session_name}} now"
    )


def test_values_are_not_expanded_again():
    values = {"session_name": "{{current_time}}", "current_time": "now"}
    assert fill_prompt("{{session_name}} {{current_time}}", values) == "{{current_time}} now"


def test_a_value_that_is_not_known_is_never_used():
    assert fill_prompt("{{secret}}", {"secret": "x"}) == "{{secret}}"


@pytest.mark.parametrize(
    "template",
    [
        "{{" * 200_000,
        "{{ " + " " * 400_000,
        "{{" + "a" * 400_000,
        ("{{session_name" + " " * 20) * 20_000,
        "{{ session_name }}" * 50_000,
    ],
)
def test_fill_prompt_is_fast_on_hostile_templates(template):
    started = time.perf_counter()
    fill_prompt(template, VALUES)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("prompt", [DEFAULT_FRIEND_PROMPT, DEFAULT_GROUP_PROMPT])
def test_default_prompts_use_every_placeholder(prompt):
    for name in PLACEHOLDERS:
        assert "{{" + name + "}}" in prompt
    filled = fill_prompt(prompt, VALUES)
    assert "{{" not in filled and "}}" not in filled
    assert "模拟" in prompt


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "很久"),
        (float("nan"), "很久"),
        (float("inf"), "很久"),
        (-5, "刚刚"),
        (0, "刚刚"),
        (59.9, "刚刚"),
        (60, "1 分钟"),
        (5 * 60 + 59, "5 分钟"),
        (3599, "59 分钟"),
        (3600, "1 小时"),
        (3 * 3600 + 20 * 60, "3 小时 20 分钟"),
        (23 * 3600 + 59 * 60 + 59, "23 小时 59 分钟"),
        (86400, "1 天"),
        (2 * 86400 + 4 * 3600, "2 天 4 小时"),
        (2 * 86400 + 4 * 3600 + 59 * 60, "2 天 4 小时"),
        (400 * 86400, "400 天"),
    ],
)
def test_describe_elapsed(seconds, text):
    assert describe_elapsed(seconds) == text


CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("day", "weekday"),
    [
        (23, "星期一"),
        (24, "星期二"),
        (25, "星期三"),
        (26, "星期四"),
        (27, "星期五"),
        (28, "星期六"),
        (29, "星期日"),
    ],
)
def test_format_local_time_in_a_zone(day, weekday):
    ts = datetime(2026, 11, day, 14, 5, 59, tzinfo=CST).timestamp()
    assert format_local_time(ts, CST) == f"2026-11-{day:02d} 14:05 {weekday}"


def test_format_local_time_other_zone_can_change_the_day():
    ts = datetime(2026, 11, 28, 1, 30, tzinfo=CST).timestamp()
    assert format_local_time(ts, UTC) == "2026-11-27 17:30 星期五"


def test_format_local_time_without_zone_is_the_machine_local_time():
    ts = 1_800_000_000.0
    local = datetime.fromtimestamp(ts)
    assert format_local_time(ts, None).startswith(local.strftime("%Y-%m-%d %H:%M "))
