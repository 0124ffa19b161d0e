"""Engine-level parts the benchmarks share: a real ``SessionStore`` filled with sessions,
null ports for the engine, and probes for I/O on the loop thread and GC pauses.

bench/scheduler.py uses these through ``message_hook`` (which re-exports them);
bench/message_hook.py uses the probes on the plugin's own store and loop.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import os
import random
import sys
import threading
import time
from pathlib import Path

from _common import bench_config, session_name, session_umo

PLATFORM = "bench"


def proc_io(field: str) -> int:
    with open("/proc/self/io") as io:
        for line in io:
            name, _, value = line.partition(":")
            if name == field:
                return int(value)
    return 0


def bench_settings(count: int):
    from proactive_chat.core.engine.config import parse_plugin_config

    settings, problems = parse_plugin_config(bench_config(count, PLATFORM))
    assert not problems, problems[:3]
    return settings


class NullComposer:
    """The engine's ``Composer`` protocol; answers at once (nothing is due in the runs)."""

    async def compose(self, umo, settings, prompt):
        from proactive_chat.core.engine.ports import ComposeResult

        return ComposeResult("bench", "bench-provider", None, None, 1)

    async def remember(self, umo, conversation_id, text) -> None:
        return None


class NullSender:
    """The engine's ``Sender`` protocol; every send succeeds at once."""

    def platform_problem(self, umo):
        return None

    async def send(self, umo, text, settings, *, hurry=None):
        from proactive_chat.core.engine.ports import SendResult

        return SendResult(ok=True, kind="sent", parts=1)


def make_state(index: int, now: float, rng: random.Random, next_at: float | None, phase: str):
    from proactive_chat.core.engine.models import SessionState

    umo = session_umo(index, PLATFORM)
    last = now - rng.uniform(60.0, 86400.0)
    return SessionState(
        umo=umo,
        kind="group" if index % 5 == 4 else "friend",
        name=session_name(index),
        last_user_at=last,
        last_activity_at=last,
        next_at=next_at,
        phase=phase,
        next_reason="user_message" if next_at else "",
        created_at=now - 30 * 86400.0,
        sent_total=rng.randrange(20),
    )


async def write_sessions(path: Path, states) -> None:
    """Set-up: write sessions with ``put_session`` + ``flush`` and close the store."""
    from proactive_chat.core.store.session_store import SessionStore

    store = SessionStore(path)
    await store.open()
    for state in states:
        store.put_session(state)
    assert await store.flush()
    await store.close()


def db_bytes(path: Path) -> int:
    return sum(
        os.path.getsize(f"{path}{suffix}")
        for suffix in ("", "-wal")
        if os.path.exists(f"{path}{suffix}")
    )


class LoopIoAudit:
    """Counts I/O-ish audit events raised on the loop thread while ``armed``."""

    IO_PREFIXES = (
        "open",
        "os.",
        "shutil.",
        "sqlite3.",
        "socket.",
        "subprocess.",
        "fcntl.",
        "mmap.",
        "tempfile.",
        "glob.",
        "pathlib.",
        "time.sleep",
    )

    def __init__(self) -> None:
        self.loop_thread = threading.get_ident()
        self.armed = False
        self.io_events: collections.Counter[str] = collections.Counter()
        self.other_events: collections.Counter[str] = collections.Counter()
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if not self.armed or threading.get_ident() != self.loop_thread:
            return
        if event.startswith(self.IO_PREFIXES):
            self.io_events[event] += 1
        else:
            self.other_events[event] += 1


async def trace_sql_threads(store, counts: collections.Counter) -> None:
    """Count the store connection's SQL statements by the thread that runs them."""
    loop_thread = threading.get_ident()

    def traced(_statement: str) -> None:
        counts["loop" if threading.get_ident() == loop_thread else "store_thread"] += 1

    def install() -> None:
        store._db.conn.set_trace_callback(traced)  # the connection lives in the store thread

    try:  # store internals: without them the SQL figures read 0 and the audit hook remains
        await store._in_thread(install)
    except AttributeError:
        counts["trace_unavailable"] = 1


class GcPauses:
    """Records each cyclic-GC pause (generation, seconds) while ``armed``."""

    def __init__(self) -> None:
        self.armed = False
        self.pauses: list[tuple[int, float]] = []
        self.threads: list[str] = []  # the thread each pause ran on (GC holds the GIL)
        self._began = 0.0
        self.total = 0.0  # seconds of GC so far (armed or not): to subtract from a step
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        self.total += time.perf_counter() - self._began
        if self.armed:
            self.pauses.append((info["generation"], time.perf_counter() - self._began))
            self.threads.append(threading.current_thread().name)

    def clear(self) -> None:
        self.pauses.clear()
        self.threads.clear()

    def longest(self) -> tuple[float, str]:
        """(seconds, thread name) of the longest pause."""
        if not self.pauses:
            return 0.0, ""
        index = max(range(len(self.pauses)), key=lambda i: self.pauses[i][1])
        return self.pauses[index][1], self.threads[index]

    def summary(self, prefix: str) -> dict:
        full = [s for g, s in self.pauses if g == 2]
        return {
            f"{prefix}_gc_collections": len(self.pauses),
            f"{prefix}_gc_full_collections": len(full),
            f"{prefix}_gc_longest_pause_ms": max((s for _g, s in self.pauses), default=0.0) * 1e3,
        }


async def wait_ready(engine, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while engine.ready_at is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the engine did not restore its plans in time")
        await asyncio.sleep(0.001)
