"""``engine_config``: defaults vs the schema, every key leniently and strictly, overrides.

Over 400 lines on purpose: one section per key group of the config table, in its order.
"""

from __future__ import annotations

import copy
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest

from proactive_chat.core.engine.config import (
    SCHEMA_GROUPS,
    WEB_ADMIN_REFUSED,
    effective_settings,
    engine_defaults,
    kind_defaults,
    merge_override,
    normalize_engine_dict,
    normalize_kind_dict,
    parse_plugin_config,
    settings_from_dict,
    validate_config_update,
    validate_override,
)
from proactive_chat.core.engine.models import (
    EngineSettings,
    PluginSettings,
    ScheduleSettings,
    SessionSettings,
)
from proactive_chat.core.engine.prompt_template import DEFAULT_FRIEND_PROMPT, DEFAULT_GROUP_PROMPT
from proactive_chat.core.engine.quiet_hours import QuietHours

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "_conf_schema.json").read_text(encoding="utf-8-sig"))
EN_TEXTS = json.loads((ROOT / ".astrbot-plugin/i18n/en-US.json").read_text(encoding="utf-8"))
KIND_OF_GROUP = {"friend_settings": "friend", "group_settings": "group"}


def schema_defaults(items: dict) -> dict:
    return {
        key: schema_defaults(item["items"]) if item["type"] == "object" else item["default"]
        for key, item in items.items()
    }


def nested(path: str, value: Any) -> dict:
    """``"a.b.c", 1`` -> ``{"a": {"b": {"c": 1}}}``."""
    for key in reversed(path.split(".")):
        value = {key: value}
    return value


def dig(d: dict, dotted: str) -> Any:
    for key in dotted.split("."):
        d = d[key]
    return d


def group_dict(settings: PluginSettings, group: str) -> dict:
    return {
        "friend_settings": settings.friend_dict,
        "group_settings": settings.group_dict,
        "engine_settings": settings.engine_dict,
    }[group]


def parse_at(path: str, value: Any, **siblings: Any) -> tuple[Any, list[str]]:
    """Parse a config holding ``value`` at ``path``; return the value used and the problems."""
    parent, _, key = path.rpartition(".")
    raw = nested(parent, {key: value, **siblings})
    settings, problems = parse_plugin_config(raw)
    group, _, rest = path.partition(".")
    return dig(group_dict(settings, group), rest), problems


def default_at(path: str) -> Any:
    group, _, rest = path.partition(".")
    defaults = (
        engine_defaults() if group == "engine_settings" else kind_defaults(KIND_OF_GROUP[group])
    )
    return dig(defaults, rest)


def leaf_paths(d: dict, prefix: str) -> list[str]:
    paths = []
    for key, value in d.items():
        path = f"{prefix}.{key}"
        paths += leaf_paths(value, path) if isinstance(value, dict) else [path]
    return paths


def object_paths(d: dict, prefix: str) -> list[str]:
    paths = [prefix]
    for key, value in d.items():
        if isinstance(value, dict):
            paths += object_paths(value, f"{prefix}.{key}")
    return paths


ALL_DEFAULTS = {
    "friend_settings": kind_defaults("friend"),
    "group_settings": kind_defaults("group"),
    "engine_settings": engine_defaults(),
}
LEAF_PATHS = [p for g, d in ALL_DEFAULTS.items() for p in leaf_paths(d, g)]
OBJECT_PATHS = [p for g, d in ALL_DEFAULTS.items() for p in object_paths(d, g)]


# --- defaults: one place, equal to the schema ------------------------------------------


def test_schema_groups_in_order_with_web_admin_last():
    assert SCHEMA_GROUPS == ("friend_settings", "group_settings", "engine_settings")
    assert list(SCHEMA) == [*SCHEMA_GROUPS, "web_admin"]


@pytest.mark.parametrize("group", ["friend_settings", "group_settings"])
def test_kind_defaults_equal_schema_defaults(group):
    assert schema_defaults(SCHEMA[group]["items"]) == kind_defaults(KIND_OF_GROUP[group])


def test_engine_defaults_equal_schema_defaults():
    assert schema_defaults(SCHEMA["engine_settings"]["items"]) == engine_defaults()


def test_default_dicts_are_fresh_copies():
    first = kind_defaults("friend")
    first["schedule_settings"]["min_interval_minutes"] = 1
    first["segmented_reply_settings"]["split_words"].append("x")
    assert kind_defaults("friend") == schema_defaults(SCHEMA["friend_settings"]["items"])


def test_kind_defaults_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="friend"):
        kind_defaults("channel")


def test_documented_defaults():
    friend, group = kind_defaults("friend"), kind_defaults("group")
    assert (friend["enable"], group["enable"]) == (True, False)
    assert friend["schedule_settings"] == {
        "min_interval_minutes": 30,
        "max_interval_minutes": 900,
        "quiet_hours": "1-7",
        "max_unanswered_times": 3,
        "time_cues": True,
        "learn_habits": True,
    }
    assert group["schedule_settings"] == {
        "min_interval_minutes": 90,
        "max_interval_minutes": 360,
        "quiet_hours": "2-6",
        "max_unanswered_times": 2,
        "time_cues": True,
        "learn_habits": True,
    }
    assert group["group_idle_trigger_minutes"] == 30
    assert "group_idle_trigger_minutes" not in friend
    assert friend["segmented_reply_settings"]["regex"] == ".*?[。？！~…\\n]+|.+$"
    assert engine_defaults() == {
        "llm_timeout_seconds": 60,
        "missed_window_minutes": 60,
        "journal_keep_days": 30,
        "journal_max_entries": 50000,
        "analysis_calls_per_hour": 60,
    }


def _schema_items(items: dict, prefix: str):
    for key, item in items.items():
        yield f"{prefix}.{key}", item
        if item["type"] == "object":
            yield from _schema_items(item["items"], f"{prefix}.{key}")


SCHEMA_ITEMS = [pair for g in SCHEMA_GROUPS for pair in _schema_items(SCHEMA[g]["items"], g)]
# AstrBot's validate_config: these Python types pass for each schema type.
ASTRBOT_TYPES = {
    "bool": bool,
    "int": int,
    "string": str,
    "text": str,
    "list": list,
    "object": dict,
}


def _english(path: str) -> dict:
    """The item's texts in AstrBot's en-US i18n file (``config.<dotted path>``)."""
    node = EN_TEXTS["config"]
    for part in path.split("."):
        node = node[part]
    return node


@pytest.mark.parametrize(("path", "item"), SCHEMA_ITEMS, ids=[p for p, _ in SCHEMA_ITEMS])
def test_schema_item_is_in_both_languages_and_its_default_passes_astrbot(path, item):
    # Chinese in the schema (AstrBot's fallback), English in the en-US i18n file.
    assert re.search(r"[\u4e00-\u9fff]", item["description"]), path
    assert re.search(r"[\u4e00-\u9fff]", item["hint"]), path
    english = _english(path)
    assert re.search(r"[A-Za-z]{3}", english["description"]), path
    assert re.search(r"[A-Za-z]{3}", english["hint"]), path
    if item["type"] == "object":
        assert "default" not in item
        return
    assert isinstance(item["default"], ASTRBOT_TYPES[item["type"]]), path
    if item["type"] == "int":
        assert not isinstance(item["default"], bool)
    if item["type"] == "list":
        assert all(isinstance(entry, str) for entry in item["default"])


@pytest.mark.parametrize(
    ("path", "item"),
    [(p, i) for p, i in SCHEMA_ITEMS if "options" in i],
    ids=[p for p, i in SCHEMA_ITEMS if "options" in i],
)
def test_schema_options_are_exactly_the_accepted_values(path, item):
    assert len(item["labels"]) == len(item["options"])
    assert item["default"] in item["options"]
    for option in item["options"]:
        assert parse_at(path, option) == (option, [])
    used, problems = parse_at(path, "not-an-option")
    assert (used, len(problems)) == (item["default"], 1)


@pytest.mark.parametrize(
    ("path", "item"),
    [(p, i) for p, i in SCHEMA_ITEMS if "slider" in i],
    ids=[p for p, i in SCHEMA_ITEMS if "slider" in i],
)
def test_schema_sliders_span_exactly_the_accepted_range(path, item):
    low, high = item["slider"]["min"], item["slider"]["max"]
    assert parse_at(path, low) == (low, [])
    assert parse_at(path, high) == (high, [])
    assert len(parse_at(path, low - 1)[1]) == 1
    assert len(parse_at(path, high + 1)[1]) == 1


def test_schema_conditions_name_sibling_options():
    for path, item in SCHEMA_ITEMS:
        for key, wanted in item.get("condition", {}).items():
            parent = path.rpartition(".")[0]
            group = parent.partition(".")[0]
            siblings = dict(_schema_items(SCHEMA[group]["items"], group))
            assert wanted in siblings[f"{parent}.{key}"]["options"], path


def test_persona_picker_uses_astrbots_special():
    items = SCHEMA["friend_settings"]["items"]["persona_settings"]["items"]
    assert items["select_persona"]["_special"] == "select_persona"


# --- the whole config ------------------------------------------------------------------

GROUP_SCHEDULE = ScheduleSettings(90, 360, QuietHours(120, 360), 2)


@pytest.mark.parametrize("raw", [None, {}, {"web_admin": {"port": 1}, "stale": [1, 2]}])
def test_missing_config_gives_the_dataclass_defaults_silently(raw):
    settings, problems = parse_plugin_config(raw)
    assert problems == []
    assert settings.friend == SessionSettings(kind="friend", proactive_prompt=DEFAULT_FRIEND_PROMPT)
    assert settings.group == SessionSettings(
        kind="group",
        enable=False,
        proactive_prompt=DEFAULT_GROUP_PROMPT,
        schedule=GROUP_SCHEDULE,
        source_mode="hybrid",  # groups read what the group said too (chat_context.py)
    )
    assert settings.engine == EngineSettings()
    assert (len(settings.friend_sessions), len(settings.group_sessions)) == (0, 0)
    assert settings.friend_dict == kind_defaults("friend")
    assert settings.group_dict == kind_defaults("group")
    assert settings.engine_dict == engine_defaults()


@pytest.mark.parametrize(("raw", "type_name"), [([], "list"), ("x", "str"), (3, "int")])
def test_non_mapping_config_gives_defaults_and_one_problem(raw, type_name):
    settings, problems = parse_plugin_config(raw)
    assert settings == parse_plugin_config(None)[0]
    assert len(problems) == 1 and problems[0].startswith("plugin config: ")


@pytest.mark.parametrize("path", OBJECT_PATHS)
def test_an_object_that_is_not_one_gives_its_defaults_and_one_problem(path):
    settings, problems = parse_plugin_config(nested(path, "oops"))
    assert problems == [f"{path}: 'oops' is not an object; using defaults"]
    default = parse_plugin_config(None)[0]
    assert settings == default


def test_unknown_keys_are_ignored_at_every_level():
    raw = {
        "friend_settings": {
            "colour": "blue",
            "schedule_settings": {"legacy": 1, "min_interval_minutes": 40},
            "image_settings": {"mode": "auto"},
        },
        "engine_settings": {"old": True},
    }
    settings, problems = parse_plugin_config(raw)
    assert problems == []
    assert settings.friend.schedule.min_interval_minutes == 40
    assert "colour" not in settings.friend_dict


def test_problem_line_names_path_value_and_default():
    _, problems = parse_at("friend_settings.schedule_settings.min_interval_minutes", "abc")
    assert problems == [
        "friend_settings.schedule_settings.min_interval_minutes: 'abc' is not a whole number; "
        "using 30"
    ]


def test_problem_line_truncates_a_long_value_and_a_long_default():
    _, problems = parse_at("friend_settings.proactive_prompt", 100_000 * [1])
    (line,) = problems
    assert line.startswith("friend_settings.proactive_prompt: [1, 1, 1, 1, ...] is not text")
    assert line.endswith("; using the default")
    _, problems = parse_at("group_settings.schedule_settings.quiet_hours", "x" * 10_000)
    assert len(problems) == 1 and len(problems[0]) < 400


def test_every_bad_value_reported_once_in_one_config():
    raw = {
        "friend_settings": {
            "enable": "maybe",
            "proactive_prompt": 5,
            "schedule_settings": {"min_interval_minutes": "x", "quiet_hours": "99-1"},
            "persona_settings": {"mode": "evil"},
        },
        "group_settings": {"group_idle_trigger_minutes": 0},
        "engine_settings": {"llm_timeout_seconds": 4},
    }
    _, problems = parse_plugin_config(raw)
    assert [p.split(":")[0] for p in problems] == [
        "friend_settings.enable",
        "friend_settings.proactive_prompt",
        "friend_settings.schedule_settings.min_interval_minutes",
        "friend_settings.schedule_settings.quiet_hours",
        "friend_settings.persona_settings.mode",
        "group_settings.group_idle_trigger_minutes",
        "engine_settings.llm_timeout_seconds",
    ]


# --- ints ------------------------------------------------------------------------------

INT_FIELDS = [
    ("friend_settings.schedule_settings.min_interval_minutes", 1, 10080),
    ("friend_settings.schedule_settings.max_interval_minutes", 1, 10080),
    ("friend_settings.schedule_settings.max_unanswered_times", 0, 100),
    ("friend_settings.auto_trigger_settings.auto_trigger_after_minutes", 1, 10080),
    ("friend_settings.context_settings.conversation_history_limit", 0, 100),
    ("friend_settings.segmented_reply_settings.words_count_threshold", 0, 5000),
    ("group_settings.group_idle_trigger_minutes", 1, 10080),
    ("group_settings.schedule_settings.min_interval_minutes", 1, 10080),
    ("group_settings.schedule_settings.max_interval_minutes", 1, 10080),
    ("group_settings.schedule_settings.max_unanswered_times", 0, 100),
    ("engine_settings.llm_timeout_seconds", 5, 600),
    ("engine_settings.missed_window_minutes", 0, 1440),
    ("engine_settings.journal_keep_days", 1, 3650),
    ("engine_settings.journal_max_entries", 1000, 1_000_000),
]


def int_siblings(path: str) -> dict:
    """Keep min and max in order while one of them is being tested."""
    if path.endswith("min_interval_minutes"):
        return {"max_interval_minutes": 10080}
    if path.endswith("max_interval_minutes"):
        return {"min_interval_minutes": 1}
    return {}


@pytest.mark.parametrize(("path", "low", "high"), INT_FIELDS)
def test_int_accepts_its_range_ints_integral_floats_and_numeric_text(path, low, high):
    siblings = int_siblings(path)
    mid = (low + high) // 2
    for value, expected in [
        (low, low),
        (high, high),
        (mid, mid),
        (float(high), high),
        (str(low), low),
        (f" {high} ", high),
        (f"{mid}.0", mid),
    ]:
        assert parse_at(path, value, **siblings) == (expected, []), value


@pytest.mark.parametrize(("path", "low", "high"), INT_FIELDS)
@pytest.mark.parametrize(
    "bad",
    [
        "below",
        "above",
        "abc",
        "",
        "1e3",
        "12.5",
        True,
        False,
        12.5,
        float("nan"),
        float("inf"),
        10**100,
        [],
        {},
        [30],
    ],
)
def test_int_rejects_with_one_problem_and_uses_the_default(path, low, high, bad):
    bad = {"below": low - 1, "above": high + 1}.get(bad, bad) if isinstance(bad, str) else bad
    used, problems = parse_at(path, bad, **int_siblings(path))
    assert used == default_at(path)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: ")
    assert problems[0].endswith(f"; using {default_at(path)}")
    why = "is outside" if isinstance(bad, int) and not isinstance(bad, bool) else "whole number"
    assert why in problems[0]


@pytest.mark.parametrize("path", LEAF_PATHS)
def test_null_means_the_default_silently(path):
    assert parse_at(path, None) == (default_at(path), [])


# --- bools -----------------------------------------------------------------------------

BOOL_PATHS = [p for p in LEAF_PATHS if isinstance(default_at(p), bool)]


def test_bool_paths_are_the_expected_ones():
    assert len(BOOL_PATHS) == 16  # 8 per kind (moments and learn_habits added one each)


@pytest.mark.parametrize("path", BOOL_PATHS)
@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), (1, True), (0, False), ("true", True), (" Off ", False)],
)
def test_bool_accepts_booleans_and_their_spellings(path, value, expected):
    assert parse_at(path, value) == (expected, [])


@pytest.mark.parametrize("path", BOOL_PATHS)
@pytest.mark.parametrize("bad", [2, -1, 1.0, "maybe", "", [], {}, [True]])
def test_bool_rejects_anything_else(path, bad):
    used, problems = parse_at(path, bad)
    assert used == default_at(path)
    assert len(problems) == 1 and "is not true or false" in problems[0]


# --- choices ---------------------------------------------------------------------------

CHOICES = [
    ("persona_settings.mode", ("off", "select", "custom")),
    ("segmented_reply_settings.split_mode", ("regex", "words")),
    ("segmented_reply_settings.interval_method", ("random", "log")),
]


@pytest.mark.parametrize("group", ["friend_settings", "group_settings"])
@pytest.mark.parametrize(("key", "options"), CHOICES)
def test_choice_accepts_its_options_in_any_case_and_spacing(group, key, options):
    for option in options:
        assert parse_at(f"{group}.{key}", f" {option.upper()} ") == (option, [])


@pytest.mark.parametrize("group", ["friend_settings", "group_settings"])
@pytest.mark.parametrize(("key", "options"), CHOICES)
@pytest.mark.parametrize("bad", ["", "other", 1, True, ["off"]])
def test_choice_rejects_anything_else(group, key, options, bad):
    used, problems = parse_at(f"{group}.{key}", bad)
    assert used == options[0]
    assert len(problems) == 1 and f"is not one of {', '.join(options)}" in problems[0]


# --- text ------------------------------------------------------------------------------

PROMPT_PATHS = ["friend_settings.proactive_prompt", "group_settings.proactive_prompt"]


@pytest.mark.parametrize("path", PROMPT_PATHS)
@pytest.mark.parametrize("good", ["hi", "  {{current_time}} {json: 1}  ", "x" * 20_000])
def test_prompt_accepts_any_text_up_to_20000_chars_kept_exactly(path, good):
    assert parse_at(path, good) == (good, [])


@pytest.mark.parametrize("path", PROMPT_PATHS)
@pytest.mark.parametrize(
    ("bad", "why"),
    [("", "is empty"), (" \n ", "is empty"), ("x" * 20_001, "longer than 20000"), (5, "not text")],
)
def test_prompt_rejects_empty_long_and_non_text(path, bad, why):
    used, problems = parse_at(path, bad)
    assert used == default_at(path)
    assert len(problems) == 1 and why in problems[0]


@pytest.mark.parametrize("group", ["friend_settings", "group_settings"])
def test_persona_texts(group):
    path = f"{group}.persona_settings"
    assert parse_at(f"{path}.select_persona", "  Alice ") == ("Alice", [])
    assert parse_at(f"{path}.select_persona", "") == ("", [])
    assert parse_at(f"{path}.custom_persona", "") == ("", [])
    assert parse_at(f"{path}.custom_persona", " You are {x}. ") == (" You are {x}. ", [])
    for bad in (5, "x" * 257, ["a"]):
        assert parse_at(f"{path}.select_persona", bad)[0] == ""
        assert len(parse_at(f"{path}.select_persona", bad)[1]) == 1
    assert len(parse_at(f"{path}.custom_persona", "x" * 20_001)[1]) == 1


# --- quiet hours -----------------------------------------------------------------------


@pytest.mark.parametrize("group", ["friend_settings", "group_settings"])
@pytest.mark.parametrize(
    ("value", "used", "window"),
    [
        ("23:00-07:00", "23:00-07:00", QuietHours(1380, 420)),
        (" 1-7 ", "1-7", QuietHours(60, 420)),
        ("22:30-06:15", "22:30-06:15", QuietHours(1350, 375)),
        ("", "", QuietHours(0, 0)),
        ("   ", "", QuietHours(0, 0)),
    ],
)
def test_quiet_hours_accepted_kept_as_written(group, value, used, window):
    path = f"{group}.schedule_settings.quiet_hours"
    assert parse_at(path, value) == (used, [])
    settings, _ = parse_plugin_config(nested(path, value))
    target = settings.friend if group == "friend_settings" else settings.group
    assert target.schedule.quiet_hours == window


@pytest.mark.parametrize("bad", ["25-7", "abc", "0-24", "1-7-9", 7, ["1-7"]])
def test_quiet_hours_rejected(bad):
    used, problems = parse_at("group_settings.schedule_settings.quiet_hours", bad)
    assert used == "2-6"
    assert len(problems) == 1 and problems[0].endswith("; using '2-6'")


# --- min / max -------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["friend_settings", "group_settings"])
def test_min_above_max_is_swapped_with_one_problem(group):
    raw = nested(
        f"{group}.schedule_settings", {"min_interval_minutes": 500, "max_interval_minutes": 20}
    )
    settings, problems = parse_plugin_config(raw)
    target = settings.friend if group == "friend_settings" else settings.group
    assert (target.schedule.min_interval_minutes, target.schedule.max_interval_minutes) == (20, 500)
    assert problems == [
        f"{group}.schedule_settings: min_interval_minutes 500 is above "
        "max_interval_minutes 20; swapped them"
    ]
    assert group_dict(settings, group)["schedule_settings"]["min_interval_minutes"] == 20


def test_min_equal_to_max_is_fine():
    raw = nested("friend_settings.schedule_settings", {"min_interval_minutes": 60})
    raw["friend_settings"]["schedule_settings"]["max_interval_minutes"] = 60
    assert parse_plugin_config(raw)[1] == []


# --- segmented reply -------------------------------------------------------------------

SEG = "friend_settings.segmented_reply_settings"


@pytest.mark.parametrize(
    ("value", "used", "bounds"),
    [
        ("1.5, 3.5", "1.5, 3.5", (1.5, 3.5)),
        ("1.5,3.5", "1.5, 3.5", (1.5, 3.5)),
        ("1.5，3.5", "1.5, 3.5", (1.5, 3.5)),
        (" 1 3 ", "1, 3", (1.0, 3.0)),
        ("0, 60", "0, 60", (0.0, 60.0)),
        ("2", "2, 2", (2.0, 2.0)),
        (".5, 1.25", "0.5, 1.25", (0.5, 1.25)),
    ],
)
def test_interval_parses_min_and_max(value, used, bounds):
    assert parse_at(f"{SEG}.interval", value) == (used, [])
    settings, _ = parse_plugin_config(nested(f"{SEG}.interval", value))
    assert (
        settings.friend.segmented.interval_min,
        settings.friend.segmented.interval_max,
    ) == bounds


@pytest.mark.parametrize(
    "bad", ["abc", "", "1, 2, 3", "-1, 2", "1, 61", "nan, 1", "inf", "1e1, 2", 1.5, ["1", "2"]]
)
def test_interval_rejected(bad):
    used, problems = parse_at(f"{SEG}.interval", bad)
    assert used == "1.5, 3.5"
    assert len(problems) == 1 and problems[0].endswith("; using '1.5, 3.5'")


def test_interval_written_max_first_is_swapped():
    used, problems = parse_at(f"{SEG}.interval", "3.5, 1.5")
    assert used == "1.5, 3.5"
    assert problems == [
        f"{SEG}.interval: '3.5, 1.5' has its min above its max; swapped to '1.5, 3.5'"
    ]


@pytest.mark.parametrize(
    ("value", "used", "base"),
    [("1.8", "1.8", 1.8), (2, "2", 2.0), (2.5, "2.5", 2.5), (" 100 ", "100", 100.0)],
)
def test_log_base_text_or_number_above_one(value, used, base):
    assert parse_at(f"{SEG}.log_base", value) == (used, [])
    settings, _ = parse_plugin_config(nested(f"{SEG}.log_base", value))
    assert settings.friend.segmented.log_base == base


@pytest.mark.parametrize("bad", ["1", 1, "0.5", -2, "abc", True, "101", "nan", "inf", [2]])
def test_log_base_rejected(bad):
    used, problems = parse_at(f"{SEG}.log_base", bad)
    assert used == "1.8" and len(problems) == 1


@pytest.mark.parametrize("good", ["[。！]", r"\S+", "a" * 500, ".*?[。？！~…\\n]+|.+$"])
def test_regex_that_compiles_is_kept(good):
    assert parse_at(f"{SEG}.regex", good) == (good, [])


@pytest.mark.parametrize(
    ("bad", "why"),
    [("(", "not a valid regular"), ("", "not a regular"), ("a" * 501, "longer than 500"), (5, "")],
)
def test_regex_rejected(bad, why):
    used, problems = parse_at(f"{SEG}.regex", bad)
    assert used == ".*?[。？！~…\\n]+|.+$"
    assert len(problems) == 1 and why in problems[0]


def test_split_words_kept_exactly_deduplicated():
    assert parse_at(f"{SEG}.split_words", ["\n", "。", "\n", " "]) == (["\n", "。", " "], [])
    assert parse_at(f"{SEG}.split_words", []) == ([], [])


def test_split_words_bad_items_dropped_one_problem_each():
    used, problems = parse_at(f"{SEG}.split_words", [1, "", "x" * 21, "。", None])
    assert used == ["。"]
    assert [p.split(":")[0] for p in problems] == [
        f"{SEG}.split_words[0]",
        f"{SEG}.split_words[1]",
        f"{SEG}.split_words[2]",
        f"{SEG}.split_words[4]",
    ]
    assert all(p.endswith("; ignored") for p in problems)


@pytest.mark.parametrize("bad", ["。", 5, {"a": 1}])
def test_split_words_not_a_list(bad):
    used, problems = parse_at(f"{SEG}.split_words", bad)
    assert used == ["。", "？", "！", "~", "…"] and len(problems) == 1


# --- session lists ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "mine", "other"),
    [
        ("friend_settings", "FriendMessage", "GroupMessage"),
        ("group_settings", "GroupMessage", "FriendMessage"),
    ],
)
def test_session_list_split_into_umos_and_bare_ids(group, mine, other):
    entries = [
        f"aiocqhttp:{mine}:1",
        " 2 ",
        "2",
        "",
        None,
        5,
        f"x:{other}:3",
        "bad:Type:1",
        f"a:{mine}:",
        f"aiocqhttp:{mine}:1",
        f"qq:{mine}:a:b:c",
    ]
    settings, problems = parse_plugin_config(nested(f"{group}.session_list", entries))
    sessions = settings.friend_sessions if group == "friend_settings" else settings.group_sessions
    assert sessions.umos == {f"aiocqhttp:{mine}:1", f"qq:{mine}:a:b:c"}
    assert sessions.bare_ids == {"2"}
    assert group_dict(settings, group)["session_list"] == [
        f"aiocqhttp:{mine}:1",
        "2",
        f"qq:{mine}:a:b:c",
    ]
    assert [p.split(":")[0] for p in problems] == [
        f"{group}.session_list[{i}]" for i in (3, 4, 5, 6, 7, 8)
    ]
    assert sessions.contains(f"aiocqhttp:{mine}:1", "1")
    assert sessions.contains(f"other:{mine}:2", "2")
    assert not sessions.contains(f"other:{mine}:1", "1")
    (wrong_kind,) = [p for p in problems if "[6]" in p]
    assert "chat, not a" in wrong_kind


def test_session_list_as_text_is_split_silently():
    used, problems = parse_at("friend_settings.session_list", "1, 2\n3;aiocqhttp:FriendMessage:4")
    assert (used, problems) == (["1", "2", "3", "aiocqhttp:FriendMessage:4"], [])


@pytest.mark.parametrize("bad", [5, {"a": 1}, True])
def test_session_list_not_a_list(bad):
    used, problems = parse_at("group_settings.session_list", bad)
    assert used == [] and len(problems) == 1 and "is not a list" in problems[0]


def test_session_list_rejects_control_characters_and_overlong_ids():
    used, problems = parse_at("friend_settings.session_list", ["a\x01b", "9" * 600, "ok"])
    assert used == ["ok"] and len(problems) == 2


# --- hostile input never raises; the normalized dicts round-trip -----------------------


class HostileRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def _recursive_list() -> list:
    loop: list = []
    loop.append(loop)
    return loop


HOSTILE = [
    None,
    True,
    False,
    0,
    -1,
    10**100,
    -(10**5000),
    1.5,
    float("nan"),
    float("inf"),
    "",
    "abc",
    "\x00\n",
    "{{",
    "x" * 100_000,
    [],
    [None],
    [[[]]],
    _recursive_list(),
    {},
    {"a": {"b": []}},
    {1: 2, None: 3},
    set(),
    b"bytes",
    ("t",),
    object(),
    HostileRepr(),
]
HOSTILE_IDS = [f"{type(v).__name__}{i}" for i, v in enumerate(HOSTILE)]


def assert_round_trips(settings: PluginSettings) -> None:
    again, problems = parse_plugin_config(
        {
            "friend_settings": settings.friend_dict,
            "group_settings": settings.group_dict,
            "engine_settings": settings.engine_dict,
        }
    )
    assert problems == []
    assert again == settings


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_hostile_value_at_every_path_never_raises_and_round_trips(value):
    for path in ["friend_settings", *OBJECT_PATHS, *LEAF_PATHS]:
        settings, problems = parse_plugin_config(nested(path, value))
        assert isinstance(settings, PluginSettings)
        assert all(isinstance(p, str) and len(p) < 600 for p in problems)
        assert_round_trips(settings)


@pytest.mark.parametrize("value", HOSTILE, ids=HOSTILE_IDS)
def test_hostile_value_as_the_whole_config_or_a_list_item(value):
    settings, _ = parse_plugin_config(value)
    assert_round_trips(settings)
    for path in ("friend_settings.session_list", f"{SEG}.split_words"):
        settings, _ = parse_plugin_config(nested(path, [value, "1"]))
        assert_round_trips(settings)


def test_a_config_full_of_good_values_round_trips():
    raw = {
        "friend_settings": {
            "enable": "false",
            "session_list": ["aiocqhttp:FriendMessage:1", "2"],
            "schedule_settings": {"min_interval_minutes": "45", "max_interval_minutes": 30.0},
            "segmented_reply_settings": {"interval": "5 2", "log_base": 3, "split_mode": "WORDS"},
        },
        "group_settings": {"enable": 1, "session_list": "9, 8"},
        "engine_settings": {"journal_keep_days": "7"},
    }
    settings, problems = parse_plugin_config(raw)
    assert len(problems) == 2  # the two swaps
    assert_round_trips(settings)


@pytest.mark.parametrize("kind", ["friend", "group"])
def test_normalize_kind_dict_directly(kind):
    assert normalize_kind_dict(None, kind) == (kind_defaults(kind), [])
    d, problems = normalize_kind_dict({"enable": "x"}, kind)
    group = "friend_settings" if kind == "friend" else "group_settings"
    assert problems[0].startswith(f"{group}.enable: 'x'")
    assert settings_from_dict(d, kind) == parse_plugin_config(None)[0].__getattribute__(kind)


def test_normalize_engine_dict_directly():
    assert normalize_engine_dict({}) == (engine_defaults(), [])
    d, problems = normalize_engine_dict({"journal_max_entries": 999})
    assert d == engine_defaults() and len(problems) == 1


# --- strict per-session overrides ------------------------------------------------------


@pytest.mark.parametrize("kind", ["friend", "group"])
def test_override_empty_and_partial_are_valid(kind):
    assert validate_override({}, kind) == ({}, [])
    override = {
        "enable": False,
        "proactive_prompt": "hello {{session_name}}",
        "schedule_settings": {"min_interval_minutes": 10, "quiet_hours": "22:00-08:00"},
        "persona_settings": {"mode": "custom", "custom_persona": "cat"},
        "segmented_reply_settings": {"interval": "1,2", "split_words": ["。"]},
    }
    cleaned, errors = validate_override(override, kind)
    assert errors == []
    assert cleaned == {
        **override,
        "segmented_reply_settings": {"interval": "1, 2", "split_words": ["。"]},
    }


@pytest.mark.parametrize(
    ("override", "error_path"),
    [
        ({"colour": 1}, "colour: unknown setting"),
        ({"session_list": ["1"]}, "session_list: unknown setting"),
        ({"schedule_settings": {"x": 1}}, "schedule_settings.x: unknown setting"),
        ({"schedule_settings": 5}, "schedule_settings: 5 is not an object"),
        ({"enable": "true"}, "enable: 'true' is not true or false"),
        ({"enable": 1}, "enable: 1 is not true or false"),
        ({"schedule_settings": {"min_interval_minutes": "30"}}, "min_interval_minutes: '30'"),
        ({"schedule_settings": {"min_interval_minutes": True}}, "min_interval_minutes: True"),
        ({"schedule_settings": {"min_interval_minutes": 0}}, "is outside 1-10080"),
        ({"schedule_settings": {"quiet_hours": "25-1"}}, "quiet_hours: '25-1' is not valid"),
        ({"segmented_reply_settings": {"regex": "("}}, "regex: '(' is not a valid regular"),
        ({"segmented_reply_settings": {"interval": "3, 1"}}, "has its min above its max"),
        ({"segmented_reply_settings": {"split_words": ["", "a"]}}, "split_words[0]: ''"),
        ({"persona_settings": {"mode": "mine"}}, "persona_settings.mode: 'mine' is not one of"),
        ({"proactive_prompt": ""}, "proactive_prompt: '' is empty"),
        (
            {"schedule_settings": {"min_interval_minutes": 100, "max_interval_minutes": 50}},
            "schedule_settings: min_interval_minutes 100 is above max_interval_minutes 50",
        ),
        ({1: 2}, "1: unknown setting"),
    ],
)
def test_override_errors(override, error_path):
    _, errors = validate_override(override, "friend")
    assert len(errors) == 1, errors
    assert error_path in errors[0]


@pytest.mark.parametrize("raw", [None, [], "x", 5])
def test_override_must_be_an_object(raw):
    assert validate_override(raw, "group")[1] == [f"settings: {raw!r} is not an object"]


def test_override_idle_minutes_only_for_groups():
    assert validate_override({"group_idle_trigger_minutes": 5}, "group") == (
        {"group_idle_trigger_minutes": 5},
        [],
    )
    assert validate_override({"group_idle_trigger_minutes": 5}, "friend")[1] == [
        "group_idle_trigger_minutes: unknown setting"
    ]


def test_override_integral_float_is_a_whole_number():
    cleaned, errors = validate_override(
        {"context_settings": {"conversation_history_limit": 4.0}}, "friend"
    )
    assert (cleaned, errors) == ({"context_settings": {"conversation_history_limit": 4}}, [])


def test_override_min_alone_above_the_base_max_is_valid_and_swapped_when_merged():
    override = {"schedule_settings": {"min_interval_minutes": 1000}}
    assert validate_override(override, "friend")[1] == []
    plugin, _ = parse_plugin_config(None)
    settings = effective_settings(plugin, "friend", override)
    assert (settings.schedule.min_interval_minutes, settings.schedule.max_interval_minutes) == (
        900,
        1000,
    )


# --- merging and effective settings ----------------------------------------------------


def test_merge_override_is_deep_and_mutates_nothing():
    base = {"a": 1, "n": {"x": 1, "y": [1, 2]}, "l": [1]}
    override = {"n": {"y": [3]}, "l": [9, 9], "new": {"k": 1}}
    base_copy, override_copy = copy.deepcopy(base), copy.deepcopy(override)
    merged = merge_override(base, override)
    assert merged == {"a": 1, "n": {"x": 1, "y": [3]}, "l": [9, 9], "new": {"k": 1}}
    assert (base, override) == (base_copy, override_copy)
    merged["n"]["y"].append(4)
    merged["new"]["k"] = 2
    assert (base, override) == (base_copy, override_copy)


def test_merge_override_replaces_a_non_dict_with_a_dict_and_back():
    assert merge_override({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert merge_override({"a": {"b": 2}}, {"a": 3}) == {"a": 3}


@pytest.mark.parametrize("kind", ["friend", "group"])
@pytest.mark.parametrize("override", [None, {}])
def test_effective_settings_without_override_is_the_shared_object(kind, override):
    plugin, _ = parse_plugin_config({"friend_settings": {"enable": False}})
    shared = plugin.friend if kind == "friend" else plugin.group
    assert effective_settings(plugin, kind, override) is shared


def test_effective_settings_applies_the_override_over_the_config():
    plugin, _ = parse_plugin_config(
        {"group_settings": {"enable": True, "schedule_settings": {"max_unanswered_times": 7}}}
    )
    override = {
        "proactive_prompt": "p",
        "schedule_settings": {"quiet_hours": ""},
        "persona_settings": {"mode": "select", "select_persona": "Bob"},
        "stale_key": 1,
    }
    settings = effective_settings(plugin, "group", override)
    assert settings.enable is True
    assert settings.proactive_prompt == "p"
    assert settings.schedule.max_unanswered_times == 7
    assert not settings.schedule.quiet_hours.enabled
    assert (settings.persona.mode, settings.persona.persona_id) == ("select", "Bob")
    assert settings.kind == "group"
    assert effective_settings(plugin, "group", {"enable": False}).enable is False


def test_effective_settings_on_bare_plugin_settings_uses_kind_defaults():
    settings = effective_settings(PluginSettings(), "friend", {"enable": False})
    expected = SessionSettings(kind="friend", enable=False, proactive_prompt=DEFAULT_FRIEND_PROMPT)
    assert settings == expected


def test_effective_settings_survives_a_stale_bad_override():
    plugin, _ = parse_plugin_config(None)
    settings = effective_settings(
        plugin, "friend", {"schedule_settings": {"min_interval_minutes": "lots"}, "enable": "?"}
    )
    assert settings == plugin.friend


# --- PUT /api/config -------------------------------------------------------------------


def test_config_update_refuses_web_admin_and_unknown_groups():
    result, errors = validate_config_update({"web_admin": {"port": 1}, "colour": {}}, {})
    assert result == {}
    assert errors == [WEB_ADMIN_REFUSED, "colour: unknown config group"]
    assert WEB_ADMIN_REFUSED == (
        "web_admin: can only be changed in AstrBot's dashboard "
        "(it holds the panel's password and address)"
    )


@pytest.mark.parametrize("raw", [None, [], "x"])
def test_config_update_must_be_an_object(raw):
    assert validate_config_update(raw, {}) == ({}, [f"config: {raw!r} is not an object"])


def test_config_update_merges_a_partial_group_over_the_current_config():
    current = {
        "friend_settings": {"enable": False, "session_list": ["1"]},
        "group_settings": {"enable": True},
        "web_admin": {"port": 4100},
    }
    update = {
        "friend_settings": {"schedule_settings": {"quiet_hours": "22-6"}},
        "engine_settings": {"llm_timeout_seconds": 30},
    }
    result, errors = validate_config_update(update, current)
    assert errors == []
    assert set(result) == {"friend_settings", "engine_settings"}
    expected = kind_defaults("friend")
    expected["enable"] = False
    expected["session_list"] = ["1"]
    expected["schedule_settings"]["quiet_hours"] = "22-6"
    assert result["friend_settings"] == expected
    assert result["engine_settings"] == {**engine_defaults(), "llm_timeout_seconds": 30}
    settings, problems = parse_plugin_config({**current, **result})
    assert problems == []
    assert settings.friend.enable is False and settings.group.enable is True


@pytest.mark.parametrize(
    ("update", "error"),
    [
        (
            {"friend_settings": {"session_list": ["x:GroupMessage:1"]}},
            "friend_settings.session_list[0]",
        ),
        (
            {"group_settings": {"session_list": "1, 2"}},
            "group_settings.session_list: '1, 2' is not a list",
        ),
        ({"friend_settings": {"enable": "yes"}}, "friend_settings.enable: 'yes'"),
        ({"engine_settings": {"llm_timeout_seconds": 1}}, "engine_settings.llm_timeout_seconds: 1"),
        ({"engine_settings": {"x": 1}}, "engine_settings.x: unknown setting"),
        ({"group_settings": 3}, "group_settings: 3 is not an object"),
        (
            {"friend_settings": {"schedule_settings": {"min_interval_minutes": 1000}}},
            "friend_settings.schedule_settings: min_interval_minutes 1000 is above",
        ),
    ],
)
def test_config_update_errors_leave_the_group_out(update, error):
    result, errors = validate_config_update(update, {})
    assert result == {}
    assert len(errors) == 1 and errors[0].startswith(error), errors


def test_config_update_over_a_broken_current_config():
    result, errors = validate_config_update({"group_settings": {"enable": True}}, "garbage")
    assert errors == []
    assert result["group_settings"] == {**kind_defaults("group"), "enable": True}
    result, errors = validate_config_update(
        {"group_settings": {"enable": True}}, {"group_settings": {"enable": "what"}}
    )
    assert errors == [] and result["group_settings"]["enable"] is True


def _random_value(rng, depth: int = 0) -> Any:
    pick = rng.randrange(9 if depth < 3 else 6)
    if pick < 6:
        return rng.choice([*HOSTILE[:18], "1-7", "30", 30, "aiocqhttp:FriendMessage:1"])
    if pick < 8:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = [p.rpartition(".")[2] for p in LEAF_PATHS + OBJECT_PATHS] + ["x", ""]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_seeded_random_garbage_never_raises_and_round_trips():
    rng = random.Random(20261128)
    for _ in range(400):
        raw: dict = {}
        for _ in range(rng.randrange(1, 6)):
            path = rng.choice([*LEAF_PATHS, *OBJECT_PATHS])
            raw = merge_override(raw, nested(path, _random_value(rng)))
        settings, problems = parse_plugin_config(raw)
        assert all(isinstance(p, str) for p in problems)
        assert_round_trips(settings)
        # What the strict checks accept, the lenient reader takes without a word.
        for group, kind in KIND_OF_GROUP.items():
            part = raw.get(group)
            if not isinstance(part, dict):
                continue
            override = {k: v for k, v in part.items() if k != "session_list"}
            cleaned, errors = validate_override(override, kind)
            if not errors:
                merged = merge_override(kind_defaults(kind), cleaned)
                swaps = [p for p in normalize_kind_dict(merged, kind)[1] if "swapped" in p]
                assert normalize_kind_dict(merged, kind)[1] == swaps
        result, errors = validate_config_update(raw, raw)
        if not errors:
            assert parse_plugin_config(result)[1] == []


def test_a_long_session_list_is_read_quickly():
    entries = [f"aiocqhttp:FriendMessage:{i}" for i in range(20_000)] + [
        str(i) for i in range(20_000)
    ]
    started = time.perf_counter()
    settings, problems = parse_plugin_config({"friend_settings": {"session_list": entries * 2}})
    assert time.perf_counter() - started < 2.0
    assert problems == [] and len(settings.friend_sessions) == 40_000


def test_persona_keys_of_1x_forks_are_read_as_ours():
    raw = {"friend_settings": {"persona_settings": {"persona_mode": "select", "persona_id": "Nyx"}}}
    settings, problems = parse_plugin_config(raw)
    assert problems == []
    assert settings.friend.persona.mode == "select"
    assert settings.friend.persona.persona_id == "Nyx"
    ours = {"friend_settings": {"persona_settings": {"mode": "off", "persona_mode": "select"}}}
    assert parse_plugin_config(ours)[0].friend.persona.mode == "off"  # ours win
