"""The table of the engine's config fields: the one place defaults and ranges live (a
unit test holds ``_conf_schema.json`` to it).

``KIND_SPECS`` holds ``friend_settings`` / ``group_settings``, ``OVERRIDE_SPECS`` what
a per-session override may hold (all but the session list), ``ENGINE_SPEC`` holds
``engine_settings``. A nested dict is a nested config group; anything else is a
``Field`` (fields.py). Key names follow the 1.2.x config of the reference
plugin, so its configs carry over.
"""

from __future__ import annotations

import copy
from typing import Any

from ...umo import FRIEND, GROUP
from ..prompt_template import DEFAULT_FRIEND_PROMPT, DEFAULT_GROUP_PROMPT
from .fields import (
    BoolField,
    ChoiceField,
    IntervalField,
    IntField,
    LogBaseField,
    MomentsField,
    NamesField,
    QuietHoursField,
    RegexField,
    SessionListField,
    TextField,
    WordsField,
)

SCHEMA_GROUPS = ("friend_settings", "group_settings", "engine_settings")
GROUP_OF_KIND = {FRIEND: "friend_settings", GROUP: "group_settings"}

MAX_PROMPT_CHARS = 20_000
MAX_MINUTES = 7 * 24 * 60
# Daily moments offered when they are switched on (moment_settings.enable is off); the
# prompts are built in (prompt_template.BUILTIN_MOMENT_PROMPTS), so the lines stay short.
FRIEND_MOMENTS = ["08:00 | * | good_morning", "22:30 | * | good_night"]
GROUP_MOMENTS = ["09:00 | 1-5 | good_morning"]


def _kind_spec(kind: str) -> dict[str, Any]:
    """The fields of one kind's group; its body is the table itself, read top to bottom."""
    friend = kind == FRIEND
    spec: dict[str, Any] = {
        "enable": BoolField(friend),
        "session_list": SessionListField(kind),
        "proactive_prompt": TextField(
            DEFAULT_FRIEND_PROMPT if friend else DEFAULT_GROUP_PROMPT,
            MAX_PROMPT_CHARS,
            allow_empty=False,
            strip=False,
        ),
    }
    if not friend:
        spec["group_idle_trigger_minutes"] = IntField(30, 1, MAX_MINUTES)
    spec |= {
        "schedule_settings": {
            "min_interval_minutes": IntField(30 if friend else 90, 1, MAX_MINUTES),
            "max_interval_minutes": IntField(900 if friend else 360, 1, MAX_MINUTES),
            "quiet_hours": QuietHoursField("1-7" if friend else "2-6"),
            "max_unanswered_times": IntField(3 if friend else 2, 0, 100),
            "time_cues": BoolField(True),
            "learn_habits": BoolField(True),
        },
        "moment_settings": {
            "enable": BoolField(False),
            "moments": MomentsField(FRIEND_MOMENTS if friend else GROUP_MOMENTS),
        },
        "auto_trigger_settings": {
            "enable_auto_trigger": BoolField(False),
            "auto_trigger_after_minutes": IntField(5, 1, MAX_MINUTES),
        },
        "context_settings": {
            "conversation_history_limit": IntField(10, 0, 100),
            "source_mode": ChoiceField(
                "conversation_history" if friend else "hybrid",
                ("conversation_history", "platform_message_history", "hybrid"),
            ),
        },
        **_voice_spec(),
        **_writing_spec(),
        "analysis_settings": {
            "provider_id": TextField("", 256, allow_empty=True, strip=True),
            "timeout_seconds": IntField(15, 1, 120),
            "max_turns": IntField(6, 1, 50),
        },
    }
    return spec


def _voice_spec() -> dict[str, Any]:
    """Who speaks and how the text is cut and voiced (persona, segments, TTS)."""
    return {
        "persona_settings": {
            "mode": ChoiceField("off", ("off", "select", "custom")),
            "select_persona": TextField("", 256, allow_empty=True, strip=True),
            "custom_persona": TextField("", MAX_PROMPT_CHARS, allow_empty=True, strip=False),
        },
        "segmented_reply_settings": {
            "enable": BoolField(False),
            "words_count_threshold": IntField(150, 0, 5000),
            "split_mode": ChoiceField("regex", ("regex", "words")),
            "regex": RegexField(r".*?[。？！~…\n]+|.+$"),
            "split_words": WordsField(["。", "？", "！", "~", "…"]),
            "interval_method": ChoiceField("random", ("random", "log")),
            "interval": IntervalField("1.5, 3.5"),
            "log_base": LogBaseField("1.8"),
        },
        "tts_settings": {
            "enable_tts": BoolField(True),
            "always_send_text": BoolField(True),
        },
    }


def _writing_spec() -> dict[str, Any]:
    """How the message is written. Defaults: today's behaviour (the session's model,
    no fallback, no tools, no picture)."""
    return {
        "model_settings": {
            "provider_id": TextField("", 256, allow_empty=True, strip=True),
            "fallback_mode": ChoiceField("off", ("off", "astrbot", "custom")),
            "fallback_provider_ids": NamesField(),
        },
        "tool_settings": {
            "mode": ChoiceField("off", ("off", "whitelist", "all")),
            "whitelist": NamesField(),
            "blacklist": NamesField(),
            "max_steps": IntField(5, 1, 30),
        },
        "picture_settings": {
            "mode": ChoiceField("off", ("off", "auto", "always")),
            "include_tools": NamesField(),
            "exclude_tools": NamesField(),
        },
    }


KIND_SPECS = {FRIEND: _kind_spec(FRIEND), GROUP: _kind_spec(GROUP)}
# What a per-session override may hold: everything but the session list.
OVERRIDE_SPECS = {
    kind: {key: field for key, field in spec.items() if key != "session_list"}
    for kind, spec in KIND_SPECS.items()
}
ENGINE_SPEC: dict[str, Any] = {
    "llm_timeout_seconds": IntField(60, 5, 600),
    "missed_window_minutes": IntField(60, 0, 1440),
    "journal_keep_days": IntField(30, 1, 3650),
    "journal_max_entries": IntField(50_000, 1000, 1_000_000),
    "analysis_calls_per_hour": IntField(60, 1, 3600),
}


def int_ranges() -> dict[str, dict[str, tuple[int, int]]]:
    """Per config group, the range each whole-number field accepts, by dotted path
    (``{"friend_settings": {"schedule_settings.max_unanswered_times": (0, 1000)}}``), so
    the panel's form can say so before the server refuses a value."""
    specs = {GROUP_OF_KIND[kind]: spec for kind, spec in KIND_SPECS.items()}
    specs["engine_settings"] = ENGINE_SPEC
    return {group: _int_ranges(spec, "") for group, spec in specs.items()}


def _int_ranges(spec: dict[str, Any], prefix: str) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for key, field in spec.items():
        if isinstance(field, dict):
            out.update(_int_ranges(field, f"{prefix}{key}."))
        elif isinstance(field, IntField):
            out[f"{prefix}{key}"] = (field.low, field.high)
    return out


def defaults_of(spec: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of every default in ``spec``, nested like it."""
    return {
        key: defaults_of(field) if isinstance(field, dict) else copy.deepcopy(field.default)
        for key, field in spec.items()
    }


def kind_defaults(kind: str) -> dict[str, Any]:
    """A fresh copy of the default ``friend_settings`` / ``group_settings`` dict."""
    return defaults_of(KIND_SPECS[check_kind(kind)])


def engine_defaults() -> dict[str, Any]:
    """A fresh copy of the default ``engine_settings`` dict."""
    return defaults_of(ENGINE_SPEC)


def check_kind(kind: str) -> str:
    """``kind`` itself when it is "friend" or "group"; else ValueError (a caller's bug)."""
    if kind not in KIND_SPECS:
        raise ValueError(f"kind must be 'friend' or 'group', not {kind!r}")
    return kind
