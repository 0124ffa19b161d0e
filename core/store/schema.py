"""The store's tables and how a file is brought up to them (worker thread only).

The file is marked as ours (``APPLICATION_ID``) and versioned (``SCHEMA_VERSION`` in
``user_version``); a file from a newer version is never written (recovery.py moves it
aside). The counters table came after schema 1 without a version bump, so a file that
has it still opens in older versions of the plugin; it is created once, counted from
the journal rows already there, in one transaction: counted once or not at all. The
session columns added later (``talk`` and ``recent_sent``: what the chat said lately, the
bot's last proactive messages; ``moments_fired``) came the same way: added to an older
file by ``ALTER TABLE``, without a version bump. The
habits table came the same way.
"""

from __future__ import annotations

import sqlite3
from operator import attrgetter
from pathlib import Path

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from .transaction import immediate

APPLICATION_ID = 0x50434854  # "PCHT": marks the file as this plugin's store
SCHEMA_VERSION = 1
# Durable per-day statistics: the journal is pruned by age and by count (50,000 entries
# can be less than a day on a busy bot), so these kinds are also counted per 15-minute
# UTC bucket. Every zone offset in use (+05:30, +05:45, DST) is a whole number of
# quarter hours, so each bucket falls in exactly one local day of any zone.
COUNTED_KINDS = frozenset({"sent", "answered", "capped", "send_failed", "llm_failed"})
BUCKET_SECONDS = 900
COUNTER_KEEP_DAYS = 400

SESSION_COLUMNS = (
    "umo",
    "kind",
    "name",
    "last_user_at",
    "last_bot_at",
    "last_activity_at",
    "unanswered",
    "next_at",
    "phase",
    "next_reason",
    "paused",
    "created_at",
    "sent_total",
    "talk",  # JSON, added after schema 1 (``_ensure_session_columns``)
    "recent_sent",  # JSON, added after schema 1
    "moments_fired",  # added after schema 1
)
row_of = attrgetter(*SESSION_COLUMNS)  # one C call per dirty session at flush time

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sessions (
        umo TEXT PRIMARY KEY NOT NULL, kind TEXT, name TEXT,
        last_user_at REAL, last_bot_at REAL, last_activity_at REAL,
        unanswered INTEGER, next_at REAL, phase TEXT, next_reason TEXT,
        paused INTEGER, created_at REAL, sent_total INTEGER)""",
    """CREATE TABLE IF NOT EXISTS overrides (
        umo TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL, updated_at REAL)""",
    """CREATE TABLE IF NOT EXISTS journal (
        id INTEGER PRIMARY KEY, at REAL, umo TEXT, kind TEXT, reason TEXT, detail TEXT)""",
    "CREATE INDEX IF NOT EXISTS journal_at ON journal (at)",
    "CREATE INDEX IF NOT EXISTS journal_umo_at ON journal (umo, at)",
    "CREATE INDEX IF NOT EXISTS journal_kind_at ON journal (kind, at)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT)",
)
# Columns added to ``sessions`` after schema 1, without a version bump: older versions
# name their columns, so they read and write such a file as before.
ADDED_SESSION_COLUMNS = {"talk": "TEXT", "recent_sent": "TEXT", "moments_fired": "TEXT"}
# Added after schema 1 without a version bump: a file that has it still opens in older
# versions of the plugin (they ignore the table) instead of being moved aside as "newer".
_COUNTERS_TABLE = (
    "CREATE TABLE IF NOT EXISTS counters (bucket INTEGER NOT NULL, kind TEXT NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY (bucket, kind)) WITHOUT ROWID"
)
# Learned habits per session (core/engine/habits.py: a fixed-size blob each). Added the
# same way as the counters: a file from before gets the table at its next open, and
# older versions of the plugin still open the file (they ignore the table).
_HABITS_TABLE = (
    "CREATE TABLE IF NOT EXISTS habits (umo TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL)"
)


def prepare(conn: sqlite3.Connection, path: Path) -> None:
    """WAL, ``synchronous=NORMAL`` and every table, on a file that is ours or empty."""
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
        with immediate(conn):
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    _ensure_counters(conn, path)
    _ensure_session_columns(conn)
    if not has_table(conn, "habits"):
        with immediate(conn):
            conn.execute(_HABITS_TABLE)


def _ensure_session_columns(conn: sqlite3.Connection) -> None:
    """Add the session columns that came after schema 1 (an older file, or a new one:
    the table is created without them so a file stays readable by older versions)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    missing = [name for name in ADDED_SESSION_COLUMNS if name not in have]
    if not missing:
        return
    with immediate(conn):
        have = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
        for name in missing:
            if name not in have:  # added meanwhile by another connection
                conn.execute(
                    f"ALTER TABLE sessions ADD COLUMN {name} {ADDED_SESSION_COLUMNS[name]}"
                )


def _ensure_counters(conn: sqlite3.Connection, path: Path) -> None:
    """Create the counters table once, counted from the journal rows already there
    (a store from before it existed), in one transaction: counted once or not at all."""
    if has_table(conn, "counters"):
        return
    with immediate(conn):
        if has_table(conn, "counters"):  # created meanwhile by another connection
            return
        conn.execute(_COUNTERS_TABLE)
        kinds = sorted(COUNTED_KINDS)
        before = conn.total_changes
        conn.execute(
            "INSERT INTO counters (bucket, kind, n) "
            f"SELECT CAST(at / {BUCKET_SECONDS} AS INTEGER) AS b, kind, count(*) "
            "FROM journal WHERE typeof(at) IN ('real', 'integer') AND at >= 0 "
            f"AND kind IN ({', '.join('?' * len(kinds))}) "
            "GROUP BY b, kind",
            kinds,
        )
        backfilled = conn.total_changes - before
    if backfilled:
        logger.info(
            "%s Daily statistics: counted the journal entries already in %s.",
            LOG_PREFIX,
            path,
        )


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return conn.execute(query, (name,)).fetchone() is not None
