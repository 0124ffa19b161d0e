"""Every write on the store's connection (worker thread only).

A batch of session rows, deletions and journal entries is one ``BEGIN IMMEDIATE``
transaction, together with the per-day counters of the kinds in ``COUNTED_KINDS``
(which outlive the pruned journal). Journal entries are written with ``OR REPLACE``
and counted only when not stored yet, so writing a batch again after a flush whose
outcome is unknown neither duplicates nor double-counts. Overrides are written one at
a time and strictly: a setting that cannot be saved fails instead of becoming ``{}``.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from typing import Any

from ..engine.models import JournalEntry, SessionState
from .rows import bucket_of, dumps, journal_row, sql_row
from .schema import BUCKET_SECONDS, COUNTED_KINDS, COUNTER_KEEP_DAYS, SESSION_COLUMNS, row_of
from .transaction import immediate

_ID_CHUNK = 500  # ids per "already stored?" lookup (below SQLite's variable limit)
_COLUMNS = ", ".join(SESSION_COLUMNS)
_MARKS = ", ".join("?" * len(SESSION_COLUMNS))

_BUMP_COUNTER = (
    "INSERT INTO counters (bucket, kind, n) VALUES (?, ?, ?) "
    "ON CONFLICT (bucket, kind) DO UPDATE SET n = n + excluded.n"
)
_UPSERT_SESSION = (
    f"INSERT INTO sessions ({_COLUMNS}) VALUES ({_MARKS}) ON CONFLICT (umo) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in SESSION_COLUMNS[1:])
)
# OR REPLACE: re-writing an entry after a flush whose outcome is unknown is harmless.
_INSERT_JOURNAL = (
    "INSERT OR REPLACE INTO journal (id, at, umo, kind, reason, detail) VALUES (?, ?, ?, ?, ?, ?)"
)


_UPSERT_HABITS = (
    "INSERT INTO habits (umo, data) VALUES (?, ?) "
    "ON CONFLICT (umo) DO UPDATE SET data = excluded.data"
)


def write_batch(
    conn: sqlite3.Connection,
    rows: list[tuple],
    deletes: list[str],
    journal: list[JournalEntry],
    habits: dict[str, bytes] | None = None,
) -> int:
    """Write one batch (with the learned-habit profiles that changed) in one transaction;
    return the number of rows written."""
    with immediate(conn):
        if habits:
            conn.executemany(_UPSERT_HABITS, list(habits.items()))
        if rows:
            conn.executemany(_UPSERT_SESSION, [sql_row(row) for row in rows])
        if deletes:
            conn.executemany("DELETE FROM sessions WHERE umo = ?", [(u,) for u in deletes])
            conn.executemany("DELETE FROM habits WHERE umo = ?", [(u,) for u in deletes])
        if journal:
            counts = _new_counts(conn, journal)  # before the rows exist
            conn.executemany(_INSERT_JOURNAL, [journal_row(e) for e in journal])
            if counts:
                conn.executemany(_BUMP_COUNTER, [(*key, n) for key, n in counts.items()])
    return len(rows) + len(deletes) + len(journal) + len(habits or ())


def _new_counts(conn: sqlite3.Connection, journal: list[JournalEntry]) -> Counter[tuple[int, str]]:
    """(bucket, kind) -> entries to count. An entry already stored (written again
    after a flush whose outcome was unknown, see ``_INSERT_JOURNAL``) was counted then."""
    counted = [e for e in journal if e.kind in COUNTED_KINDS]
    if not counted:
        return Counter()
    ids = [e.id for e in counted if isinstance(e.id, int)]
    stored: set[int] = set()
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        sql = f"SELECT id FROM journal WHERE id IN ({', '.join('?' * len(chunk))})"
        stored.update(row[0] for row in conn.execute(sql, chunk))
    counts: Counter[tuple[int, str]] = Counter()
    for e in counted:
        bucket = bucket_of(e.at)
        if bucket is not None and e.id not in stored:
            counts[(bucket, e.kind)] += 1
    return counts


def save_override(conn: sqlite3.Connection, umo: str, data: dict, now: float) -> None:
    conn.execute(
        "INSERT INTO overrides (umo, data, updated_at) VALUES (?, ?, ?) ON CONFLICT (umo) "
        "DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
        # Strict: a setting that cannot be saved must fail, not become {}.
        (umo, json.dumps(data, ensure_ascii=False, default=str), now),
    )


def delete_override(conn: sqlite3.Connection, umo: str) -> None:
    conn.execute("DELETE FROM overrides WHERE umo = ?", (umo,))


def prune(conn: sqlite3.Connection, keep_days: int, max_entries: int, now: float) -> int:
    """Drop old journal entries and counters; return the number of entries deleted."""
    with immediate(conn):
        before = conn.total_changes
        if keep_days > 0:
            conn.execute("DELETE FROM journal WHERE at < ?", (now - keep_days * 86400.0,))
        if max_entries > 0:
            conn.execute(
                "DELETE FROM journal WHERE id < "
                "(SELECT id FROM journal ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (max_entries - 1,),
            )
        deleted = conn.total_changes - before
        oldest = (now - COUNTER_KEEP_DAYS * 86400.0) // BUCKET_SECONDS
        conn.execute("DELETE FROM counters WHERE bucket < ?", (int(oldest),))
    return deleted


def import_legacy(
    conn: sqlite3.Connection,
    sessions: list[SessionState],
    overrides: dict[str, dict],
    meta_key: str,
    found: dict[str, Any],
    now: float,
) -> tuple[int, int]:
    """Add the 1.x sessions and overrides the store does not know yet, and mark the
    import done under ``meta_key``, in one transaction; return (new sessions, new
    overrides)."""
    with immediate(conn):
        before = conn.total_changes
        conn.executemany(
            f"INSERT OR IGNORE INTO sessions ({_COLUMNS}) VALUES ({_MARKS})",
            [sql_row(row_of(s)) for s in sessions],
        )
        new_sessions = conn.total_changes - before
        before = conn.total_changes
        conn.executemany(
            "INSERT OR IGNORE INTO overrides (umo, data, updated_at) VALUES (?, ?, ?)",
            [(umo, dumps(data), now) for umo, data in overrides.items()],
        )
        new_overrides = conn.total_changes - before
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (meta_key, dumps(found))
        )
    return new_sessions, new_overrides
