"""Reads the 1.x plugin's JSON files so an upgrade keeps its sessions and settings.

The reference plugin (``astrbot_plugin_proactive_chat`` 1.2.x by DBJD-CR, and its
forks) keeps two files in the same data dir as ours:

``session_data.json``
    ``{"<umo>": {"unanswered_count": 2, "next_trigger_time": 1718000000.5,
    "last_message_time": 1717990000.1, "self_id": "123", ...}}``; other keys
    (``last_scheduled_at``, ``last_schedule_*``) only explain a past plan.
``session_overrides.json``
    ``{"<umo>": {"enable": true, "session_name": "...", "schedule_settings": {...},
    ...}}``: the same shape as a ``friend_settings``/``group_settings`` group.

Files written by hand or by older versions can hold anything, so every entry is
checked on its own; what cannot be used is skipped with one readable problem line.
Nothing here writes or deletes a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..engine.models import Phase, SessionState
from ..umo import kind_of, parse_umo

SESSION_FILE = "session_data.json"
OVERRIDES_FILE = "session_overrides.json"
MAX_FILE_BYTES = 64 * 1024 * 1024  # far beyond any real file; guards memory
MAX_PROBLEMS = 50
_LATEST_TIMESTAMP = 32_503_680_000.0  # year 3000: anything later is not a Unix time
IMPORTED_REASON = "imported from the 1.x plugin"


class _Problems(list[str]):
    """A list of problem lines that stops growing at MAX_PROBLEMS (counts the rest)."""

    def __init__(self) -> None:
        super().__init__()
        self.more = 0

    def add(self, line: str) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(line)
        else:
            self.more += 1

    def finish(self) -> list[str]:
        lines = list(self)
        if self.more:
            lines.append(f"... and {self.more} more problems")
        return lines


def read_legacy_files(
    data_dir: Path, *, now: float = 0.0
) -> tuple[list[SessionState], dict[str, dict], list[str]]:
    """Sessions, per-session overrides and problem lines found in ``data_dir``.

    Missing files are not a problem (nothing to import). ``now`` becomes the
    ``created_at`` of every imported session.
    """
    problems = _Problems()
    raw_overrides = _read_json_object(Path(data_dir) / OVERRIDES_FILE, problems)
    overrides: dict[str, dict] = {}
    for key, value in raw_overrides.items():
        umo = _checked_umo(OVERRIDES_FILE, key, problems)
        if umo is None:
            continue
        if not isinstance(value, dict):
            problems.add(f"{OVERRIDES_FILE}: {key!r}: the settings are not an object; skipped")
            continue
        overrides[umo] = value

    sessions: list[SessionState] = []
    raw_sessions = _read_json_object(Path(data_dir) / SESSION_FILE, problems)
    for key, value in raw_sessions.items():
        umo = _checked_umo(SESSION_FILE, key, problems)
        if umo is None:
            continue
        if not isinstance(value, dict):
            problems.add(f"{SESSION_FILE}: {key!r}: the entry is not an object; skipped")
            continue
        name = overrides.get(umo, {}).get("session_name")
        sessions.append(_session_from(umo, value, name, now, problems))
    return sessions, overrides, problems.finish()


def _read_json_object(path: Path, problems: _Problems) -> dict[str, Any]:
    """The file's top-level object, or {} (with a problem line unless the file is absent)."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        problems.add(f"{path.name}: cannot be read ({exc}); skipped")
        return {}
    if len(raw) > MAX_FILE_BYTES:
        problems.add(f"{path.name}: larger than {MAX_FILE_BYTES // 2**20} MiB; skipped")
        return {}
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        problems.add(f"{path.name}: not UTF-8 text; skipped")
        return {}
    except (ValueError, RecursionError) as exc:
        problems.add(f"{path.name}: not valid JSON ({exc}); skipped")
        return {}
    if not isinstance(data, dict):
        problems.add(f"{path.name}: the top level is not an object; skipped")
        return {}
    return data


def _checked_umo(file_name: str, key: str, problems: _Problems) -> str | None:
    try:
        umo = str(parse_umo(key))
    except ValueError as exc:
        if ":" not in key and key.strip():
            problems.add(
                f"{file_name}: {key!r} is a bare id: it cannot be mapped to a session "
                "(which platform, private or group?); skipped"
            )
        else:
            problems.add(f"{file_name}: {exc}; skipped")
        return None
    return umo if kind_of(umo) else None


def _session_from(
    umo: str, entry: dict[str, Any], name: Any, now: float, problems: _Problems
) -> SessionState:
    bad: list[str] = []
    unanswered = _count(entry.get("unanswered_count"), "unanswered_count", bad)
    next_at = _timestamp(entry.get("next_trigger_time"), "next_trigger_time", bad)
    last_message = _timestamp(entry.get("last_message_time"), "last_message_time", bad)
    if name is not None and not isinstance(name, str):
        bad.append("session_name")
        name = None
    if bad:
        problems.add(f"{SESSION_FILE}: {umo!r}: ignored unusable {', '.join(bad)}")
    return SessionState(
        umo=umo,
        kind=kind_of(umo) or "",
        name=(name or "").strip()[:200],
        last_user_at=last_message,
        last_activity_at=last_message,
        unanswered=unanswered,
        next_at=next_at,
        phase=Phase.PLANNED if next_at is not None else Phase.IDLE,
        next_reason=IMPORTED_REASON if next_at is not None else "",
        created_at=now,
    )


def _count(value: Any, key: str, bad: list[str]) -> int:
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        bad.append(key)
        return 0
    return value


def _timestamp(value: Any, key: str, bad: list[str]) -> float | None:
    if value is None or value == 0:  # the 1.x plugin's "no time"
        return None
    # (NaN and infinities fail the range check too)
    if isinstance(value, bool) or not isinstance(value, int | float):
        bad.append(key)
        return None
    if not 0 < value < _LATEST_TIMESTAMP:
        bad.append(key)
        return None
    return float(value)
