"""SQLite persistence for sessions, per-session settings and the journal.

The engine keeps every ``SessionState`` in memory (the source of truth); this store
only persists them. ``put_session`` and ``append_journal`` are O(1) on the loop and
touch no disk: what changed is written by a background task at most once per
``flush_interval``, in one transaction, and by an explicit ``flush()``. Every SQLite
call runs in one dedicated thread on one connection (WAL, ``synchronous=NORMAL``),
so a ``kill -9`` loses at most the changes since the last flush and never corrupts
the file.

A file that is not ours or is damaged is moved aside and a fresh store started: a
bad file never stops the plugin. A write that fails keeps everything in memory and
is retried with back-off.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import json
import logging
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

from .constants import LOG_PREFIX
from .engine_types import PHASE_IDLE, JournalEntry, SessionState
from .legacy_import import OVERRIDES_FILE, SESSION_FILE, read_legacy_files

logger = logging.getLogger("astrbot")

APPLICATION_ID = 0x50434854  # "PCHT": marks the file as this plugin's store
SCHEMA_VERSION = 1
JOURNAL_BUFFER = 20_000  # journal entries kept in memory between two flushes
CLOSE_TIMEOUT = 3.0
MAX_BACKOFF = 30.0
BUSY_TIMEOUT = 5.0  # seconds SQLite waits for a lock held by another connection
MAX_QUERY_LIMIT = 1000
LEGACY_META_KEY = "legacy_json_import"
THREAD_NAME = "proactive-store"

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

T = TypeVar("T")


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
        if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return
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
                conn.executemany(_INSERT_JOURNAL, [_journal_row(e) for e in journal])
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise
        return len(rows) + len(deletes) + len(journal)

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
        phase=str(phase or PHASE_IDLE),
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


# --- the loop side ---------------------------------------------------------------------

SNAPSHOT_CHUNK = 2000  # rows copied per loop turn: 100,000 dirty sessions never block it


async def _snapshot(sessions: dict[str, SessionState | None]) -> tuple[list[tuple], list[str]]:
    """Rows to write and UMOs to delete, copied on the loop a chunk at a time."""
    rows: list[tuple] = []
    deletes: list[str] = []
    for index, (umo, state) in enumerate(sessions.items()):
        if state is None:
            deletes.append(umo)
        else:
            rows.append(_row_of(state))
        if index % SNAPSHOT_CHUNK == SNAPSHOT_CHUNK - 1:
            await asyncio.sleep(0)
    return rows, deletes


class SessionStore:
    """Sessions, overrides and the journal in one SQLite file (see the module doc)."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        flush_interval: float = 1.0,
        legacy_dir: Path | None = None,
        journal_buffer: int = JOURNAL_BUFFER,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._interval = flush_interval
        self._db = _Db(self.path, clock, Path(legacy_dir) if legacy_dir else self.path.parent)
        self._executor: ThreadPoolExecutor | None = None
        self._opened = False
        self._closed = False
        self._pending: dict[str, SessionState | None] = {}  # None: delete
        self._journal: deque[JournalEntry] = deque(maxlen=max(1, journal_buffer))
        self._dropped = 0
        self._next_id = 1
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._warned: set[str] = set()
        self._transactions = 0
        self._rows_written = 0
        self._last_error: str | None = None

    @property
    def is_open(self) -> bool:
        return self._opened

    @property
    def stats(self) -> dict[str, Any]:
        return {
            "transactions": self._transactions,
            "rows_written": self._rows_written,
            "pending": len(self._pending) + len(self._journal),
            "last_error": self._last_error,
            "path": str(self.path),
        }

    # lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Open or create the store; raise ``StoreUnavailable`` only if that is impossible."""
        if self._opened:
            return
        if self._closed:
            raise StoreUnavailable("the store was closed; create a new SessionStore")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)
        try:
            max_id = await self._in_thread(self._db.open)
        except BaseException as exc:
            executor, self._executor = self._executor, None
            executor.submit(self._db.close, False)
            executor.shutdown(wait=False)
            if not isinstance(exc, asyncio.CancelledError):
                await self._thread_ended()
            raise
        self._next_id = max_id + 1
        self._opened = True

    def start(self) -> None:
        """Start the background flush task (after ``open``); a second call does nothing."""
        if self._task is None and self._opened and not self._closed:
            self._task = asyncio.get_running_loop().create_task(
                self._flush_loop(), name="proactive-store-flush"
            )

    async def close(self) -> None:
        """Stop the task, write what is pending, close the file and end the thread."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if not self._opened:
            return
        stalled = False
        try:
            saved = await asyncio.wait_for(self.flush(), CLOSE_TIMEOUT)
        except TimeoutError:
            stalled, saved = True, False
        if not saved and (self._pending or self._journal):
            logger.warning(
                "%s %d changes could not be saved to %s before closing%s.",
                LOG_PREFIX,
                len(self._pending) + len(self._journal),
                self.path,
                f" (the disk did not answer within {CLOSE_TIMEOUT:g} s)" if stalled else "",
            )
        self._opened = False
        executor, self._executor = self._executor, None
        assert executor is not None
        if stalled:  # the thread is stuck in a call: close after it, don't wait for it
            executor.submit(self._db.close, False)
            executor.shutdown(wait=False)
            return
        try:
            await asyncio.wait_for(
                asyncio.wrap_future(executor.submit(self._db.close, True)), CLOSE_TIMEOUT
            )
        except TimeoutError:
            logger.warning("%s Closing %s took too long; left it to finish.", LOG_PREFIX, self.path)
            executor.shutdown(wait=False)
            return
        except Exception:
            logger.warning("%s Error while closing %s.", LOG_PREFIX, self.path, exc_info=True)
        executor.shutdown(wait=False)
        await self._thread_ended()

    async def _thread_ended(self) -> None:
        """Wait (off the loop, bounded) for the worker thread to end after shutdown."""
        thread = self._db.thread
        if thread is not None and thread.is_alive():
            await asyncio.to_thread(thread.join, CLOSE_TIMEOUT)

    async def _in_thread(self, func: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise StoreUnavailable("the store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args))

    async def _checked(self, func: Callable[..., T], *args: Any) -> T:
        """Run a call in the thread; report a failure as ``StoreUnavailable``."""
        if not self._opened:
            raise StoreUnavailable("the store is not open")
        try:
            return await self._in_thread(func, *args)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(
                f"the store {self.path} failed: {exc}; {_advice(exc, self.path)}"
            ) from exc

    # the per-message path: O(1), no I/O ---------------------------------------------------

    def put_session(self, state: SessionState) -> None:
        """Mark a session changed; its fields are read at the next flush."""
        self._pending[state.umo] = state

    def delete_session(self, umo: str) -> None:
        self._pending[umo] = None

    def append_journal(self, entry: JournalEntry) -> JournalEntry:
        """Buffer a journal entry; return it with its id set."""
        entry = replace(entry, id=self._next_id)
        self._next_id += 1
        journal = self._journal
        if len(journal) == journal.maxlen:
            self._dropped += 1  # the deque drops the oldest
        journal.append(entry)
        return entry

    # flushing ----------------------------------------------------------------------------

    async def flush(self) -> bool:
        """Write everything pending in one transaction; False (never raises) on failure."""
        if not self._pending and not self._journal and not self._lock.locked():
            return self._opened
        async with self._lock:
            if not self._opened:
                return False
            if not self._pending and not self._journal:
                return True
            if self._dropped:
                logger.warning(
                    "%s The journal buffer was full (%d entries): the %d oldest unsaved "
                    "entries were dropped.",
                    LOG_PREFIX,
                    self._journal.maxlen,
                    self._dropped,
                )
                self._dropped = 0
            sessions, self._pending = self._pending, {}
            journal = list(self._journal)
            self._journal.clear()
            try:
                rows, deletes = await _snapshot(sessions)
                written = await self._in_thread(self._db.write, rows, deletes, journal)
            except asyncio.CancelledError:
                self._give_back(sessions, journal)  # unknown outcome: writing again is safe
                raise
            except Exception as exc:
                self._give_back(sessions, journal)
                self._note_failure(exc)
                return False
            self._transactions += 1
            self._rows_written += written
            if self._warned:
                logger.info("%s The store %s is writable again.", LOG_PREFIX, self.path)
                self._warned.clear()
            self._last_error = None
            return True

    def _give_back(self, sessions: dict[str, SessionState | None], journal: list) -> None:
        for umo, state in sessions.items():
            self._pending.setdefault(umo, state)  # a newer put or delete wins
        if journal:
            merged = journal + list(self._journal)
            limit = self._journal.maxlen or len(merged)
            overflow = len(merged) - limit
            if overflow > 0:
                self._dropped += overflow
                merged = merged[overflow:]
            self._journal = deque(merged, maxlen=limit)

    def _note_failure(self, exc: BaseException) -> None:
        key = _error_key(exc)
        self._last_error = f"{exc}"
        if key in self._warned:
            return
        self._warned.add(key)
        unexpected = not isinstance(exc, sqlite3.Error | OSError | StoreUnavailable)
        logger.warning(
            "%s Could not save to %s: %s. What to do: %s. The changes are kept in memory "
            "and retried.",
            LOG_PREFIX,
            self.path,
            exc,
            _advice(exc, self.path),
            exc_info=unexpected,
        )

    async def _flush_loop(self) -> None:
        failures = 0
        while True:
            delay = self._interval if failures == 0 else min(MAX_BACKOFF, 2.0 ** (failures - 1))
            await asyncio.sleep(delay)
            if not self._pending and not self._journal:
                failures = 0
                continue
            try:
                saved = await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s The store's flush task failed; it goes on.", LOG_PREFIX)
                saved = False
            failures = 0 if saved else failures + 1

    # loading and overrides -------------------------------------------------------------

    async def load_sessions(self) -> list[SessionState]:
        return await self._checked(self._db.load_sessions)

    async def load_overrides(self) -> dict[str, dict]:
        return await self._checked(self._db.load_overrides)

    async def save_override(self, umo: str, data: dict) -> None:
        """Write one session's settings now (not batched); raise ``StoreUnavailable``."""
        await self._checked(self._db.save_override, umo, data)

    async def delete_override(self, umo: str) -> None:
        await self._checked(self._db.delete_override, umo)

    # the journal -----------------------------------------------------------------------

    async def query_journal(
        self,
        *,
        umo: str | None = None,
        kinds: Collection[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[JournalEntry]:
        """Entries newest first; page on with ``before_id`` = the last id seen.

        ``since`` is inclusive, ``until`` exclusive; ``kinds=()`` matches nothing.
        """
        where = _journal_where(umo, kinds, since, until, before_id)
        if where is None:
            return []
        await self.flush()
        limit = max(1, min(MAX_QUERY_LIMIT, int(limit)))
        return await self._checked(self._db.query, where[0], where[1], limit)

    async def count_journal(
        self,
        *,
        umo: str | None = None,
        kinds: Collection[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        before_id: int | None = None,
    ) -> int:
        where = _journal_where(umo, kinds, since, until, before_id)
        if where is None:
            return 0
        await self.flush()
        return await self._checked(self._db.count, where[0], where[1])

    async def journal_daily_counts(
        self, *, since: float, utc_offset_seconds: int, kinds: Collection[str]
    ) -> list[tuple[str, str, int]]:
        """``("YYYY-MM-DD", kind, count)`` per local day (by ``utc_offset_seconds``)."""
        kinds = _kind_list(kinds)
        if not kinds:
            return []
        await self.flush()
        offset = max(-86400, min(86400, int(utc_offset_seconds)))
        return await self._checked(self._db.daily_counts, float(since), offset, kinds)

    async def prune_journal(self, *, keep_days: int, max_entries: int) -> int:
        """Delete entries older than ``keep_days`` and beyond the newest ``max_entries``.

        A limit <= 0 is no limit. Returns the number of entries deleted.
        """
        deleted = await self._checked(self._db.prune, int(keep_days), int(max_entries))
        self._transactions += 1
        return deleted


def _journal_where(
    umo: str | None,
    kinds: Collection[str] | None,
    since: float | None,
    until: float | None,
    before_id: int | None,
) -> tuple[str, list] | None:
    """(`` WHERE ...``, params), or None when the filter matches nothing."""
    clauses: list[str] = []
    params: list[Any] = []
    if umo is not None:
        clauses.append("umo = ?")
        params.append(umo)
    if kinds is not None:
        kind_list = _kind_list(kinds)
        if not kind_list:
            return None
        clauses.append(f"kind IN ({', '.join('?' * len(kind_list))})")
        params.extend(kind_list)
    if since is not None:
        clauses.append("at >= ?")
        params.append(float(since))
    if until is not None:
        clauses.append("at < ?")
        params.append(float(until))
    if before_id is not None:
        clauses.append("id < ?")
        params.append(int(before_id))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _kind_list(kinds: Collection[str]) -> list[str]:
    return [kinds] if isinstance(kinds, str) else sorted({str(k) for k in kinds})
