"""The engine's config groups (``friend_settings``, ``group_settings``, ``engine_settings``).

Two readers over one table of fields (``_kind_spec`` / ``_ENGINE_SPEC``, the only
place defaults live; a unit test holds ``_conf_schema.json`` to them):

- lenient (``parse_plugin_config``): what AstrBot hands the plugin. Each bad value is
  reported once (path, value, the default used) and replaced; nothing raises, so no
  config can stop the plugin. Keys that are not ours are ignored.
- strict (``validate_override``, ``validate_config_update``): what the admin API
  accepts. Every bad or unknown key is an error and nothing is saved.

Key names follow the 1.2.x config of the reference plugin, so its configs carry over.
"""

from __future__ import annotations

import copy
import math
import re
import reprlib
from collections.abc import Mapping
from typing import Any

from ..umo import FRIEND, GROUP, MAX_UMO_LENGTH, parse_umo
from .models import (
    EngineSettings,
    PersonaSettings,
    PluginSettings,
    ScheduleSettings,
    SegmentSettings,
    SessionList,
    SessionSettings,
    TtsSettings,
)
from .prompt_template import DEFAULT_FRIEND_PROMPT, DEFAULT_GROUP_PROMPT
from .quiet_hours import parse_quiet_hours

SCHEMA_GROUPS = ("friend_settings", "group_settings", "engine_settings")
GROUP_OF_KIND = {FRIEND: "friend_settings", GROUP: "group_settings"}
WEB_ADMIN_REFUSED = (
    "web_admin: can only be changed in AstrBot's dashboard "
    "(it holds the panel's password and address)"
)

MAX_PROMPT_CHARS = 20_000
MAX_REGEX_CHARS = 500
MAX_MINUTES = 7 * 24 * 60
MAX_PAUSE_SECONDS = 60.0


class _Bad(Exception):
    """A value a field cannot take; the text says why ("is not a whole number")."""


_MISSING = object()
_REPR = reprlib.Repr(maxstring=60, maxother=60, maxlist=4, maxdict=4, maxlevel=2)


def _show(value: Any) -> str:
    """``repr`` of a rejected value, short and safe for anything a config may hold."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**60:
        return "<a number with more than 60 digits>"
    try:
        text = _REPR.repr(value)
    except Exception:  # a hostile __repr__: the line must still be written
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _show_default(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else "the default"


def _number_text(value: float) -> str:
    """``1.5`` / ``3``: how a seconds or log-base value is written back into the config."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


_INT_TEXT_RE = re.compile(r"([+-]?[0-9]{1,12})(?:\.0*)?")
_FLOAT_TEXT_RE = re.compile(r"[+-]?(?:[0-9]{1,12}(?:\.[0-9]{0,12})?|\.[0-9]{1,12})")


def _as_int(value: Any, strict: bool) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and not strict:
        match = _INT_TEXT_RE.fullmatch(value.strip())
        return int(match.group(1)) if match else None
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) < 10**12:
        return float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and _FLOAT_TEXT_RE.fullmatch(value.strip()):
        return float(value.strip())
    return None


# --- fields: each checks one value and returns it normalized, or raises _Bad --------


class _Field:
    default: Any

    def check(self, value: Any, strict: bool) -> Any:
        raise NotImplementedError  # list fields override collect() instead

    def collect(self, value: Any, path: str, notes: list[str], strict: bool) -> Any:
        """The checked value; on a bad one, a note, then the default (lenient) or _MISSING."""
        try:
            return self.check(value, strict)
        except _Bad as bad:
            return _reject(path, value, str(bad), self.default, notes, strict)


_BOOL_WORDS = {
    **dict.fromkeys(("true", "yes", "on", "1"), True),
    **dict.fromkeys(("false", "no", "off", "0"), False),
}


class _Bool(_Field):
    def __init__(self, default: bool) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> bool:
        if isinstance(value, bool):
            return value
        if not strict and isinstance(value, int) and value in (0, 1):
            return bool(value)
        if not strict and isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.strip().lower()]
        raise _Bad("is not true or false")


class _Int(_Field):
    def __init__(self, default: int, low: int, high: int) -> None:
        self.default, self.low, self.high = default, low, high

    def check(self, value: Any, strict: bool) -> int:
        number = _as_int(value, strict)
        if number is None:
            raise _Bad("is not a whole number")
        if not self.low <= number <= self.high:
            raise _Bad(f"is outside {self.low}-{self.high}")
        return number


class _Text(_Field):
    def __init__(self, default: str, max_chars: int, allow_empty: bool, strip: bool) -> None:
        self.default, self.max_chars = default, max_chars
        self.allow_empty, self.strip = allow_empty, strip

    def check(self, value: Any, strict: bool) -> str:
        if not isinstance(value, str):
            raise _Bad("is not text")
        if self.strip:
            value = value.strip()
        if not self.allow_empty and not value.strip():
            raise _Bad("is empty")
        if len(value) > self.max_chars:
            raise _Bad(f"is longer than {self.max_chars} characters")
        return value


class _Choice(_Field):
    def __init__(self, default: str, options: tuple[str, ...]) -> None:
        self.default, self.options = default, options

    def check(self, value: Any, strict: bool) -> str:
        if isinstance(value, str) and value.strip().lower() in self.options:
            return value.strip().lower()
        raise _Bad(f"is not one of {', '.join(self.options)}")


class _QuietHours(_Field):
    def __init__(self, default: str) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> str:
        if not isinstance(value, str):
            raise _Bad("is not text like 23:00-07:00")
        try:
            parse_quiet_hours(value)
        except ValueError as err:
            raise _Bad(f"is not valid quiet hours ({err})") from None
        return value.strip()


class _Regex(_Field):
    def __init__(self, default: str) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> str:
        if not isinstance(value, str) or not value:
            raise _Bad("is not a regular expression")
        if len(value) > MAX_REGEX_CHARS:
            raise _Bad(f"is longer than {MAX_REGEX_CHARS} characters")
        try:
            re.compile(value)
        except (re.error, RecursionError, OverflowError, ValueError) as err:
            raise _Bad(f"is not a valid regular expression ({err})") from None
        return value


class _Words(_Field):
    """``split_words``: a list of non-empty strings, kept exactly (``\\n`` is a word)."""

    def __init__(self, default: list[str]) -> None:
        self.default = default

    def collect(self, value: Any, path: str, notes: list[str], strict: bool) -> Any:
        if not isinstance(value, list):
            return _reject(path, value, "is not a list", self.default, notes, strict)
        words: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item or len(item) > 20:
                why = "is not text" if not isinstance(item, str) else "is not 1-20 characters"
                _reject_item(f"{path}[{index}]", item, why, notes, strict)
            else:
                words.append(item)
        return list(dict.fromkeys(words))  # first of each, in order


class _Interval(_Field):
    """``"1.5, 3.5"``: the pause between segments, min and max seconds (0-60)."""

    def __init__(self, default: str) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> str:
        low, high = _interval_bounds(value)
        return f"{_number_text(low)}, {_number_text(high)}"


def _interval_bounds(value: Any) -> tuple[float, float]:
    """``"1.5, 3.5"`` -> ``(1.5, 3.5)``, as written (min may exceed max); raise _Bad."""
    if not isinstance(value, str):
        raise _Bad("is not text like '1.5, 3.5'")
    parts = [part for part in re.split(r"[\s,，]+", value.strip()) if part]
    numbers = [_as_float(part) for part in parts]
    if not 1 <= len(numbers) <= 2 or any(n is None for n in numbers):
        raise _Bad("is not two numbers of seconds like '1.5, 3.5'")
    rounded = [round(n, 3) for n in numbers if n is not None]
    if any(not 0 <= n <= MAX_PAUSE_SECONDS for n in rounded):
        raise _Bad(f"is outside 0-{MAX_PAUSE_SECONDS:g} seconds")
    return rounded[0], rounded[-1]


class _LogBase(_Field):
    def __init__(self, default: str) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> str:
        number = _as_float(value) if isinstance(value, (str, int, float)) else None
        if number is None or not 1 < round(number, 6) <= 100:
            raise _Bad("is not a number above 1 (at most 100)")
        return _number_text(round(number, 6))


class _SessionList(_Field):
    """``session_list``: full UMOs of this kind, or bare ids (the 1.x style)."""

    def __init__(self, kind: str) -> None:
        self.default: list[str] = []
        self.kind = kind

    def collect(self, value: Any, path: str, notes: list[str], strict: bool) -> Any:
        if isinstance(value, str) and not strict:  # a hand-written "1, 2, 3"
            value = [part for part in re.split(r"[,，;\n]", value) if part.strip()]
        if not isinstance(value, list):
            return _reject(path, value, "is not a list", [], notes, strict)
        entries: list[str] = []
        for index, item in enumerate(value):
            try:
                entry = self._entry(item)
            except _Bad as bad:
                _reject_item(f"{path}[{index}]", item, str(bad), notes, strict)
                continue
            entries.append(entry)
        return list(dict.fromkeys(entries))  # first of each, in order

    def _entry(self, item: Any) -> str:
        if not isinstance(item, str):
            raise _Bad("is not text")
        entry = item.strip()
        if not entry:
            raise _Bad("is empty")
        if ":" not in entry:
            if len(entry) > MAX_UMO_LENGTH or any(ord(ch) < 32 for ch in entry):
                raise _Bad("is not a session id")
            return entry
        try:
            umo = parse_umo(entry)
        except ValueError:
            raise _Bad(f"is not a session id like {self._example()}") from None
        if umo.kind != self.kind:
            raise _Bad(f"is a {umo.kind} chat, not a {self.kind} chat")
        return entry

    def _example(self) -> str:
        kind = "FriendMessage" if self.kind == FRIEND else "GroupMessage"
        return f"aiocqhttp:{kind}:12345"


def _reject(path: str, value: Any, why: str, default: Any, notes: list[str], strict: bool) -> Any:
    if strict:
        notes.append(f"{path}: {_show(value)} {why}")
        return _MISSING
    notes.append(f"{path}: {_show(value)} {why}; using {_show_default(default)}")
    return copy.deepcopy(default)


def _key_name(key: Any) -> str:
    return key if isinstance(key, str) and key.isprintable() and len(key) <= 60 else _show(key)


def _reject_item(path: str, item: Any, why: str, notes: list[str], strict: bool) -> None:
    notes.append(f"{path}: {_show(item)} {why}" + ("" if strict else "; ignored"))


# --- the field table: the one place defaults live --------------------------------------


def _kind_spec(kind: str) -> dict[str, Any]:
    friend = kind == FRIEND
    spec: dict[str, Any] = {
        "enable": _Bool(friend),
        "session_list": _SessionList(kind),
        "proactive_prompt": _Text(
            DEFAULT_FRIEND_PROMPT if friend else DEFAULT_GROUP_PROMPT,
            MAX_PROMPT_CHARS,
            allow_empty=False,
            strip=False,
        ),
    }
    if not friend:
        spec["group_idle_trigger_minutes"] = _Int(30, 1, MAX_MINUTES)
    spec |= {
        "schedule_settings": {
            "min_interval_minutes": _Int(30 if friend else 90, 1, MAX_MINUTES),
            "max_interval_minutes": _Int(900 if friend else 360, 1, MAX_MINUTES),
            "quiet_hours": _QuietHours("1-7" if friend else "2-6"),
            "max_unanswered_times": _Int(3 if friend else 2, 0, 100),
        },
        "auto_trigger_settings": {
            "enable_auto_trigger": _Bool(False),
            "auto_trigger_after_minutes": _Int(5, 1, MAX_MINUTES),
        },
        "context_settings": {
            "conversation_history_limit": _Int(10, 0, 100),
        },
        "persona_settings": {
            "mode": _Choice("off", ("off", "select", "custom")),
            "select_persona": _Text("", 256, allow_empty=True, strip=True),
            "custom_persona": _Text("", MAX_PROMPT_CHARS, allow_empty=True, strip=False),
        },
        "segmented_reply_settings": {
            "enable": _Bool(False),
            "words_count_threshold": _Int(150, 0, 5000),
            "split_mode": _Choice("regex", ("regex", "words")),
            "regex": _Regex(r".*?[。？！~…\n]+|.+$"),
            "split_words": _Words(["。", "？", "！", "~", "…"]),
            "interval_method": _Choice("random", ("random", "log")),
            "interval": _Interval("1.5, 3.5"),
            "log_base": _LogBase("1.8"),
        },
        "tts_settings": {
            "enable_tts": _Bool(True),
            "always_send_text": _Bool(True),
        },
    }
    return spec


_KIND_SPECS = {FRIEND: _kind_spec(FRIEND), GROUP: _kind_spec(GROUP)}
# What a per-session override may hold: everything but the session list.
_OVERRIDE_SPECS = {
    kind: {key: field for key, field in spec.items() if key != "session_list"}
    for kind, spec in _KIND_SPECS.items()
}
_ENGINE_SPEC: dict[str, Any] = {
    "llm_timeout_seconds": _Int(60, 5, 600),
    "missed_window_minutes": _Int(60, 0, 1440),
    "journal_keep_days": _Int(30, 1, 3650),
    "journal_max_entries": _Int(50_000, 1000, 1_000_000),
}


def int_ranges() -> dict[str, dict[str, tuple[int, int]]]:
    """Per config group, the range each whole-number field accepts, by dotted path
    (``{"friend_settings": {"schedule_settings.max_unanswered_times": (0, 1000)}}``), so
    the panel's form can say so before the server refuses a value."""
    specs = {GROUP_OF_KIND[kind]: spec for kind, spec in _KIND_SPECS.items()}
    specs["engine_settings"] = _ENGINE_SPEC
    return {group: _int_ranges(spec, "") for group, spec in specs.items()}


def _int_ranges(spec: dict[str, Any], prefix: str) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for key, field in spec.items():
        if isinstance(field, dict):
            out.update(_int_ranges(field, f"{prefix}{key}."))
        elif isinstance(field, _Int):
            out[f"{prefix}{key}"] = (field.low, field.high)
    return out


def _defaults(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _defaults(field) if isinstance(field, dict) else copy.deepcopy(field.default)
        for key, field in spec.items()
    }


def kind_defaults(kind: str) -> dict[str, Any]:
    """A fresh copy of the default ``friend_settings`` / ``group_settings`` dict."""
    return _defaults(_KIND_SPECS[_check_kind(kind)])


def engine_defaults() -> dict[str, Any]:
    """A fresh copy of the default ``engine_settings`` dict."""
    return _defaults(_ENGINE_SPEC)


def _check_kind(kind: str) -> str:
    if kind not in _KIND_SPECS:
        raise ValueError(f"kind must be 'friend' or 'group', not {kind!r}")
    return kind


# --- lenient reading -----------------------------------------------------------------


def _lenient(spec: dict[str, Any], raw: Any, path: str, problems: list[str]) -> dict[str, Any]:
    if raw is None:
        return _defaults(spec)
    if not isinstance(raw, Mapping):
        problems.append(f"{path}: {_show(raw)} is not an object; using defaults")
        return _defaults(spec)
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
        low_s, high_s = _interval_bounds(segmented["interval"])
        if low_s > high_s:
            written = segmented["interval"]
            segmented["interval"] = f"{_number_text(high_s)}, {_number_text(low_s)}"
            problems.append(
                f"{path}.segmented_reply_settings.interval: {written!r} has its min above "
                f"its max; swapped to {segmented['interval']!r}"
            )


def normalize_kind_dict(raw: Any, kind: str) -> tuple[dict[str, Any], list[str]]:
    """``friend_settings`` / ``group_settings`` checked leniently: (full dict, problems)."""
    problems: list[str] = []
    path = GROUP_OF_KIND[_check_kind(kind)]
    d = _lenient(_KIND_SPECS[kind], _with_fork_aliases(raw), path, problems)
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
    return _lenient(_ENGINE_SPEC, raw, "engine_settings", problems), problems


def settings_from_dict(d: dict[str, Any], kind: str) -> SessionSettings:
    """The immutable settings of a normalized kind dict."""
    schedule = d["schedule_settings"]
    persona = d["persona_settings"]
    seg = d["segmented_reply_settings"]
    tts = d["tts_settings"]
    low, high = _interval_bounds(seg["interval"])
    extra = {"group_idle_trigger_minutes": d["group_idle_trigger_minutes"]} if kind == GROUP else {}
    return SessionSettings(
        kind=_check_kind(kind),
        enable=d["enable"],
        proactive_prompt=d["proactive_prompt"],
        schedule=ScheduleSettings(
            min_interval_minutes=schedule["min_interval_minutes"],
            max_interval_minutes=schedule["max_interval_minutes"],
            quiet_hours=parse_quiet_hours(schedule["quiet_hours"]),
            max_unanswered_times=schedule["max_unanswered_times"],
        ),
        auto_trigger_enabled=d["auto_trigger_settings"]["enable_auto_trigger"],
        auto_trigger_after_minutes=d["auto_trigger_settings"]["auto_trigger_after_minutes"],
        history_turns=d["context_settings"]["conversation_history_limit"],
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
        **extra,
    )


def _session_list(entries: list[str]) -> SessionList:
    return SessionList(
        umos=frozenset(e for e in entries if ":" in e),
        bare_ids=frozenset(e for e in entries if ":" not in e),
    )


def parse_plugin_config(raw: Mapping | None) -> tuple[PluginSettings, list[str]]:
    """The whole plugin config read leniently; ``web_admin`` is left to ``config.py``."""
    problems: list[str] = []
    if raw is not None and not isinstance(raw, Mapping):
        problems.append(f"plugin config: {_show(raw)} is not an object; using defaults")
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


# --- strict checking, for the admin API ------------------------------------------------


def _strict(spec: dict[str, Any], raw: Any, path: str, errors: list[str]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        errors.append(f"{path or 'settings'}: {_show(raw)} is not an object")
        return {}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        sub = f"{path}.{_key_name(key)}" if path else _key_name(key)
        field = spec.get(key) if isinstance(key, str) else None
        if field is None:
            errors.append(f"{sub}: unknown setting")
        elif isinstance(field, dict):
            out[key] = _strict(field, value, sub, errors)
        else:
            checked = field.collect(value, sub, errors, strict=True)
            if checked is not _MISSING:
                out[key] = checked
    return out


def _order_errors(d: dict[str, Any], path: str, errors: list[str]) -> None:
    """min above max, in a dict where both sides are present: an error, never a swap."""
    prefix = f"{path}." if path else ""
    schedule = d.get("schedule_settings")
    if isinstance(schedule, dict):
        low, high = schedule.get("min_interval_minutes"), schedule.get("max_interval_minutes")
        if low is not None and high is not None and low > high:
            errors.append(
                f"{prefix}schedule_settings: min_interval_minutes {low} is above "
                f"max_interval_minutes {high}"
            )
    segmented = d.get("segmented_reply_settings")
    if isinstance(segmented, dict) and "interval" in segmented:
        low_s, high_s = _interval_bounds(segmented["interval"])
        if low_s > high_s:
            errors.append(
                f"{prefix}segmented_reply_settings.interval: {segmented['interval']!r} "
                "has its min above its max"
            )


def validate_override(raw: Any, kind: str) -> tuple[dict[str, Any], list[str]]:
    """A per-session override checked strictly: (cleaned partial dict, errors).

    The keys are those of the kind's group except ``session_list``; nested groups may
    be partial. No errors means valid.
    """
    errors: list[str] = []
    cleaned = _strict(_OVERRIDE_SPECS[_check_kind(kind)], raw, "", errors)
    _order_errors(cleaned, "", errors)
    return cleaned, errors


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
    shared = plugin.friend if _check_kind(kind) == FRIEND else plugin.group
    if not override or not isinstance(override, Mapping):
        return shared
    base = plugin.friend_dict if kind == FRIEND else plugin.group_dict
    merged = merge_override(base or kind_defaults(kind), override)
    merged.pop("session_list", None)
    normalized = _lenient(_OVERRIDE_SPECS[kind], merged, GROUP_OF_KIND[kind], [])
    _swap_lenient(normalized, GROUP_OF_KIND[kind], [])
    return settings_from_dict(normalized, kind)


def validate_config_update(raw: Any, current: Any) -> tuple[dict[str, Any], list[str]]:
    """``PUT /api/config``: partial groups merged over ``current`` and checked strictly.

    Returns the new full dict of each group present in ``raw``, and the errors (none
    means the result may be saved).
    """
    if not isinstance(raw, Mapping):
        return {}, [f"config: {_show(raw)} is not an object"]
    current = current if isinstance(current, Mapping) else {}
    errors: list[str] = []
    result: dict[str, Any] = {}
    for group, value in raw.items():
        if group == "web_admin":
            errors.append(WEB_ADMIN_REFUSED)
            continue
        if group not in SCHEMA_GROUPS:
            errors.append(f"{_key_name(group)}: unknown config group")
            continue
        if group == "engine_settings":
            spec = _ENGINE_SPEC
            base, _ = normalize_engine_dict(current.get(group))
        else:
            kind = FRIEND if group == "friend_settings" else GROUP
            spec = _KIND_SPECS[kind]
            base, _ = normalize_kind_dict(current.get(group), kind)
        found: list[str] = []
        merged = merge_override(base, _strict(spec, value, group, found))
        if not found:
            _order_errors(merged, group, found)
        if found:
            errors += found
        else:
            result[group] = merged
    return result, errors
