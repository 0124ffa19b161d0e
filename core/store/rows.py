"""Conversions between the engine's objects and SQLite rows, in both directions.

Writing: any value becomes one SQLite can bind (text with a lone surrogate, a huge int,
an odd type), so one bad value never blocks every later write. Reading: a row written
by hand or by an older version becomes a well-typed object or raises ``TypeError`` /
``ValueError`` for the caller to skip; JSON that is not an object reads as None.
"""

from __future__ import annotations

import json
from typing import Any

from ..engine.models import JournalEntry, Phase, SessionState
from .schema import BUCKET_SECONDS

# --- writing ---------------------------------------------------------------------------


def sql_value(value: Any) -> Any:
    """A value SQLite can bind: one odd value must not block every later write."""
    kind = type(value)
    if kind is str:
        return clean_text(value)
    if value is None or kind is float:
        return value
    if kind is bool:
        return int(value)
    if kind is int:
        return value if -(2**63) <= value < 2**63 else str(value)
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if kind is tuple:  # a session's recent lines (talk, recent_sent): JSON, or NULL
        return dumps(value) if value else None
    return clean_text(str(value))


def clean_text(value: str) -> str:
    """Text SQLite can store: a lone surrogate (half an emoji from a model or a chat)
    would make every later flush fail, so it becomes "?"."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def sql_row(row: tuple) -> tuple:
    return tuple(map(sql_value, row))


def dumps(value: Any) -> str:
    """JSON text, lenient: what cannot be written becomes ``{}``."""
    try:
        return clean_text(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError, RecursionError):
        return "{}"


def journal_row(entry: JournalEntry) -> tuple:
    return (
        entry.id,
        sql_value(entry.at),
        sql_value(entry.umo),
        sql_value(entry.kind),
        sql_value(entry.reason),
        dumps(entry.detail),
    )


def bucket_of(at: Any) -> int | None:
    """The counters' 15-minute bucket of a time, or None for one that is not a time."""
    try:
        value = float(at)
    except (TypeError, ValueError):
        return None
    if not (0.0 <= value < 1e12):  # also refuses NaN and infinities
        return None
    return int(value // BUCKET_SECONDS)


# --- reading ---------------------------------------------------------------------------


def loads_dict(text: Any) -> dict | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def entry_of(row: tuple) -> JournalEntry:
    entry_id, at, umo, kind, reason, detail = row
    return JournalEntry(
        at=float(at or 0.0),
        umo=str(umo or ""),
        kind=str(kind or ""),
        reason=str(reason or ""),
        detail=loads_dict(detail) or {},
        id=entry_id,
    )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def state_of(row: tuple, damaged: list[str] | None = None) -> SessionState:
    """The session of a row; recent lines that cannot be read are dropped (the session
    is kept) and its UMO added to ``damaged``."""
    (umo, kind, name, last_user, last_bot, last_activity) = row[:6]
    (unanswered, next_at, phase, reason, paused, created, sent) = row[6:13]
    talk, recent_sent, moments_fired = (*row[13:16], None, None, None)[:3]
    lines = recent_lines(talk, with_name=True), recent_lines(recent_sent, with_name=False)
    if None in lines and damaged is not None:
        damaged.append(str(umo))
    return SessionState(
        umo=str(umo),
        kind=str(kind or ""),
        name=str(name or ""),
        last_user_at=_opt_float(last_user),
        last_bot_at=_opt_float(last_bot),
        last_activity_at=_opt_float(last_activity),
        unanswered=int(unanswered or 0),
        next_at=_opt_float(next_at),
        phase=str(phase or Phase.IDLE),
        next_reason=str(reason or ""),
        paused=bool(paused),
        created_at=float(created or 0.0),
        sent_total=int(sent or 0),
        talk=lines[0] or (),
        recent_sent=lines[1] or (),
        moments_fired=str(moments_fired or ""),
    )


MAX_STORED_LINES = 50  # more than any ring holds (chat_context.py): a bound on reading
_LINE_TEXT_CHARS = 2000


def recent_lines(text: Any, *, with_name: bool) -> tuple | None:
    """A stored list of recent lines as tuples; () for none, None when it is damaged.

    ``with_name``: ``[time, name or null, text]`` (talk), else ``[time, text]``."""
    if text is None or text == "":
        return ()
    try:
        items = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None
    if not isinstance(items, list):
        return None
    lines: list[tuple] = []
    for item in items[-MAX_STORED_LINES:]:
        if not isinstance(item, list) or len(item) != (3 if with_name else 2):
            return None
        at, said = item[0], item[-1]
        if not isinstance(at, int | float) or isinstance(at, bool) or not isinstance(said, str):
            return None
        if not with_name:
            lines.append((float(at), said[:_LINE_TEXT_CHARS]))
        elif item[1] is None or isinstance(item[1], str):
            lines.append((float(at), item[1], said[:_LINE_TEXT_CHARS]))
        else:
            return None
    return tuple(lines)
