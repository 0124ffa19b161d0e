"""Reading the engine's config groups leniently: what AstrBot hands the plugin.

Each bad value is reported once (path, value, the default used) and replaced; nothing
raises, so no config can stop the plugin. Keys that are not ours are ignored, a
minimum above its maximum is swapped (and reported), and the persona keys some 1.x
forks used are read as ours. ``effective_settings`` reads a session's override the
same way, so one stored by an older version still applies.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ...config_checks import short_repr
from ...umo import FRIEND, GROUP
from ..models import (
    AnalysisSettings,
    EngineSettings,
    ModelSettings,
    MomentSettings,
    PersonaSettings,
    PictureSettings,
    PluginSettings,
    ScheduleSettings,
    SegmentSettings,
    SessionList,
    SessionSettings,
    ToolSettings,
    TtsSettings,
)
from ..moment_calendar import parse_moment
from ..quiet_hours import parse_quiet_hours
from .fields import interval_bounds, number_text
from .table import (
    ENGINE_SPEC,
    GROUP_OF_KIND,
    KIND_SPECS,
    OVERRIDE_SPECS,
    check_kind,
    defaults_of,
    kind_defaults,
)


def _lenient(spec: dict[str, Any], raw: Any, path: str, problems: list[str]) -> dict[str, Any]:
    if raw is None:
        return defaults_of(spec)
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: {short_repr(raw)} is not an object; using defaults")
        return defaults_of(spec)
    out: dict[str, Any] = {}
    for key, field in spec.items():
        value = raw.get(key)
        sub = f"{path}.{key}"
        if isinstance(field, dict):
            out[key] = _lenient(field, value, sub, problems)
        elif value is None:  # missing, or null: AstrBot's own reading of "use the default"
            out[key] = copy.deepcopy(field.default)
        else:
            out[key] = field.collect(value, sub, problems, strict=False)
    return out


def _swap_lenient(d: dict[str, Any], path: str, problems: list[str]) -> None:
    schedule = d.get("schedule_settings")
    if isinstance(schedule, dict) and "min_interval_minutes" in schedule:
        low, high = schedule["min_interval_minutes"], schedule["max_interval_minutes"]
        if low > high:
            schedule["min_interval_minutes"], schedule["max_interval_minutes"] = high, low
            problems.append(
                f"{path}.schedule_settings: min_interval_minutes {low} is above "
                f"max_interval_minutes {high}; swapped them"
            )
    segmented = d.get("segmented_reply_settings")
    if isinstance(segmented, dict) and "interval" in segmented:
        low_s, high_s = interval_bounds(segmented["interval"])
        if low_s > high_s:
            written = segmented["interval"]
            segmented["interval"] = f"{number_text(high_s)}, {number_text(low_s)}"
            problems.append(
                f"{path}.segmented_reply_settings.interval: {written!r} has its min above "
                f"its max; swapped to {segmented['interval']!r}"
            )


def normalize_kind_dict(raw: Any, kind: str) -> tuple[dict[str, Any], list[str]]:
    """``friend_settings`` / ``group_settings`` checked leniently: (full dict, problems)."""
    problems: list[str] = []
    path = GROUP_OF_KIND[check_kind(kind)]
    d = _lenient(KIND_SPECS[kind], _with_fork_aliases(raw), path, problems)
    _swap_lenient(d, path, problems)
    return d, problems


# Persona key names some 1.x forks used; read as ours when ours are absent.
_PERSONA_ALIASES = {"persona_mode": "mode", "persona_id": "select_persona"}


def _with_fork_aliases(raw: Any) -> Any:
    if not isinstance(raw, Mapping):
        return raw
    persona = raw.get("persona_settings")
    if not isinstance(persona, Mapping) or not any(k in persona for k in _PERSONA_ALIASES):
        return raw
    merged = dict(persona)
    for old, new in _PERSONA_ALIASES.items():
        if old in merged and merged.get(new) is None:
            merged[new] = merged[old]
    return {**raw, "persona_settings": merged}


def normalize_engine_dict(raw: Any) -> tuple[dict[str, Any], list[str]]:
    """``engine_settings`` checked leniently: (full dict, problems)."""
    problems: list[str] = []
    return _lenient(ENGINE_SPEC, raw, "engine_settings", problems), problems


def settings_from_dict(d: dict[str, Any], kind: str) -> SessionSettings:
    """The immutable settings of a normalized kind dict."""
    schedule = d["schedule_settings"]
    persona = d["persona_settings"]
    seg = d["segmented_reply_settings"]
    tts = d["tts_settings"]
    low, high = interval_bounds(seg["interval"])
    extra = {"group_idle_trigger_minutes": d["group_idle_trigger_minutes"]} if kind == GROUP else {}
    return SessionSettings(
        kind=check_kind(kind),
        enable=d["enable"],
        proactive_prompt=d["proactive_prompt"],
        schedule=ScheduleSettings(
            min_interval_minutes=schedule["min_interval_minutes"],
            max_interval_minutes=schedule["max_interval_minutes"],
            quiet_hours=parse_quiet_hours(schedule["quiet_hours"]),
            max_unanswered_times=schedule["max_unanswered_times"],
        ),
        time_cues=schedule["time_cues"],
        moments=_moment_settings(d["moment_settings"]),
        learn_habits=schedule["learn_habits"],
        auto_trigger_enabled=d["auto_trigger_settings"]["enable_auto_trigger"],
        auto_trigger_after_minutes=d["auto_trigger_settings"]["auto_trigger_after_minutes"],
        history_turns=d["context_settings"]["conversation_history_limit"],
        source_mode=d["context_settings"]["source_mode"],
        persona=PersonaSettings(
            mode=persona["mode"],
            persona_id=persona["select_persona"],
            custom_prompt=persona["custom_persona"],
        ),
        segmented=SegmentSettings(
            enable=seg["enable"],
            words_count_threshold=seg["words_count_threshold"],
            split_mode=seg["split_mode"],
            regex=seg["regex"],
            split_words=tuple(seg["split_words"]),
            interval_method=seg["interval_method"],
            interval_min=low,
            interval_max=high,
            log_base=float(seg["log_base"]),
        ),
        tts=TtsSettings(enable_tts=tts["enable_tts"], always_send_text=tts["always_send_text"]),
        **_writing_settings(d),
        **extra,
    )


def _moment_settings(group: dict[str, Any]) -> MomentSettings:
    """Switched off, the list is not the engine's business (the dict keeps it)."""
    if not group["enable"]:
        return MomentSettings()
    return MomentSettings(True, tuple(parse_moment(entry) for entry in group["moments"]))


def _writing_settings(d: dict[str, Any]) -> dict[str, Any]:
    """The model, tool and picture settings of a normalized kind dict."""
    model, tools, pictures = d["model_settings"], d["tool_settings"], d["picture_settings"]
    analysis = d["analysis_settings"]
    return {
        "analysis": AnalysisSettings(
            provider_id=analysis["provider_id"],
            timeout_seconds=analysis["timeout_seconds"],
            max_turns=analysis["max_turns"],
        ),
        "model": ModelSettings(
            provider_id=model["provider_id"],
            fallback_mode=model["fallback_mode"],
            fallback_provider_ids=tuple(model["fallback_provider_ids"]),
        ),
        "tools": ToolSettings(
            mode=tools["mode"],
            whitelist=tuple(tools["whitelist"]),
            blacklist=tuple(tools["blacklist"]),
            max_steps=tools["max_steps"],
        ),
        "pictures": PictureSettings(
            mode=pictures["mode"],
            include_tools=tuple(pictures["include_tools"]),
            exclude_tools=tuple(pictures["exclude_tools"]),
        ),
    }


def _session_list(entries: list[str]) -> SessionList:
    return SessionList(
        umos=frozenset(e for e in entries if ":" in e),
        bare_ids=frozenset(e for e in entries if ":" not in e),
    )


def parse_plugin_config(raw: Mapping | None) -> tuple[PluginSettings, list[str]]:
    """The whole plugin config read leniently; ``web_admin`` is left to ``config.py``."""
    problems: list[str] = []
    if raw is not None and not isinstance(raw, Mapping):
        problems.append(f"plugin config: {short_repr(raw)} is not an object; using defaults")
        raw = None
    raw = raw or {}
    friend_dict, found = normalize_kind_dict(raw.get("friend_settings"), FRIEND)
    problems += found
    group_dict, found = normalize_kind_dict(raw.get("group_settings"), GROUP)
    problems += found
    engine_dict, found = normalize_engine_dict(raw.get("engine_settings"))
    problems += found
    settings = PluginSettings(
        friend=settings_from_dict(friend_dict, FRIEND),
        group=settings_from_dict(group_dict, GROUP),
        friend_sessions=_session_list(friend_dict["session_list"]),
        group_sessions=_session_list(group_dict["session_list"]),
        engine=EngineSettings(**engine_dict),
        friend_dict=friend_dict,
        group_dict=group_dict,
        engine_dict=engine_dict,
    )
    return settings, problems


def merge_override(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` deep-merged over ``base`` (dicts key by key); neither is changed."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_override(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def effective_settings(
    plugin: PluginSettings, kind: str, override: dict[str, Any] | None
) -> SessionSettings:
    """A session's settings: the shared object of its kind, or that merged with its override.

    Without an override the very ``plugin.friend`` / ``plugin.group`` object comes back
    (the per-message path relies on that being free). An override stored by an older
    version is read leniently: stale keys are ignored, min above max is swapped.
    """
    shared = plugin.friend if check_kind(kind) == FRIEND else plugin.group
    if not override or not isinstance(override, Mapping):
        return shared
    base = plugin.friend_dict if kind == FRIEND else plugin.group_dict
    merged = merge_override(base or kind_defaults(kind), override)
    merged.pop("session_list", None)
    normalized = _lenient(OVERRIDE_SPECS[kind], merged, GROUP_OF_KIND[kind], [])
    _swap_lenient(normalized, GROUP_OF_KIND[kind], [])
    return settings_from_dict(normalized, kind)
