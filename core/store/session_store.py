"""SQLite persistence for sessions, per-session settings, the journal and daily counters.

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
import functools
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import tzinfo
from pathlib import Path
from typing import Any, TypeVar

from ..constants import LOG_PREFIX
from ..engine.models import JournalEntry, SessionState
from ..plugin_log import logger
from .batch import blobs, give_back_journal, give_back_sessions, snapshot
from .errors import StoreUnavailable, advice, error_key
from .journal_filter import JournalFilter, kind_list_of
from .schema import APPLICATION_ID, COUNTED_KINDS, SCHEMA_VERSION, SESSION_COLUMNS
from .sqlite import _Db

__all__ = [
    "APPLICATION_ID",
    "COUNTED_KINDS",
    "SCHEMA_VERSION",
    "SESSION_COLUMNS",
    "SessionStore",
    "StoreUnavailable",
]

JOURNAL_BUFFER = 20_000  # journal entries kept in memory between two flushes
CLOSE_TIMEOUT = 3.0
MAX_BACKOFF = 30.0
MAX_QUERY_LIMIT = 1000
THREAD_NAME = "proactive-store"
T = TypeVar("T")


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
        self._habits: dict[str, Callable[[], bytes]] = {}  # learned habits (their bytes, later)
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
                f"the store {self.path} failed: {exc}; {advice(exc, self.path)}"
            ) from exc

    # the per-message path: O(1), no I/O ---------------------------------------------------

    def put_session(self, state: SessionState) -> None:
        """Mark a session changed; its fields are read at the next flush."""
        self._pending[state.umo] = state

    def put_habits(self, umo: str, blob: Callable[[], bytes]) -> None:
        self._habits[umo] = blob  # a session's learned habits: serialized at the next flush

    def delete_session(self, umo: str) -> None:
        self._pending[umo] = None

    def append_journal(self, entry: JournalEntry) -> JournalEntry:
        """Buffer a journal entry; return it with its id set."""
        entry.id = self._next_id
        self._next_id += 1
        journal = self._journal
        if len(journal) == journal.maxlen:
            self._dropped += 1  # the deque drops the oldest
        journal.append(entry)
        return entry

    # flushing ----------------------------------------------------------------------------

    async def flush(self) -> bool:
        """Write everything pending in one transaction; False (never raises) on failure."""
        if not (self._pending or self._journal or self._habits or self._lock.locked()):
            return self._opened
        async with self._lock:
            if not self._opened:
                return False
            if not (self._pending or self._journal or self._habits):
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
            journal, habits, self._habits = list(self._journal), self._habits, {}
            self._journal.clear()
            try:
                rows, deletes = await snapshot(sessions)
                batch = (rows, deletes, journal, blobs(habits))
                written = await self._in_thread(self._db.write, *batch)
            except asyncio.CancelledError:
                self._give_back(sessions, journal, habits)  # unknown outcome: writing again is safe
                raise
            except Exception as exc:
                self._give_back(sessions, journal, habits)
                self._note_failure(exc)
                return False
            self._transactions += 1
            self._rows_written += written
            if self._warned:
                logger.info("%s The store %s is writable again.", LOG_PREFIX, self.path)
                self._warned.clear()
            self._last_error = None
            return True

    def _give_back(self, sessions: dict, journal: list, habits: dict) -> None:
        give_back_sessions(self._pending, sessions)
        self._habits = habits | self._habits  # a newer profile wins
        if journal:
            self._journal, dropped = give_back_journal(journal, self._journal)
            self._dropped += dropped

    def _note_failure(self, exc: BaseException) -> None:
        key = error_key(exc)
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
            advice(exc, self.path),
            exc_info=unexpected,
        )

    async def _flush_loop(self) -> None:
        failures = 0
        while True:
            delay = self._interval if failures == 0 else min(MAX_BACKOFF, 2.0 ** (failures - 1))
            await asyncio.sleep(delay)
            if not (self._pending or self._journal or self._habits):
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

    async def load_habits(self) -> dict[str, bytes]:
        return await self._checked(self._db.load_habits)

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
        Entries that could not be saved yet (a full or read-only disk) are included.
        """
        wanted = JournalFilter(umo, kinds, since, until, before_id)
        where = wanted.where()
        if where is None:
            return []
        saved = await self.flush()
        limit = max(1, min(MAX_QUERY_LIMIT, int(limit)))
        stored = await self._checked(self._db.query, where[0], where[1], limit)
        if saved:
            return stored
        unsaved = self._unsaved(wanted)
        return (unsaved + stored)[:limit]  # every unsaved id is newer than the stored ones

    async def count_journal(
        self,
        *,
        umo: str | None = None,
        kinds: Collection[str] | None = None,
        since: float | None = None,
        until: float | None = None,
        before_id: int | None = None,
    ) -> int:
        wanted = JournalFilter(umo, kinds, since, until, before_id)
        where = wanted.where()
        if where is None:
            return 0
        saved = await self.flush()
        stored = await self._checked(self._db.count, where[0], where[1])
        return stored if saved else stored + len(self._unsaved(wanted))

    def _unsaved(self, wanted: JournalFilter) -> list[JournalEntry]:
        """Buffered entries matching the filter, newest first: while writes fail they
        are the ones that say why messages are held back, so the panel must see them."""
        return wanted.newest_first(self._journal)

    async def journal_daily_counts(
        self, *, since: float, utc_offset_seconds: int, kinds: Collection[str]
    ) -> list[tuple[str, str, int]]:
        """``("YYYY-MM-DD", kind, count)`` per local day (by ``utc_offset_seconds``)."""
        kinds = kind_list_of(kinds)
        if not kinds:
            return []
        await self.flush()
        offset = max(-86400, min(86400, int(utc_offset_seconds)))
        return await self._checked(self._db.daily_counts, float(since), offset, kinds)

    async def daily_totals(
        self, *, since: float, until: float, tz: tzinfo | None
    ) -> dict[str, dict[str, int]]:
        """``{"YYYY-MM-DD": {kind: n}}`` per local day in ``tz`` (None: the server's zone)
        for the kinds in ``COUNTED_KINDS``, from [since, until) rounded to quarter hours.

        From durable counters, not the journal: pruning the journal keeps them.
        Days without anything counted are left out.
        """
        await self.flush()
        return await self._checked(self._db.daily_totals, float(since), float(until), tz)

    async def prune_journal(self, *, keep_days: int, max_entries: int) -> int:
        """Delete entries older than ``keep_days`` and beyond the newest ``max_entries``
        (and daily counters older than ``COUNTER_KEEP_DAYS``).

        A limit <= 0 is no limit. Returns the number of journal entries deleted.
        """
        deleted = await self._checked(self._db.prune, int(keep_days), int(max_entries))
        self._transactions += 1
        return deleted
