"""Checking the engine's config strictly: what the admin API accepts.

Every bad or unknown key is an error, a minimum above its maximum is an error (never
a swap), and nothing is saved unless there are no errors. ``web_admin`` is refused:
it holds the panel's password and address, so only AstrBot's dashboard changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...config_checks import short_repr
from ...umo import FRIEND, GROUP
from .fields import MISSING, interval_bounds
from .lenient import merge_override, normalize_engine_dict, normalize_kind_dict
from .table import ENGINE_SPEC, KIND_SPECS, OVERRIDE_SPECS, SCHEMA_GROUPS, check_kind

WEB_ADMIN_REFUSED = (
    "web_admin: can only be changed in AstrBot's dashboard "
    "(it holds the panel's password and address)"
)


def _key_name(key: Any) -> str:
    return key if isinstance(key, str) and key.isprintable() and len(key) <= 60 else short_repr(key)


def _strict(spec: dict[str, Any], raw: Any, path: str, errors: list[str]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        errors.append(f"{path or 'settings'}: {short_repr(raw)} is not an object")
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
            if checked is not MISSING:
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
        low_s, high_s = interval_bounds(segmented["interval"])
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
    cleaned = _strict(OVERRIDE_SPECS[check_kind(kind)], raw, "", errors)
    _order_errors(cleaned, "", errors)
    return cleaned, errors


def validate_config_update(raw: Any, current: Any) -> tuple[dict[str, Any], list[str]]:
    """``PUT /api/config``: partial groups merged over ``current`` and checked strictly.

    Returns the new full dict of each group present in ``raw``, and the errors (none
    means the result may be saved).
    """
    if not isinstance(raw, Mapping):
        return {}, [f"config: {short_repr(raw)} is not an object"]
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
            spec = ENGINE_SPEC
            base, _ = normalize_engine_dict(current.get(group))
        else:
            kind = FRIEND if group == "friend_settings" else GROUP
            spec = KIND_SPECS[kind]
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
