"""The store's SQLite side: everything here runs in the store's one worker thread.

``_Db`` owns the connection (WAL, ``synchronous=NORMAL``): it opens or creates the
file, moves a damaged, foreign or newer file aside (recovery.py), brings it up to the
schema (schema.py), imports the 1.x JSON files once, and writes a batch in one
``BEGIN IMMEDIATE`` transaction (writes.py, with the per-day counters of the kinds in
``COUNTED_KINDS``, which outlive the pruned journal); reads are in queries.py.
``SessionStore`` (session_store.py) is the loop side that batches changes and calls
into it; no other code touches the connection.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path

from ..constants import LOG_PREFIX
from ..engine.models import JournalEntry, SessionState
from ..plugin_log import logger
from . import queries, writes
from .errors import FileGone, StoreUnavailable
from .legacy_import import OVERRIDES_FILE, SESSION_FILE, read_legacy_files
from .recovery import inspect_existing, keep_private, move_aside
from .schema import COUNTED_KINDS, COUNTER_KEEP_DAYS, prepare

__all__ = ["COUNTED_KINDS", "COUNTER_KEEP_DAYS", "StoreUnavailable", "_Db"]

BUSY_TIMEOUT = 5.0  # seconds SQLite waits for a lock held by another connection
LEGACY_META_KEY = "legacy_json_import"


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
        keep_private(where, self.path)
        moved = self._set_aside_unusable_file()
        try:
            if self.conn is None:
                self.conn = self._connect()
            prepare(self.conn, self.path)
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

    def _set_aside_unusable_file(self) -> bool:
        """Keep a usable file's connection open, or move an unusable file aside (True)."""
        conn, problem = inspect_existing(self.path, self._connect)
        if problem is None:
            self.conn = conn
            return False
        tag, found = problem
        target = move_aside(self.path, tag, self.clock())
        logger.warning(
            "%s The store file %s %s. It was moved to %s and a fresh store was started "
            "(session plans and the journal start empty; the old file is kept for you).",
            LOG_PREFIX,
            self.path,
            found,
            target,
        )
        keep_private(self.path.parent, self.path)
        return True

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        return conn

    def _stat_key(self) -> tuple[int, int]:
        info = os.stat(self.path)
        return info.st_dev, info.st_ino

    def _import_legacy_once(self) -> None:
        conn = self._require()
        done = conn.execute("SELECT 1 FROM meta WHERE key = ?", (LEGACY_META_KEY,)).fetchone()
        if done:
            return
        now = self.clock()
        sessions, overrides, problems = read_legacy_files(self.legacy_dir, now=now)
        found = {"at": now, "sessions": len(sessions), "overrides": len(overrides)}
        new_sessions, new_overrides = writes.import_legacy(
            conn, sessions, overrides, LEGACY_META_KEY, found, now
        )
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

    def write(
        self,
        rows: list[tuple],
        deletes: list[str],
        journal: list[JournalEntry],
        habits: dict[str, bytes] | None = None,
    ) -> int:
        """Write one batch in one transaction; return the number of rows written."""
        conn = self._require()
        try:
            same_file = self._stat_key() == self._inode
        except FileNotFoundError:
            same_file = False
        if not same_file:  # SQLite would go on writing to the deleted file
            raise FileGone(errno.ENOENT, "the store file was deleted or replaced")
        return writes.write_batch(conn, rows, deletes, journal, habits)

    def save_override(self, umo: str, data: dict) -> None:
        writes.save_override(self._require(), umo, data, self.clock())

    def delete_override(self, umo: str) -> None:
        writes.delete_override(self._require(), umo)

    def prune(self, keep_days: int, max_entries: int) -> int:
        return writes.prune(self._require(), keep_days, max_entries, self.clock())

    # reads ---------------------------------------------------------------------------

    def load_sessions(self) -> list[SessionState]:
        return queries.load_sessions(self._require(), self.path)

    def load_overrides(self) -> dict[str, dict]:
        return queries.load_overrides(self._require())

    def load_habits(self) -> dict[str, bytes]:
        return queries.load_habits(self._require())

    def query(self, where: str, params: list, limit: int) -> list[JournalEntry]:
        return queries.query(self._require(), where, params, limit)

    def count(self, where: str, params: list) -> int:
        return queries.count(self._require(), where, params)

    def daily_counts(
        self, since: float, offset: int, kinds: list[str]
    ) -> list[tuple[str, str, int]]:
        return queries.daily_counts(self._require(), since, offset, kinds)

    def daily_totals(
        self, since: float, until: float, tz: tzinfo | None
    ) -> dict[str, dict[str, int]]:
        """``{"YYYY-MM-DD": {kind: n}}`` of the counters in [since, until), by local day
        in ``tz`` (None: the server's local zone), for the buckets that start in it."""
        return queries.daily_totals(self._require(), since, until, tz)

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
