"""The store's SQLite side: everything here runs in the store's one worker thread.

``_Db`` owns the connection (WAL, ``synchronous=NORMAL``): it opens or creates the
file, moves a damaged, foreign or newer file aside, imports the 1.x JSON files once,
and writes a batch in one ``BEGIN IMMEDIATE`` transaction (with the per-day counters
of the kinds in ``COUNTED_KINDS``, which outlive the pruned journal). ``SessionStore``
(session_store.py) is the loop side that batches changes and calls into it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, tzinfo
from operator import attrgetter
from pathlib import Path
from typing import Any

from ..constants import LOG_PREFIX
from ..engine.models import JournalEntry, Phase, SessionState
from .legacy_import import OVERRIDES_FILE, SESSION_FILE, read_legacy_files

logger = logging.getLogger("astrbot")

APPLICATION_ID = 0x50434854  # "PCHT": marks the file as this plugin's store
SCHEMA_VERSION = 1
BUSY_TIMEOUT = 5.0  # seconds SQLite waits for a lock held by another connection
LEGACY_META_KEY = "legacy_json_import"
# Durable per-day statistics: the journal is pruned by age and by count (50,000 entries
# can be less than a day on a busy bot), so these kinds are also counted per 15-minute
# UTC bucket. Every zone offset in use (+05:30, +05:45, DST) is a whole number of
# quarter hours, so each bucket falls in exactly one local day of any zone.
COUNTED_KINDS = frozenset({"sent", "answered", "capped", "send_failed", "llm_failed"})
BUCKET_SECONDS = 900
COUNTER_KEEP_DAYS = 400
_ID_CHUNK = 500  # ids per "already stored?" lookup (below SQLite's variable limit)

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
)
_row_of = attrgetter(*SESSION_COLUMNS)  # one C call per dirty session at flush time

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
# Added after schema 1 without a version bump: a file that has it still opens in older
# versions of the plugin (they ignore the table) instead of being moved aside as "newer".
_COUNTERS_TABLE = (
    "CREATE TABLE IF NOT EXISTS counters (bucket INTEGER NOT NULL, kind TEXT NOT NULL, "
    "n INTEGER NOT NULL, PRIMARY KEY (bucket, kind)) WITHOUT ROWID"
)
_BUMP_COUNTER = (
    "INSERT INTO counters (bucket, kind, n) VALUES (?, ?, ?) "
    "ON CONFLICT (bucket, kind) DO UPDATE SET n = n + excluded.n"
)
_UPSERT_SESSION = (
    f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(SESSION_COLUMNS))}) ON CONFLICT (umo) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in SESSION_COLUMNS[1:])
)
# OR REPLACE: re-writing an entry after a flush whose outcome is unknown is harmless.
_INSERT_JOURNAL = (
    "INSERT OR REPLACE INTO journal (id, at, umo, kind, reason, detail) VALUES (?, ?, ?, ?, ?, ?)"
)
_JOURNAL_SELECT = "SELECT id, at, umo, kind, reason, detail FROM journal"


class StoreUnavailable(Exception):
    """The store cannot be used; the message says what is wrong and what to do."""


class _FileGone(OSError):
    """The store file was deleted or replaced while the connection was open."""


# --- the worker side: everything below runs in the store's one thread ----------------


class _Db:
    """The SQLite connection and every operation on it (worker thread only)."""

    def __init__(self, path: Path, clock: Callable[[], float], legacy_dir: Path) -> None:
        self.path = path
        self.clock = clock
        self.legacy_dir = legacy_dir
        self.conn: sqlite3.Connection | None = None
        self.thread: threading.Thread | None = None
        self._inode: tuple[int, int] | None = None

    # open ---------------------------------------------------------------------------

    def open(self) -> int:
        """Open or create the store; return the highest journal id in it."""
        self.thread = threading.current_thread()
        where = self.path.parent
        try:
            where.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot create the folder {where} for the store ({exc}); "
                "make sure it can be created and written by the user running AstrBot"
            ) from exc
        _keep_private(where, self.path)
        moved = False
        problem = self._inspect_existing()
        if problem is not None:
            tag, found = problem
            target = self._move_aside(tag)
            moved = True
            logger.warning(
                "%s The store file %s %s. It was moved to %s and a fresh store was started "
                "(session plans and the journal start empty; the old file is kept for you).",
                LOG_PREFIX,
                self.path,
                found,
                target,
            )
            _keep_private(where, self.path)
        try:
            if self.conn is None:
                self.conn = self._connect()
            self._prepare()
            max_id = self.conn.execute("SELECT max(id) FROM journal").fetchone()[0] or 0
            self._inode = self._stat_key()
        except (sqlite3.Error, OSError) as exc:
            self.close(optimize=False)
            raise StoreUnavailable(
                f"cannot create the store {self.path} ({exc}); make sure {where} is "
                "writable by the user running AstrBot and the disk is not full"
            ) from exc
        if not moved:  # a store that was moved aside had imported them already
            try:
                self._import_legacy_once()
            except Exception:  # an import must never keep the store from opening
                logger.warning(
                    "%s Could not import the 1.x files from %s; will try again at the next start.",
                    LOG_PREFIX,
                    self.legacy_dir,
                    exc_info=True,
                )
        return int(max_id)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        return conn

    def _inspect_existing(self) -> tuple[str, str] | None:
        """(tag, what was found) when the existing file cannot be used as is, else None.

        Keeps the connection open in ``self.conn`` when the file is fine.
        """
        try:
            with self.path.open("rb") as file:
                header = file.read(100)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot read the store {self.path} ({exc}); make it readable and writable "
                "by the user running AstrBot"
            ) from exc
        if not header:
            return None  # an empty file is a new SQLite database
        if not header.startswith(b"SQLite format 3\x00"):
            return "corrupt", "is not an SQLite database"
        if len(header) < 100:
            return "corrupt", "is truncated"
        try:
            conn = self._connect()
        except sqlite3.Error as exc:
            return self._classify_open_error(exc)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if app_id != APPLICATION_ID and (app_id != 0 or tables):
                shown = ", ".join(sorted(tables)[:5]) or "none"
                conn.close()
                return "foreign", (
                    f"belongs to another program (application_id {app_id}, tables: {shown})"
                )
            if version > SCHEMA_VERSION:
                conn.close()
                return "newer", (
                    f"was written by a newer version of the plugin (schema {version}, "
                    f"this version reads up to {SCHEMA_VERSION})"
                )
            check = conn.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                conn.close()
                return "corrupt", f"is damaged ({check[0][0] if check else 'no answer'})"
        except sqlite3.Error as exc:
            conn.close()
            return self._classify_open_error(exc)
        self.conn = conn
        return None

    def _classify_open_error(self, exc: sqlite3.Error) -> tuple[str, str]:
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
            return "corrupt", f"is damaged ({exc})"
        raise StoreUnavailable(
            f"cannot open the store {self.path} ({exc}); {_advice(exc, self.path)}"
        )

    def _move_aside(self, tag: str) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock()))
        base = f"{self.path.name}.{tag}-{stamp}"
        number = 1
        while (self.path.parent / base).exists():
            number += 1
            base = f"{self.path.name}.{tag}-{stamp}-{number}"
        target = self.path.parent / base
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                source = Path(f"{self.path}{suffix}")
                if source.exists():
                    os.replace(source, Path(f"{target}{suffix}"))
        except OSError as exc:
            raise StoreUnavailable(
                f"the store {self.path} cannot be used and could not be moved aside ({exc}); "
                "move or rename it by hand, then reload the plugin"
            ) from exc
        return target

    def _prepare(self) -> None:
        conn = self.conn
        assert conn is not None
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        self._ensure_counters()

    def _ensure_counters(self) -> None:
        """Create the counters table once, counted from the journal rows already there
        (a store from before it existed), in one transaction: counted once or not at all."""
        conn = self.conn
        assert conn is not None
        if _has_table(conn, "counters"):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _has_table(conn, "counters"):  # created meanwhile by another connection
                conn.execute("ROLLBACK")
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
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        if backfilled:
            logger.info(
                "%s Daily statistics: counted the journal entries already in %s.",
                LOG_PREFIX,
                self.path,
            )

    def _stat_key(self) -> tuple[int, int]:
        info = os.stat(self.path)
        return info.st_dev, info.st_ino

    def _import_legacy_once(self) -> None:
        conn = self.conn
        assert conn is not None
        done = conn.execute("SELECT 1 FROM meta WHERE key = ?", (LEGACY_META_KEY,)).fetchone()
        if done:
            return
        now = self.clock()
        sessions, overrides, problems = read_legacy_files(self.legacy_dir, now=now)
        found = {"at": now, "sessions": len(sessions), "overrides": len(overrides)}
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            conn.executemany(
                f"INSERT OR IGNORE INTO sessions ({', '.join(SESSION_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(SESSION_COLUMNS))})",
                [_sql_row(_row_of(s)) for s in sessions],
            )
            new_sessions = conn.total_changes - before
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO overrides (umo, data, updated_at) VALUES (?, ?, ?)",
                [(umo, _dumps(data), now) for umo, data in overrides.items()],
            )
            new_overrides = conn.total_changes - before
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (LEGACY_META_KEY, _dumps(found)),
            )
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        if sessions or overrides or problems:
            logger.info(
                "%s Imported %d sessions and %d per-session settings from the 1.x files "
                "%s and %s in %s (%d entries already known; %d problems%s). The files were "
                "left in place.",
                LOG_PREFIX,
                new_sessions,
                new_overrides,
                SESSION_FILE,
                OVERRIDES_FILE,
                self.legacy_dir,
                len(sessions) + len(overrides) - new_sessions - new_overrides,
                len(problems),
                (": " + "; ".join(problems[:3])) if problems else "",
            )

    # writes --------------------------------------------------------------------------

    def write(self, rows: list[tuple], deletes: list[str], journal: list[JournalEntry]) -> int:
        """Write one batch in one transaction; return the number of rows written."""
        conn = self._require()
        try:
            same_file = self._stat_key() == self._inode
        except FileNotFoundError:
            same_file = False
        if not same_file:  # SQLite would go on writing to the deleted file
            raise _FileGone(errno.ENOENT, "the store file was deleted or replaced")
        conn.execute("BEGIN IMMEDIATE")
        try:
            if rows:
                conn.executemany(_UPSERT_SESSION, [_sql_row(row) for row in rows])
            if deletes:
                conn.executemany("DELETE FROM sessions WHERE umo = ?", [(u,) for u in deletes])
            if journal:
                counts = self._new_counts(conn, journal)  # before the rows exist
                conn.executemany(_INSERT_JOURNAL, [_journal_row(e) for e in journal])
                if counts:
                    conn.executemany(_BUMP_COUNTER, [(*key, n) for key, n in counts.items()])
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        return len(rows) + len(deletes) + len(journal)

    @staticmethod
    def _new_counts(
        conn: sqlite3.Connection, journal: list[JournalEntry]
    ) -> Counter[tuple[int, str]]:
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
            bucket = _bucket_of(e.at)
            if bucket is not None and e.id not in stored:
                counts[(bucket, e.kind)] += 1
        return counts

    def save_override(self, umo: str, data: dict) -> None:
        self._require().execute(
            "INSERT INTO overrides (umo, data, updated_at) VALUES (?, ?, ?) ON CONFLICT (umo) "
            "DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            # Strict: a setting that cannot be saved must fail, not become {}.
            (umo, json.dumps(data, ensure_ascii=False, default=str), self.clock()),
        )

    def delete_override(self, umo: str) -> None:
        self._require().execute("DELETE FROM overrides WHERE umo = ?", (umo,))

    def prune(self, keep_days: int, max_entries: int) -> int:
        conn = self._require()
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            if keep_days > 0:
                conn.execute(
                    "DELETE FROM journal WHERE at < ?", (self.clock() - keep_days * 86400.0,)
                )
            if max_entries > 0:
                conn.execute(
                    "DELETE FROM journal WHERE id < "
                    "(SELECT id FROM journal ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (max_entries - 1,),
                )
            deleted = conn.total_changes - before
            oldest = (self.clock() - COUNTER_KEEP_DAYS * 86400.0) // BUCKET_SECONDS
            conn.execute("DELETE FROM counters WHERE bucket < ?", (int(oldest),))
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        return deleted

    # reads ---------------------------------------------------------------------------

    def load_sessions(self) -> list[SessionState]:
        cursor = self._require().execute(f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions")
        states, bad = [], 0
        for row in cursor:
            try:
                states.append(_state_of(row))
            except (TypeError, ValueError):
                bad += 1
        if bad:
            logger.warning("%s Skipped %d unreadable sessions in %s.", LOG_PREFIX, bad, self.path)
        return states

    def load_overrides(self) -> dict[str, dict]:
        result = {}
        for umo, data in self._require().execute("SELECT umo, data FROM overrides"):
            value = _loads_dict(data)
            if value is not None and isinstance(umo, str):
                result[umo] = value
        return result

    def query(self, where: str, params: list, limit: int) -> list[JournalEntry]:
        sql = f"{_JOURNAL_SELECT}{where} ORDER BY id DESC LIMIT ?"
        return [_entry_of(row) for row in self._require().execute(sql, [*params, limit])]

    def count(self, where: str, params: list) -> int:
        return self._require().execute(f"SELECT count(*) FROM journal{where}", params).fetchone()[0]

    def daily_counts(
        self, since: float, offset: int, kinds: list[str]
    ) -> list[tuple[str, str, int]]:
        marks = ", ".join("?" * len(kinds))
        sql = (
            "SELECT date(at + ?, 'unixepoch') AS day, kind, count(*) FROM journal "
            f"WHERE at >= ? AND kind IN ({marks}) GROUP BY day, kind ORDER BY day, kind"
        )
        rows = self._require().execute(sql, [offset, since, *kinds])
        return [(str(day), str(kind), int(n)) for day, kind, n in rows]

    def daily_totals(
        self, since: float, until: float, tz: tzinfo | None
    ) -> dict[str, dict[str, int]]:
        """``{"YYYY-MM-DD": {kind: n}}`` of the counters in [since, until), by local day
        in ``tz`` (None: the server's local zone), for the buckets that start in it."""
        first = int(since // BUCKET_SECONDS) + (since % BUCKET_SECONDS > 0)
        last = int(until // BUCKET_SECONDS) + (until % BUCKET_SECONDS > 0)
        rows = self._require().execute(
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

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        """A raw statement (tests and maintenance)."""
        return self._require().execute(sql, params).fetchall()

    # close ---------------------------------------------------------------------------

    def close(self, optimize: bool) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            if optimize:
                conn.execute("PRAGMA analysis_limit = 400")
                conn.execute("PRAGMA optimize")
        except sqlite3.Error:
            pass  # only a hint for the query planner
        finally:
            conn.close()

    def _require(self) -> sqlite3.Connection:
        if self.conn is None:
            raise StoreUnavailable("the store is closed")
        return self.conn


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return conn.execute(query, (name,)).fetchone() is not None


def _bucket_of(at: Any) -> int | None:
    try:
        value = float(at)
    except (TypeError, ValueError):
        return None
    if not (0.0 <= value < 1e12):  # also refuses NaN and infinities
        return None
    return int(value // BUCKET_SECONDS)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _sql_value(value: Any) -> Any:
    """A value SQLite can bind: one odd value must not block every later write."""
    kind = type(value)
    if kind is str:
        return _clean_text(value)
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
    return _clean_text(str(value))


def _clean_text(value: str) -> str:
    """Text SQLite can store: a lone surrogate (half an emoji from a model or a chat)
    would make every later flush fail, so it becomes "?"."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _sql_row(row: tuple) -> tuple:
    return tuple(map(_sql_value, row))


def _dumps(value: Any) -> str:
    try:
        return _clean_text(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError, RecursionError):
        return "{}"


def _loads_dict(text: Any) -> dict | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _journal_row(entry: JournalEntry) -> tuple:
    return (
        entry.id,
        _sql_value(entry.at),
        _sql_value(entry.umo),
        _sql_value(entry.kind),
        _sql_value(entry.reason),
        _dumps(entry.detail),
    )


def _entry_of(row: tuple) -> JournalEntry:
    entry_id, at, umo, kind, reason, detail = row
    return JournalEntry(
        at=float(at or 0.0),
        umo=str(umo or ""),
        kind=str(kind or ""),
        reason=str(reason or ""),
        detail=_loads_dict(detail) or {},
        id=entry_id,
    )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _state_of(row: tuple) -> SessionState:
    (umo, kind, name, last_user, last_bot, last_activity) = row[:6]
    (unanswered, next_at, phase, reason, paused, created, sent) = row[6:]
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
    )


def _advice(exc: BaseException, path: Path) -> str:
    """What the user can do about a failed write."""
    where = path.parent
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    number = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    if isinstance(exc, _FileGone):
        return (
            f"{path} was deleted or replaced while AstrBot was running; reload the plugin "
            "to start a new store"
        )
    if primary == sqlite3.SQLITE_FULL or number == errno.ENOSPC:
        return f"free disk space in {where}"
    if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN) or (
        number in (errno.EACCES, errno.EPERM, errno.EROFS)
    ):
        return f"make {where} and the files in it writable by the user running AstrBot"
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return f"another program holds {path} open (a database viewer?); close it"
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return "the file is damaged; reload the plugin to move it aside and start afresh"
    if isinstance(exc, sqlite3.Error | OSError):
        return f"check the disk that holds {where}"
    return "this looks like a bug in the plugin; please report it with this log"


def _error_key(exc: BaseException) -> str:
    name = getattr(exc, "sqlite_errorname", None)
    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, str(exc.errno))
    return f"{type(exc).__name__}:{name or exc}"


def _keep_private(folder: Path, path: Path) -> None:
    """The journal holds chat text: other local users must not read it.

    The folder becomes 0700 and the database 0600 (created empty if missing, an empty
    file is a new SQLite database); SQLite gives its -wal and -shm files the database's
    mode. Best effort: a file system without Unix modes keeps its own rules.
    """
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o700)
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
