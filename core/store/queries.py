"""Every read on the store's connection (worker thread only): sessions and overrides at
start, journal pages and counts, and per-day statistics.

A row that cannot be read is skipped (sessions: counted and logged once per load), never
raised: a hand-edited or half-migrated file still loads everything else.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, tzinfo
from pathlib import Path

from ..constants import LOG_PREFIX
from ..engine.models import JournalEntry, SessionState
from ..plugin_log import logger
from .rows import entry_of, loads_dict, state_of
from .schema import BUCKET_SECONDS, SESSION_COLUMNS

_JOURNAL_SELECT = "SELECT id, at, umo, kind, reason, detail FROM journal"


def load_sessions(conn: sqlite3.Connection, path: Path) -> list[SessionState]:
    cursor = conn.execute(f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions")
    states, bad = [], 0
    damaged: list[str] = []
    for row in cursor:
        try:
            states.append(state_of(row, damaged))
        except (TypeError, ValueError):
            bad += 1
    if bad:
        logger.warning("%s Skipped %d unreadable sessions in %s.", LOG_PREFIX, bad, path)
    if damaged:  # never the lines themselves: they are what people wrote
        logger.warning(
            "%s Dropped the unreadable recent messages of %d sessions in %s (the sessions "
            "are kept; the model sees no recent messages there until new ones come).",
            LOG_PREFIX,
            len(damaged),
            path,
        )
    return states


def load_overrides(conn: sqlite3.Connection) -> dict[str, dict]:
    result = {}
    for umo, data in conn.execute("SELECT umo, data FROM overrides"):
        value = loads_dict(data)
        if value is not None and isinstance(umo, str):
            result[umo] = value
    return result


def load_habits(conn: sqlite3.Connection) -> dict[str, bytes]:
    """Every stored learned-habit profile as stored; the engine checks each (a corrupt
    one is dropped there, with a log line)."""
    result = {}
    for umo, data in conn.execute("SELECT umo, data FROM habits"):
        if isinstance(umo, str) and isinstance(data, bytes):
            result[umo] = data
        elif isinstance(umo, str):
            result[umo] = b""  # not a blob: reported as corrupt by the engine
    return result


def query(conn: sqlite3.Connection, where: str, params: list, limit: int) -> list[JournalEntry]:
    """Journal entries newest first; ``where`` comes from the loop side's filter."""
    sql = f"{_JOURNAL_SELECT}{where} ORDER BY id DESC LIMIT ?"
    return [entry_of(row) for row in conn.execute(sql, [*params, limit])]


def count(conn: sqlite3.Connection, where: str, params: list) -> int:
    return conn.execute(f"SELECT count(*) FROM journal{where}", params).fetchone()[0]


def daily_counts(
    conn: sqlite3.Connection, since: float, offset: int, kinds: list[str]
) -> list[tuple[str, str, int]]:
    marks = ", ".join("?" * len(kinds))
    sql = (
        "SELECT date(at + ?, 'unixepoch') AS day, kind, count(*) FROM journal "
        f"WHERE at >= ? AND kind IN ({marks}) GROUP BY day, kind ORDER BY day, kind"
    )
    rows = conn.execute(sql, [offset, since, *kinds])
    return [(str(day), str(kind), int(n)) for day, kind, n in rows]


def daily_totals(
    conn: sqlite3.Connection, since: float, until: float, tz: tzinfo | None
) -> dict[str, dict[str, int]]:
    """``{"YYYY-MM-DD": {kind: n}}`` of the counters in [since, until), by local day
    in ``tz`` (None: the server's local zone), for the buckets that start in it."""
    first = int(since // BUCKET_SECONDS) + (since % BUCKET_SECONDS > 0)
    last = int(until // BUCKET_SECONDS) + (until % BUCKET_SECONDS > 0)
    rows = conn.execute(
        "SELECT bucket, kind, n FROM counters WHERE bucket >= ? AND bucket < ?",
        (first, last),
    )
    days: dict[str, dict[str, int]] = {}
    day_of: dict[int, str] = {}  # 96 buckets a day share one date: convert once each
    for bucket, kind, n in rows:
        day = day_of.get(bucket)
        if day is None:
            day = day_of[bucket] = (
                datetime.fromtimestamp(bucket * BUCKET_SECONDS, tz).date().isoformat()
            )
        per_kind = days.setdefault(day, {})
        per_kind[kind] = per_kind.get(kind, 0) + int(n)
    return days
