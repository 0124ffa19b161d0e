"""``SessionStore``: real SQLite files, batching, bad files, failing writes, kill -9.

Over 400 lines on purpose: one store, one file; its sections follow session_store.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import signal
import sqlite3
import sys
import threading
import time
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from proactive_chat.core.engine.models import JournalEntry, SessionState
from proactive_chat.core.store import schema as store_schema
from proactive_chat.core.store import session_store as store_module
from proactive_chat.core.store import sqlite as store_sqlite
from proactive_chat.core.store.session_store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    SESSION_COLUMNS,
    SessionStore,
    StoreUnavailable,
)

FRIEND = "aiocqhttp:FriendMessage:10001"
GROUP = "aiocqhttp:GroupMessage:20002"
TESTS_DIR = Path(__file__).resolve().parents[1]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]

    @property
    def warnings(self) -> list[str]:
        return self.at(logging.WARNING)

    @property
    def infos(self) -> list[str]:
        return self.at(logging.INFO)


@pytest.fixture
def logs():
    """Records of the "astrbot" logger (which may not propagate to the root)."""
    logger = logging.getLogger("astrbot")
    handler = Capture()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "plugin_data" / "store.db"


@pytest.fixture
async def store(db_path: Path, clock):
    s = SessionStore(db_path, clock=clock)
    await s.open()
    yield s
    await s.close()


def make_state(umo: str = FRIEND, **changes) -> SessionState:
    kind = "group" if "GroupMessage" in umo else "friend"
    return SessionState(umo=umo, kind=kind, **changes)


def entry(at: float, umo: str = FRIEND, kind: str = "planned", **detail) -> JournalEntry:
    return JournalEntry(at=at, umo=umo, kind=kind, reason=f"{kind} at {at}", detail=detail)


def raw(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(path, isolation_level=None)  # autocommit
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def sidecar(path: Path, suffix: str) -> Path:
    """``store.db-wal`` and the like."""
    return path.with_name(path.name + suffix)


def store_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("proactive-store")]


async def reopened(path: Path, clock) -> SessionStore:
    s = SessionStore(path, clock=clock)
    await s.open()
    return s


# --- schema and round trips -----------------------------------------------------------


def test_columns_cover_every_session_field():
    # A new SessionState field needs a column (and a schema version bump).
    assert set(SESSION_COLUMNS) == {f.name for f in fields(SessionState)}


async def test_new_file_is_marked_as_ours(store, db_path):
    assert raw(db_path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert raw(db_path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert raw(db_path, "PRAGMA journal_mode") == [("wal",)]
    tables = {row[0] for row in raw(db_path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"sessions", "overrides", "journal", "meta", "counters", "habits"}


async def test_sessions_round_trip(store, db_path, clock):
    full = make_state(
        name="小明 🌙",
        last_user_at=1_700_000_000.25,
        last_bot_at=1_700_000_100.5,
        last_activity_at=1_700_000_100.5,
        unanswered=2,
        next_at=1_700_003_600.0,
        phase="planned",
        next_reason="random 60 min",
        paused=True,
        created_at=1_699_000_000.0,
        sent_total=7,
    )
    bare = make_state(GROUP)
    store.put_session(full)
    store.put_session(bare)
    assert await store.flush()
    await store.close()

    again = await reopened(db_path, clock)
    try:
        loaded = {s.umo: s for s in await again.load_sessions()}
        assert loaded == {FRIEND: full, GROUP: bare}
        assert loaded[FRIEND].paused is True
        assert loaded[GROUP].paused is False
    finally:
        await again.close()


async def test_delete_session(store):
    store.put_session(make_state(FRIEND))
    store.put_session(make_state(GROUP))
    await store.flush()
    store.delete_session(FRIEND)
    await store.flush()
    assert [s.umo for s in await store.load_sessions()] == [GROUP]


async def test_the_last_put_or_delete_before_a_flush_wins(store):
    store.put_session(make_state(FRIEND))
    store.delete_session(FRIEND)
    store.delete_session(GROUP)
    store.put_session(make_state(GROUP))
    await store.flush()
    assert [s.umo for s in await store.load_sessions()] == [GROUP]


async def test_a_mutation_after_put_is_what_gets_written(store):
    state = make_state(unanswered=1)
    store.put_session(state)
    state.unanswered = 5
    state.next_reason = "changed after put"
    await store.flush()
    (loaded,) = await store.load_sessions()
    assert (loaded.unanswered, loaded.next_reason) == (5, "changed after put")


async def test_overrides_round_trip(store, db_path, clock):
    await store.save_override(FRIEND, {"proactive_prompt": "早上好", "schedule": {"min": 5}})
    await store.save_override(GROUP, {"enable": False})
    await store.save_override(GROUP, {"enable": True})
    await store.save_override("x:FriendMessage:3", {"gone": 1})
    await store.delete_override("x:FriendMessage:3")
    await store.close()

    again = await reopened(db_path, clock)
    try:
        assert await again.load_overrides() == {
            FRIEND: {"proactive_prompt": "早上好", "schedule": {"min": 5}},
            GROUP: {"enable": True},
        }
    finally:
        await again.close()
    stored = raw(db_path, "SELECT data, updated_at FROM overrides WHERE umo = ?", (FRIEND,))
    assert "早上好" in stored[0][0]  # ensure_ascii=False
    assert stored[0][1] == clock()


async def test_an_override_that_cannot_be_saved_raises_and_keeps_the_old_one(store):
    await store.save_override(FRIEND, {"enable": True})
    loop: dict = {}
    loop["self"] = loop
    with pytest.raises(ValueError):
        await store.save_override(FRIEND, loop)
    assert await store.load_overrides() == {FRIEND: {"enable": True}}


async def test_override_that_is_not_an_object_is_skipped(store, db_path):
    await store.save_override(FRIEND, {"ok": 1})
    await store._in_thread(
        store._db.execute, "INSERT INTO overrides VALUES (?, ?, 0)", (GROUP, "[1, 2")
    )
    assert await store.load_overrides() == {FRIEND: {"ok": 1}}


async def test_journal_round_trip_and_ids_continue_after_reopen(store, db_path, clock):
    first = [store.append_journal(entry(100.0 + n, detail_n=n)) for n in range(3)]
    assert [e.id for e in first] == [1, 2, 3]
    assert first[0].reason == "planned at 100.0"
    await store.close()

    again = await reopened(db_path, clock)
    try:
        later = again.append_journal(entry(200.0, kind="sent", text="你好"))
        assert later.id == 4
        got = await again.query_journal()
        assert [e.id for e in got] == [4, 3, 2, 1]
        assert got[0] == later
        assert got[3] == first[0]
        assert got[0].detail == {"text": "你好"}
    finally:
        await again.close()


async def test_journal_detail_that_json_cannot_encode_is_stored_as_text(store):
    when = datetime(2024, 5, 1, 12, 30)
    stored = store.append_journal(entry(1.0, value=when, path=Path("/x")))
    (got,) = await store.query_journal()
    assert got.id == stored.id
    assert got.detail == {"value": str(when), "path": "/x"}


async def test_journal_row_with_unreadable_detail_loads_with_empty_detail(store):
    await store._in_thread(
        store._db.execute,
        "INSERT INTO journal (id, at, umo, kind, reason, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (1, 5.0, FRIEND, "sent", "r", "{broken"),
    )
    await store._in_thread(
        store._db.execute,
        "INSERT INTO journal (id, at, umo, kind, reason, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (2, 6.0, FRIEND, "sent", "r", "[1]"),
    )
    got = await store.query_journal()
    assert [(e.id, e.detail) for e in got] == [(2, {}), (1, {})]


# --- batching ---------------------------------------------------------------------------


async def test_many_puts_are_one_transaction(store, db_path):
    before = store.stats["transactions"]
    states = [make_state(f"p:FriendMessage:{n}") for n in range(100)]
    for state in states:
        store.put_session(state)
    store.append_journal(entry(1.0))
    assert store.stats["pending"] == 101
    assert raw(db_path, "SELECT count(*) FROM sessions") == [(0,)]  # nothing written yet
    assert await store.flush()
    assert store.stats["transactions"] == before + 1
    assert store.stats["rows_written"] == 101
    assert store.stats["pending"] == 0
    assert raw(db_path, "SELECT count(*) FROM sessions") == [(100,)]


async def test_flush_with_nothing_pending_does_no_transaction(store, monkeypatch):
    store.put_session(make_state())
    await store.flush()
    transactions = store.stats["transactions"]

    def must_not_write(*args):
        raise AssertionError("a flush with nothing pending wrote")

    monkeypatch.setattr(store._db, "write", must_not_write)
    assert await store.flush() is True
    assert await store.flush() is True
    assert store.stats["transactions"] == transactions


async def test_a_flush_waits_for_one_in_progress(store, db_path, monkeypatch):
    # The engine's "flush before send" must not return while an earlier flush that
    # took its changes is still writing them.
    real_write = store._db.write

    def slow_write(*args):
        time.sleep(0.2)
        return real_write(*args)

    monkeypatch.setattr(store._db, "write", slow_write)
    store.put_session(make_state())
    first = asyncio.create_task(store.flush())
    await asyncio.sleep(0.05)
    assert store.stats["pending"] == 0  # the first flush has taken it
    assert await store.flush() is True
    assert raw(db_path, "SELECT umo FROM sessions") == [(FRIEND,)]
    assert await first is True


async def test_concurrent_flushes_write_each_change_once(store):
    for n in range(10):
        store.put_session(make_state(f"p:FriendMessage:{n}"))
    results = await asyncio.gather(*(store.flush() for _ in range(5)))
    assert results == [True] * 5
    assert store.stats["transactions"] == 1
    assert store.stats["rows_written"] == 10


async def test_background_task_writes_changes_in_batches(db_path, clock):
    s = SessionStore(db_path, clock=clock, flush_interval=0.05)
    await s.open()
    s.start()
    s.start()  # a second start does nothing
    try:
        for n in range(50):
            s.put_session(make_state(f"p:FriendMessage:{n}"))
        for _ in range(200):
            if s.stats["pending"] == 0 and s.stats["transactions"]:
                break
            await asyncio.sleep(0.01)
        assert s.stats["transactions"] == 1
        assert raw(db_path, "SELECT count(*) FROM sessions") == [(50,)]
    finally:
        await s.close()


async def test_background_task_survives_errors_and_backs_off(db_path, clock, logs, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_BACKOFF", 0.05)
    s = SessionStore(db_path, clock=clock, flush_interval=0.02)
    await s.open()
    real_write = s._db.write
    calls = []

    def flaky_write(*args):
        calls.append(time.monotonic())
        if len(calls) <= 3:
            raise RuntimeError("boom")
        return real_write(*args)

    monkeypatch.setattr(s._db, "write", flaky_write)
    s.start()
    try:
        s.put_session(make_state())
        for _ in range(300):
            if s.stats["transactions"]:
                break
            await asyncio.sleep(0.01)
        assert s.stats["transactions"] == 1
        assert len(calls) == 4
        assert len([w for w in logs.warnings if "boom" in w]) == 1  # once per distinct error
        assert any(r.exc_info for r in logs.records if "boom" in r.getMessage())
        assert logs.infos[-1].endswith("is writable again.")
    finally:
        await s.close()


# --- bad files ----------------------------------------------------------------------------


def moved_files(db_path: Path, tag: str) -> list[Path]:
    found = db_path.parent.glob(f"{db_path.name}.{tag}-*")
    return sorted(p for p in found if not p.name.endswith(("-wal", "-shm", "-journal")))


async def open_expecting_move(db_path: Path, clock, logs, tag: str) -> SessionStore:
    s = await reopened(db_path, clock)
    warnings = logs.warnings
    assert len(warnings) == 1, warnings
    moved = moved_files(db_path, tag)
    assert moved, list(db_path.parent.iterdir())
    assert str(moved[0]) in warnings[0]
    assert "fresh store" in warnings[0]
    # The fresh store works.
    s.put_session(make_state())
    assert await s.flush()
    assert [x.umo for x in await s.load_sessions()] == [FRIEND]
    assert raw(db_path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    return s


async def test_random_bytes_are_moved_aside(db_path, clock, logs):
    db_path.parent.mkdir(parents=True)
    garbage = random.Random(1).randbytes(5000)
    db_path.write_bytes(garbage)
    sidecar(db_path, "-wal").write_bytes(b"old wal")
    s = await open_expecting_move(db_path, clock, logs, "corrupt")
    await s.close()
    (moved,) = moved_files(db_path, "corrupt")
    assert moved.read_bytes() == garbage  # the user's file is kept as it was
    assert sidecar(moved, "-wal").read_bytes() == b"old wal"
    assert "not an SQLite database" in logs.warnings[0]


async def test_a_truncated_store_is_moved_aside(db_path, clock, logs):
    s = await reopened(db_path, clock)
    for n in range(3000):
        s.append_journal(entry(float(n), text="x" * 200))
    await s.close()
    data = db_path.read_bytes()
    db_path.write_bytes(data[: len(data) // 2])
    s = await open_expecting_move(db_path, clock, logs, "corrupt")
    await s.close()


async def test_a_damaged_page_found_by_the_integrity_check_is_moved_aside(db_path, clock, logs):
    s = await reopened(db_path, clock)
    for n in range(3000):
        s.append_journal(entry(float(n), text="x" * 200))
    await s.close()
    data = bytearray(db_path.read_bytes())
    size = 4096
    a, b = (len(data) // size // 3) * size, (len(data) // size // 2) * size
    # Two pages swapped: every page still parses, only the check finds the damage.
    data[a : a + size], data[b : b + size] = data[b : b + size], data[a : a + size]
    db_path.write_bytes(bytes(data))
    s = await open_expecting_move(db_path, clock, logs, "corrupt")
    await s.close()
    assert "is damaged" in logs.warnings[0]


async def test_a_damaged_header_is_moved_aside(db_path, clock, logs):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 20)
    s = await open_expecting_move(db_path, clock, logs, "corrupt")
    await s.close()


async def test_another_programs_database_is_moved_aside(db_path, clock, logs):
    db_path.parent.mkdir(parents=True)
    raw(db_path, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    s = await open_expecting_move(db_path, clock, logs, "foreign")
    await s.close()
    (moved,) = moved_files(db_path, "foreign")
    assert raw(moved, "SELECT name FROM sqlite_master WHERE type='table'") == [("users",)]
    assert "users" in logs.warnings[0]


async def test_another_application_id_is_moved_aside(db_path, clock, logs):
    db_path.parent.mkdir(parents=True)
    raw(db_path, "PRAGMA application_id = 12345")
    s = await open_expecting_move(db_path, clock, logs, "foreign")
    await s.close()


async def test_a_newer_schema_is_moved_aside(db_path, clock, logs):
    s = await reopened(db_path, clock)
    s.put_session(make_state(GROUP))
    await s.close()
    raw(db_path, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    s = await open_expecting_move(db_path, clock, logs, "newer")
    await s.close()
    assert "newer version" in logs.warnings[0]


async def test_an_empty_file_becomes_the_store(db_path, clock, logs):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"")
    s = await reopened(db_path, clock)
    await s.close()
    assert logs.warnings == []
    assert raw(db_path, "PRAGMA application_id") == [(APPLICATION_ID,)]


async def test_a_good_store_is_reopened_without_warnings(db_path, clock, logs):
    s = await reopened(db_path, clock)
    s.put_session(make_state())
    await s.close()
    s = await reopened(db_path, clock)
    await s.close()
    assert logs.warnings == []
    assert list(db_path.parent.glob("*.corrupt-*")) == []


async def test_open_raises_a_clear_error_when_no_store_can_be_created(tmp_path, clock):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the folder should be")
    s = SessionStore(blocker / "store.db", clock=clock)
    with pytest.raises(StoreUnavailable, match="cannot create the folder"):
        await s.open()
    assert store_threads() == []
    assert await s.flush() is False
    await s.close()
    await s.close()


# --- failing writes -------------------------------------------------------------------


async def limit_pages(store: SessionStore, pages: int | None) -> None:
    """Make the file "full" (a real SQLITE_FULL from SQLite) or lift the limit."""
    if pages is None:
        pages = 1_000_000
    await store._in_thread(store._db.execute, f"PRAGMA max_page_count = {pages}")


async def test_disk_full_keeps_everything_and_recovers(store, db_path, clock, logs):
    store.put_session(make_state(unanswered=1))
    await store.flush()
    (pages,) = (await store._in_thread(store._db.execute, "PRAGMA page_count"))[0]
    await limit_pages(store, pages)

    states = [make_state(f"p:FriendMessage:{n}", name="x" * 400) for n in range(100)]
    for state in states:
        store.put_session(state)
    first = store.append_journal(entry(1.0))
    assert await store.flush() is False
    assert await store.flush() is False
    assert store.stats["pending"] == 101
    assert store.stats["last_error"]
    warnings = logs.warnings
    assert len(warnings) == 1
    assert f"free disk space in {db_path.parent}" in warnings[0]

    # Changes made while failing: a newer value wins, a later entry comes after.
    states[0].unanswered = 9
    second = store.append_journal(entry(2.0))
    store.put_session(states[0])
    await limit_pages(store, None)
    assert await store.flush() is True
    assert len(logs.warnings) == 1
    assert logs.infos[-1].endswith("is writable again.")
    assert store.stats["last_error"] is None
    await store.close()

    again = await reopened(db_path, clock)
    try:
        loaded = {s.umo: s for s in await again.load_sessions()}
        assert len(loaded) == 101
        assert loaded["p:FriendMessage:0"].unanswered == 9
        assert [e.id for e in await again.query_journal()] == [second.id, first.id]
    finally:
        await again.close()


async def test_a_locked_file_fails_the_flush_then_recovers(db_path, clock, logs, monkeypatch):
    monkeypatch.setattr(store_sqlite, "BUSY_TIMEOUT", 0.05)
    s = await reopened(db_path, clock)
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        s.put_session(make_state())
        ids = [s.append_journal(entry(float(n))).id for n in range(3)]
        assert await s.flush() is False
        assert "another program holds" in logs.warnings[0]
        ids.append(s.append_journal(entry(9.0)).id)
        other.execute("ROLLBACK")
        assert await s.flush() is True
        assert [e.id for e in await s.query_journal()] == ids[::-1]
        assert len(await s.load_sessions()) == 1
    finally:
        other.close()
        await s.close()


async def test_a_deleted_file_fails_the_flush_with_advice(store, db_path, logs):
    store.put_session(make_state())
    await store.flush()
    for suffix in ("", "-wal", "-shm"):
        sidecar(db_path, suffix).unlink(missing_ok=True)
    store.put_session(make_state(unanswered=3))
    assert await store.flush() is False
    assert store.stats["pending"] == 1
    assert "was deleted or replaced" in logs.warnings[0]
    assert "reload the plugin" in logs.warnings[0]


async def test_changes_made_during_a_failing_flush_win(store, db_path, monkeypatch):
    real_write = store._db.write

    def slow_failure(*args):
        time.sleep(0.2)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store._db, "write", slow_failure)
    store.put_session(make_state(FRIEND, unanswered=1))
    store.put_session(make_state(GROUP, unanswered=1))
    early = store.append_journal(entry(1.0))
    flight = asyncio.create_task(store.flush())
    await asyncio.sleep(0.05)
    store.delete_session(FRIEND)  # newer than what the failing flush holds
    store.put_session(make_state(GROUP, unanswered=2))
    late = store.append_journal(entry(2.0))
    assert await flight is False
    monkeypatch.setattr(store._db, "write", real_write)
    assert await store.flush() is True
    assert [(s.umo, s.unanswered) for s in await store.load_sessions()] == [(GROUP, 2)]
    assert raw(db_path, "SELECT id FROM journal ORDER BY rowid") == [(early.id,), (late.id,)]


async def test_each_distinct_error_is_logged_once(store, logs, monkeypatch):
    errors = iter([OSError(28, "No space left"), OSError(28, "No space left"), OSError(13, "no")])

    def failing(*args):
        raise next(errors)

    monkeypatch.setattr(store._db, "write", failing)
    store.put_session(make_state())
    for _ in range(3):
        assert await store.flush() is False
    assert len(logs.warnings) == 2
    assert "free disk space" in logs.warnings[0]
    assert "writable by the user running AstrBot" in logs.warnings[1]


async def test_a_cancelled_flush_gives_its_changes_back(store, db_path, monkeypatch):
    real_write = store._db.write
    monkeypatch.setattr(store._db, "write", lambda *a: (time.sleep(0.2), real_write(*a))[1])
    store.put_session(make_state())
    store.append_journal(entry(1.0))
    task = asyncio.create_task(store.flush())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.stats["pending"] == 2
    monkeypatch.setattr(store._db, "write", real_write)
    assert await store.flush() is True  # written again: harmless
    assert raw(db_path, "SELECT count(*) FROM journal") == [(1,)]


# --- the journal buffer -----------------------------------------------------------------


async def test_journal_buffer_overflow_drops_the_oldest_and_logs_once(db_path, clock, logs):
    s = SessionStore(db_path, clock=clock, journal_buffer=5)
    await s.open()
    try:
        ids = [s.append_journal(entry(float(n))).id for n in range(8)]
        assert logs.warnings == []  # logged at the flush, not on the hot path
        assert await s.flush()
        assert len(logs.warnings) == 1
        assert "3 oldest" in logs.warnings[0]
        assert [e.id for e in await s.query_journal()] == ids[:2:-1]
        s.append_journal(entry(9.0))
        await s.flush()
        assert len(logs.warnings) == 1
    finally:
        await s.close()


async def test_failed_flush_with_a_full_buffer_keeps_the_newest(db_path, clock, logs, monkeypatch):
    s = SessionStore(db_path, clock=clock, journal_buffer=4)
    await s.open()
    try:
        real_write = s._db.write
        monkeypatch.setattr(s._db, "write", lambda *a: (_ for _ in ()).throw(OSError(5, "io")))
        ids = [s.append_journal(entry(float(n))).id for n in range(3)]
        assert await s.flush() is False
        ids += [s.append_journal(entry(float(n))).id for n in range(3, 6)]
        monkeypatch.setattr(s._db, "write", real_write)
        assert await s.flush() is True
        assert [e.id for e in await s.query_journal()] == ids[:1:-1]
        assert any("2 oldest" in w for w in logs.warnings)
    finally:
        await s.close()


# --- journal reads -----------------------------------------------------------------------


@pytest.fixture
async def filled(store):
    """40 entries: two sessions, four kinds, one a minute from t=1000."""
    kinds = ["planned", "fired", "sent", "capped"]
    for n in range(40):
        store.append_journal(entry(1000.0 + 60 * n, FRIEND if n % 2 else GROUP, kinds[n % 4]))
    return store


async def test_query_sees_entries_not_yet_flushed(store):
    store.append_journal(entry(1.0))
    assert [e.id for e in await store.query_journal()] == [1]


async def test_query_filters(filled):
    got = await filled.query_journal(umo=FRIEND, limit=1000)
    assert len(got) == 20 and {e.umo for e in got} == {FRIEND}
    got = await filled.query_journal(kinds=["sent", "capped"], limit=1000)
    assert len(got) == 20 and {e.kind for e in got} == {"sent", "capped"}
    got = await filled.query_journal(umo=FRIEND, kinds={"fired"}, limit=1000)
    assert {(e.umo, e.kind) for e in got} == {(FRIEND, "fired")} and len(got) == 10
    got = await filled.query_journal(since=1000.0 + 60 * 10, until=1000.0 + 60 * 20, limit=1000)
    assert [e.id for e in got] == list(range(20, 10, -1))  # since inclusive, until exclusive
    assert await filled.query_journal(kinds=[]) == []
    assert {e.kind for e in await filled.query_journal(kinds="sent", limit=1000)} == {"sent"}
    assert await filled.query_journal(umo="nobody:FriendMessage:1") == []


async def test_query_is_newest_first_and_pages_by_id(filled):
    seen: list[int] = []
    before = None
    while True:
        page = await filled.query_journal(umo=GROUP, before_id=before, limit=7)
        if not page:
            break
        seen += [e.id for e in page]
        before = page[-1].id
    assert seen == sorted(seen, reverse=True)
    assert seen == [n + 1 for n in range(39, -1, -1) if n % 2 == 0]


async def test_query_limit_is_clamped(store):
    for n in range(1005):
        store.append_journal(entry(float(n)))
    assert len(await store.query_journal(limit=0)) == 1
    assert len(await store.query_journal(limit=-5)) == 1
    assert len(await store.query_journal(limit=100_000)) == 1000
    assert len(await store.query_journal()) == 100


async def test_count_journal(filled):
    assert await filled.count_journal() == 40
    assert await filled.count_journal(umo=FRIEND) == 20
    assert await filled.count_journal(kinds=["sent"]) == 10
    assert await filled.count_journal(kinds=()) == 0
    assert await filled.count_journal(since=1000.0 + 60 * 30) == 10
    assert await filled.count_journal(until=1000.0 + 60 * 30) == 30
    assert await filled.count_journal(before_id=11, umo=GROUP) == 5


async def test_daily_counts_by_local_day(store):
    day = 86400.0
    base = 19_000 * day  # 2022-01-08 00:00 UTC
    for at, kind in [
        (base + 1 * 3600, "sent"),  # 01:00 UTC = 09:00 at UTC+8, same day
        (base + 20 * 3600, "sent"),  # 20:00 UTC = 04:00 next day at UTC+8
        (base + 20 * 3600, "capped"),
        (base + day + 3600, "sent"),
        (base - 3600, "sent"),  # before since
        (base + 3600, "planned"),  # kind not asked for
    ]:
        store.append_journal(entry(at, kind=kind))
    utc = await store.journal_daily_counts(
        since=base, utc_offset_seconds=0, kinds=["sent", "capped"]
    )
    assert utc == [
        ("2022-01-08", "capped", 1),
        ("2022-01-08", "sent", 2),
        ("2022-01-09", "sent", 1),
    ]
    east = await store.journal_daily_counts(
        since=base, utc_offset_seconds=8 * 3600, kinds={"sent", "capped"}
    )
    assert east == [
        ("2022-01-08", "sent", 1),
        ("2022-01-09", "capped", 1),
        ("2022-01-09", "sent", 2),
    ]
    assert await store.journal_daily_counts(since=0, utc_offset_seconds=0, kinds=[]) == []


async def test_prune_by_age_and_by_count(store, clock):
    day = 86400.0
    now = clock()
    for n in range(10):  # ages just under 9 .. 0 days
        store.append_journal(entry(now - (9 - n) * day + 1))
    await store.flush()
    assert await store.prune_journal(keep_days=5, max_entries=0) == 4
    assert await store.count_journal() == 6
    assert await store.prune_journal(keep_days=0, max_entries=4) == 2
    assert [e.id for e in await store.query_journal()] == [10, 9, 8, 7]
    assert await store.prune_journal(keep_days=30, max_entries=100) == 0
    # ids keep counting up after a prune
    assert store.append_journal(entry(now)).id == 11


# --- closing -------------------------------------------------------------------------------


async def test_close_writes_pending_changes_and_ends_the_thread(db_path, clock):
    s = await reopened(db_path, clock)
    s.start()
    assert store_threads()
    s.put_session(make_state(unanswered=4))
    s.append_journal(entry(1.0))
    await s.close()
    assert store_threads() == []
    assert raw(db_path, "SELECT unanswered FROM sessions") == [(4,)]
    assert raw(db_path, "SELECT count(*) FROM journal") == [(1,)]
    assert not sidecar(db_path, "-wal").exists()  # closed cleanly: WAL checkpointed away
    await s.close()
    assert await s.flush() is False
    with pytest.raises(StoreUnavailable):
        await s.open()
    with pytest.raises(StoreUnavailable):
        await s.query_journal()


async def test_close_without_open(db_path):
    s = SessionStore(db_path)
    await s.close()
    await s.close()
    assert not db_path.exists()
    assert store_threads() == []


async def test_close_gives_up_on_a_stuck_flush(db_path, clock, logs, monkeypatch):
    monkeypatch.setattr(store_module, "CLOSE_TIMEOUT", 0.2)
    s = await reopened(db_path, clock)
    stuck = threading.Event()
    monkeypatch.setattr(s._db, "write", lambda *a: stuck.wait(5))
    s.put_session(make_state())
    started = time.monotonic()
    await s.close()
    assert time.monotonic() - started < 1.5
    assert any("could not be saved" in w for w in logs.warnings)
    stuck.set()
    for _ in range(200):  # the thread ends once the stuck call returns
        if not store_threads():
            break
        await asyncio.sleep(0.01)
    assert store_threads() == []


# --- kill -9 ------------------------------------------------------------------------------

WRITER = """
import asyncio, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from harness.plugin_package import import_plugin_package
import_plugin_package()
from proactive_chat.core.engine.models import JournalEntry, SessionState
from proactive_chat.core.store.session_store import SessionStore

async def main():
    store = SessionStore(Path({path!r}))
    await store.open()
    start = len(await store.load_sessions())
    states = [SessionState(f"p:FriendMessage:{{n}}", "friend") for n in range(200)]
    n = 0
    while True:
        n += 1
        for state in states:
            state.sent_total = n
            state.next_reason = "x" * (n % 300)
            store.put_session(state)
        for _ in range(20):
            store.append_journal(JournalEntry(float(n), "p:FriendMessage:0", "sent", "r", {{"n": n}}))
        if await store.flush():
            print(n, flush=True)

asyncio.run(main())
"""


async def test_kill_9_never_corrupts_and_keeps_the_last_flush(db_path, clock, logs):
    db_path.parent.mkdir(parents=True)
    rng = random.Random(9)
    script = WRITER.format(tests=str(TESTS_DIR), path=str(db_path))
    for _round in range(10):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            await asyncio.sleep(rng.uniform(0.0, 0.3))
        finally:
            proc.send_signal(signal.SIGKILL)
            rest, errors = await proc.communicate()
        assert first.strip(), errors.decode()
        rest = rest.decode()
        confirmed = int((first + rest).split()[-1])

        assert raw(db_path, "PRAGMA quick_check") == [("ok",)]
        s = await reopened(db_path, clock)
        try:
            totals = {st.sent_total for st in await s.load_sessions()}
            assert len(totals) == 1  # one transaction: all sessions or none
            (saved,) = totals
            assert saved >= confirmed
            assert saved <= confirmed + 1
            last = (await s.query_journal(limit=1))[0]
            assert last.detail == {"n": saved}
        finally:
            await s.close()
    assert logs.warnings == []
    assert list(db_path.parent.glob("*.corrupt-*")) == []


# --- legacy import through open() -------------------------------------------------------------


async def test_legacy_files_are_imported_once(db_path, clock, logs):
    data_dir = db_path.parent
    data_dir.mkdir(parents=True)
    session_file = data_dir / "session_data.json"
    session_file.write_text(
        json.dumps(
            {
                FRIEND: {"unanswered_count": 2, "next_trigger_time": 1_700_003_600.0},
                GROUP: {"unanswered_count": 0, "last_message_time": 1_700_000_000.0},
                "12345": {"unanswered_count": 1},
            }
        ),
        encoding="utf-8",
    )
    (data_dir / "session_overrides.json").write_text(
        json.dumps({FRIEND: {"enable": True, "session_name": "Ann"}}), encoding="utf-8"
    )
    s = await reopened(db_path, clock)
    try:
        loaded = {x.umo: x for x in await s.load_sessions()}
        assert set(loaded) == {FRIEND, GROUP}
        assert loaded[FRIEND].unanswered == 2
        assert loaded[FRIEND].name == "Ann"
        assert await s.load_overrides() == {FRIEND: {"enable": True, "session_name": "Ann"}}
        # The engine changes a session; a second open must not import again.
        loaded[FRIEND].unanswered = 0
        s.put_session(loaded[FRIEND])
    finally:
        await s.close()
    imported = [m for m in logs.infos if "Imported" in m]
    assert len(imported) == 1
    assert "2 sessions and 1 per-session settings" in imported[0]
    assert "bare id" in imported[0]

    session_file.write_text(json.dumps({"x:FriendMessage:9": {}}), encoding="utf-8")
    s = await reopened(db_path, clock)
    try:
        loaded = {x.umo: x for x in await s.load_sessions()}
        assert set(loaded) == {FRIEND, GROUP}
        assert loaded[FRIEND].unanswered == 0
    finally:
        await s.close()
    assert len([m for m in logs.infos if "Imported" in m]) == 1
    assert session_file.exists() and (data_dir / "session_overrides.json").exists()


async def test_legacy_import_does_not_overwrite_existing_sessions(db_path, clock, logs):
    s = await reopened(db_path, clock)
    s.put_session(make_state(FRIEND, unanswered=7))
    await s.close()
    # Simulate a store made before the import existed: forget that it ran.
    raw(db_path, "DELETE FROM meta")
    (db_path.parent / "session_data.json").write_text(
        json.dumps({FRIEND: {"unanswered_count": 1}, GROUP: {"unanswered_count": 1}}),
        encoding="utf-8",
    )
    s = await reopened(db_path, clock)
    try:
        loaded = {x.umo: x.unanswered for x in await s.load_sessions()}
    finally:
        await s.close()
    assert loaded == {FRIEND: 7, GROUP: 1}
    assert any("1 entries already known" in m for m in logs.infos)


async def test_no_legacy_files_no_log(store, logs):
    assert [m for m in logs.infos if "Imported" in m] == []


async def test_a_failing_legacy_import_does_not_stop_the_store(db_path, clock, logs, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(store_sqlite, "read_legacy_files", broken)
    s = await reopened(db_path, clock)
    try:
        s.put_session(make_state())
        assert await s.flush()
    finally:
        await s.close()
    assert any("Could not import" in w for w in logs.warnings)


def test_put_session_is_a_dict_assignment(db_path):
    # No I/O and no loop needed: it only remembers the object.
    s = SessionStore(db_path)
    state = make_state()
    s.put_session(state)
    assert s._pending == {FRIEND: state}
    assert not db_path.parent.exists()


# --- durable daily counters ----------------------------------------------------------------

DAY = 86400.0
UTC_2026_11_28 = datetime(2026, 11, 28, tzinfo=UTC).timestamp()


async def totals(store: SessionStore, since: float, until: float, tz=UTC) -> dict:
    return await store.daily_totals(since=since, until=until, tz=tz)


async def test_counted_kinds_are_counted_per_day_in_the_same_transaction(store, db_path):
    base = UTC_2026_11_28
    for at, kind in [
        (base + 60, "sent"),
        (base + 3600, "sent"),
        (base + 3600, "answered"),
        (base + 7200, "capped"),
        (base + 7300, "send_failed"),
        (base + 7400, "llm_failed"),
        (base + 7500, "planned"),  # not a counted kind
        (base + DAY + 5, "sent"),
    ]:
        store.append_journal(entry(at, kind=kind))
    before = store.stats["transactions"]
    assert await store.flush()
    assert store.stats["transactions"] == before + 1
    assert await totals(store, base, base + 2 * DAY) == {
        "2026-11-28": {"sent": 2, "answered": 1, "capped": 1, "send_failed": 1, "llm_failed": 1},
        "2026-11-29": {"sent": 1},
    }
    kinds = {row[0] for row in raw(db_path, "SELECT DISTINCT kind FROM counters")}
    assert kinds <= store_schema.COUNTED_KINDS
    # [since, until): the second day alone, and nothing before the first.
    assert await totals(store, base + DAY, base + 2 * DAY) == {"2026-11-29": {"sent": 1}}
    assert await totals(store, base - DAY, base) == {}


async def test_daily_totals_see_entries_not_yet_flushed(store):
    store.append_journal(entry(UTC_2026_11_28 + 10, kind="answered"))
    assert await totals(store, UTC_2026_11_28, UTC_2026_11_28 + DAY) == {
        "2026-11-28": {"answered": 1}
    }


async def test_counters_survive_journal_pruning(db_path, clock):
    clock.now = UTC_2026_11_28 + 20 * DAY
    s = await reopened(db_path, clock)
    try:
        for day in range(20):
            for n in range(3):
                s.append_journal(entry(UTC_2026_11_28 + day * DAY + n * 60, kind="sent"))
            s.append_journal(entry(UTC_2026_11_28 + day * DAY + 600, kind="answered"))
            s.append_journal(entry(UTC_2026_11_28 + day * DAY + 700, kind="planned"))
        await s.flush()
        before = await totals(s, UTC_2026_11_28, clock())
        assert len(before) == 20
        assert all(v == {"sent": 3, "answered": 1} for v in before.values())
        # Both limits at once: 2 days by age, then only the newest 5 entries.
        assert await s.prune_journal(keep_days=2, max_entries=5) == 95
        assert await s.count_journal() == 5
        assert await totals(s, UTC_2026_11_28, clock()) == before
        # The old journal-based count sees only what is left.
        left = await s.journal_daily_counts(
            since=UTC_2026_11_28, utc_offset_seconds=0, kinds=["sent"]
        )
        assert sum(n for _, _, n in left) < 60
    finally:
        await s.close()


async def test_counters_older_than_the_keep_limit_are_pruned(db_path, clock):
    clock.now = UTC_2026_11_28
    s = await reopened(db_path, clock)
    try:
        old = UTC_2026_11_28 - (store_schema.COUNTER_KEEP_DAYS + 2) * DAY
        recent = UTC_2026_11_28 - (store_schema.COUNTER_KEEP_DAYS - 2) * DAY
        s.append_journal(entry(old, kind="sent"))
        s.append_journal(entry(recent, kind="sent"))
        await s.flush()
        assert len(await totals(s, 0, UTC_2026_11_28)) == 2
        await s.prune_journal(keep_days=0, max_entries=0)  # the journal has no limits
        assert await s.count_journal() == 2
        days = await totals(s, 0, UTC_2026_11_28)
        assert list(days) == [datetime.fromtimestamp(recent, UTC).date().isoformat()]
    finally:
        await s.close()


async def test_local_days_in_zones_with_half_hour_offsets_and_dst(store):
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30
    new_york = ZoneInfo("America/New_York")  # DST from 2026-03-08 07:00 UTC
    base = datetime(2026, 3, 7, tzinfo=UTC).timestamp()
    stamps = {
        "a": base + 18 * 3600 + 29 * 60,  # 03-07 18:29Z = 23:59 Kolkata, 13:29 New York
        "b": base + 18 * 3600 + 30 * 60,  # 03-07 18:30Z = 03-08 00:00 Kolkata
        "c": base + 29 * 3600 - 60,  # 03-08 04:59Z = 23:59 EST (03-07) in New York
        "d": base + 29 * 3600,  # 03-08 05:00Z = 03-08 00:00 EST
        "e": base + 28 * 3600 + 3 * DAY,  # 03-11 04:00Z = 00:00 EDT (03-11)
        "f": base + 28 * 3600 + 3 * DAY - 1,  # 03-11 03:59:59Z = 23:59:59 EDT (03-10)
    }
    for at in stamps.values():
        store.append_journal(entry(at, kind="sent"))
    until = base + 5 * DAY
    assert await totals(store, base, until, kolkata) == {
        "2026-03-07": {"sent": 1},
        "2026-03-08": {"sent": 3},
        "2026-03-11": {"sent": 2},
    }
    assert await totals(store, base, until, new_york) == {
        "2026-03-07": {"sent": 3},
        "2026-03-08": {"sent": 1},
        "2026-03-10": {"sent": 1},
        "2026-03-11": {"sent": 1},
    }
    assert await totals(store, base, until, UTC) == {
        "2026-03-07": {"sent": 2},
        "2026-03-08": {"sent": 2},
        "2026-03-11": {"sent": 2},
    }


async def test_an_entry_written_again_is_counted_once(store):
    # A flush whose outcome is unknown (cancelled while the thread wrote) writes the
    # same entries again: the journal replaces them, the counters must not add them twice.
    first = store.append_journal(entry(UTC_2026_11_28 + 1, kind="sent"))
    second = store.append_journal(entry(UTC_2026_11_28 + 2, kind="sent"))
    await store._in_thread(store._db.write, [], [], [first])
    await store._in_thread(store._db.write, [], [], [first, second])
    await store._in_thread(store._db.write, [], [], [first, second])
    assert await totals(store, UTC_2026_11_28, UTC_2026_11_28 + DAY) == {"2026-11-28": {"sent": 2}}


async def test_a_cancelled_flush_does_not_count_twice(store, monkeypatch):
    gate = threading.Event()
    real_write = store._db.write

    def slow_write(*args):
        gate.wait(5)
        return real_write(*args)

    monkeypatch.setattr(store._db, "write", slow_write)
    store.append_journal(entry(UTC_2026_11_28 + 1, kind="answered"))
    task = asyncio.ensure_future(store.flush())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()  # the thread finishes the first write; the entry was given back
    monkeypatch.setattr(store._db, "write", real_write)
    assert await store.flush()
    assert await totals(store, UTC_2026_11_28, UTC_2026_11_28 + DAY) == {
        "2026-11-28": {"answered": 1}
    }


async def test_a_store_from_before_the_counters_is_backfilled_once(db_path, clock, logs):
    s = await reopened(db_path, clock)
    for n in range(4):
        s.append_journal(entry(UTC_2026_11_28 + n * 3600, kind="sent"))
    s.append_journal(entry(UTC_2026_11_28 + 7200, kind="answered"))
    s.append_journal(entry(UTC_2026_11_28 + 7200, kind="planned"))
    s.append_journal(entry(UTC_2026_11_28 - 3600, kind="capped"))
    await s.close()
    # What a file written by the first 2.x versions looks like: no counters table.
    raw(db_path, "DROP TABLE counters")
    version = raw(db_path, "PRAGMA user_version")

    s = await reopened(db_path, clock)
    try:
        assert await totals(s, UTC_2026_11_28 - DAY, UTC_2026_11_28 + DAY) == {
            "2026-11-27": {"capped": 1},
            "2026-11-28": {"sent": 4, "answered": 1},
        }
        s.append_journal(entry(UTC_2026_11_28 + 9000, kind="sent"))
    finally:
        await s.close()
    assert raw(db_path, "PRAGMA user_version") == version  # still opens in older versions
    assert logs.warnings == []  # not moved aside, nothing wrong
    assert len([m for m in logs.infos if "Daily statistics" in m]) == 1

    s = await reopened(db_path, clock)  # the table exists: no second backfill
    try:
        days = await totals(s, UTC_2026_11_28, UTC_2026_11_28 + DAY)
        assert days == {"2026-11-28": {"sent": 5, "answered": 1}}
    finally:
        await s.close()
    assert len([m for m in logs.infos if "Daily statistics" in m]) == 1
    assert list(db_path.parent.glob("*.newer-*")) == []


async def test_daily_totals_fail_like_other_store_calls(db_path, clock, monkeypatch):
    s = SessionStore(db_path, clock=clock)
    with pytest.raises(StoreUnavailable, match="not open"):
        await totals(s, 0, 1)
    await s.open()
    try:

        def broken(*args):
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(s._db, "daily_totals", broken)
        with pytest.raises(StoreUnavailable, match="disk I/O error"):
            await totals(s, 0, 1)
    finally:
        await s.close()
    with pytest.raises(StoreUnavailable):
        await totals(s, 0, 1)


async def test_the_journal_shows_entries_a_failing_disk_has_not_saved_yet(store):
    from harness.faults import sqlite_read_only

    # Found by tests/host/test_faults_host.py: with the disk full or read-only, the journal
    # (the panel's) showed nothing that happened since, not even why messages were held back.
    saved = [store.append_journal(entry(float(n))) for n in range(3)]
    assert await store.flush()
    await sqlite_read_only(store, True)
    unsaved = [store.append_journal(entry(float(n), kind="send_failed")) for n in range(3, 6)]
    newest_first = [e.id for e in (saved + unsaved)[::-1]]
    assert [e.id for e in await store.query_journal()] == newest_first
    page = await store.query_journal(limit=2)
    rest = await store.query_journal(before_id=page[-1].id, limit=10)
    assert [e.id for e in page + rest] == newest_first
    assert [e.id for e in await store.query_journal(kinds=["send_failed"], since=4.0)] == [
        unsaved[2].id,
        unsaved[1].id,
    ]
    assert await store.count_journal() == 6
    assert await store.count_journal(kinds=["planned"]) == 3
    await sqlite_read_only(store, False)
    assert await store.flush()
    assert [e.id for e in await store.query_journal()] == newest_first
