"""Per-message cost: the engine's ``on_user_message`` and the plugin's AstrBot handler
with many known sessions, and what the message path writes to disk.

    .venv/bin/python bench/message_hook.py [--sessions 10000,100000] [--messages 200000]
                                           [--rate 5000] [--seconds 4]

Each session count runs in its own child process (clean RSS figures). The child
writes N sessions (80 % ``bench:FriendMessage:u<i>``, 20 % ``bench:GroupMessage:g<i>``,
all listed in ``session_list``, quiet hours off, plans hours away) into a real
``SessionStore`` file, then opens a new store on it and starts a real
``ProactiveEngine``, which loads them (nothing of that is timed). Then, to random
known sessions, it times each call (``time.perf_counter_ns``) of:

(a) ``engine.on_user_message(umo, name)``;
(b) the real handler ``ProactiveChatPlugin.pc_on_message(event)`` of main.py with a
    real ``AstrMessageEvent`` over a real ``AstrBotMessage``. AstrBot's decorators only
    register metadata and return the function unchanged, so the bound method is
    awaited directly, as AstrBot's pipeline does; the plugin object is made with
    ``object.__new__`` and given a ``service`` holding the engine. Building the event
    (AstrBot's own cost, ~40 µs) is outside the timed region.

The store's background flusher runs all along (the loop is yielded every 100 calls).
Then messages are sent at a steady rate (asyncio-paced) to count SQLite transactions
and bytes written per 1,000 messages.

"No synchronous disk I/O on the loop": an audit hook (``sys.addaudithook``) counts
I/O-ish events raised on the loop thread while the message loops run (``open``,
``os.*``, ``shutil.*``, ``sqlite3.*``, ``socket.*``, ``subprocess.*``, ``time.sleep``
...), and an SQLite trace callback on the store's connection counts statements by
thread (CPython raises no audit event for a write on an already-open descriptor:
the SQL trace covers the store's connection). Target: 0 on the loop thread.

Targets: median under 20 µs per message; no synchronous writes on the loop. Context:
the reference plugin measured ~31 ms per private message at 1,000 sessions and
90-290 ms at 10,000, rewriting a 420 KB state file on every message.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    bench_config,
    import_plugin_package,
    median,
    percentile,
    print_json,
    print_table,
    rss_mb,
    session_name,
    session_umo,
)

PLATFORM = "bench"
MEDIAN_TARGET_US = 20.0
REFERENCE = (
    "reference plugin: ~31 ms per private message at 1,000 sessions, 90-290 ms at "
    "10,000 (a 420 KB state file rewritten on every message)"
)


# ---------------------------------------------------------------- shared helpers
# (bench/scheduler.py imports these too)


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


# ---------------------------------------------------------------- child: one session count


def _stats(prefix: str, durations_ns: list[int]) -> dict:
    us = [d / 1000 for d in durations_ns]
    return {
        f"{prefix}_median_us": median(us),
        f"{prefix}_p99_us": percentile(us, 99),
        f"{prefix}_p99_9_us": percentile(us, 99.9),
        f"{prefix}_max_us": max(us),
        f"{prefix}_msgs_per_s_handler_only": len(us) / (sum(us) / 1e6),
        f"{prefix}_calls_over_20ms": sorted(round(u / 1000, 1) for u in us if u > 20_000)[::-1],
    }


async def _time_engine(engine, picks, audit) -> tuple[list[int], float]:
    clock = time.perf_counter_ns
    on_message = engine.on_user_message
    durations: list[int] = []
    append = durations.append
    audit.armed = True
    began = time.perf_counter()
    for n, index in enumerate(picks):
        umo, name = session_umo(index, PLATFORM), session_name(index)
        t0 = clock()
        on_message(umo, name)
        append(clock() - t0)
        if n % 100 == 99:
            await asyncio.sleep(0)  # let the store's flusher run, as in AstrBot
    wall = time.perf_counter() - began
    audit.armed = False
    return durations, wall


def _event_factory():
    from astrbot.core.platform.astr_message_event import AstrMessageEvent
    from astrbot.core.platform.astrbot_message import AstrBotMessage, Group, MessageMember
    from astrbot.core.platform.message_type import MessageType
    from astrbot.core.platform.platform_metadata import PlatformMetadata

    meta = PlatformMetadata(name=PLATFORM, description="benchmark platform", id=PLATFORM)
    counter = iter(range(1 << 62))

    def build(index: int) -> AstrMessageEvent:
        message = AstrBotMessage()
        message.self_id = "bot"
        message.message_id = str(next(counter))
        message.message = []
        message.message_str = "hello there"
        message.raw_message = None
        if index % 5 == 4:
            message.type = MessageType.GROUP_MESSAGE
            message.session_id = f"g{index}"
            message.group = Group(group_id=f"g{index}", group_name=session_name(index))
            message.sender = MessageMember(user_id=f"m{index}", nickname=f"member {index}")
        else:
            message.type = MessageType.FRIEND_MESSAGE
            message.session_id = f"u{index}"
            message.sender = MessageMember(user_id=f"u{index}", nickname=session_name(index))
        return AstrMessageEvent(message.message_str, message, meta, message.session_id)

    return build


async def _time_handler(plugin, picks, audit) -> tuple[list[int], float]:
    build = _event_factory()
    clock = time.perf_counter_ns
    handler = plugin.pc_on_message
    durations: list[int] = []
    append = durations.append
    began = time.perf_counter()
    for n, index in enumerate(picks):
        event = build(index)  # AstrBot's cost, not ours: not timed, not audited
        audit.armed = True
        t0 = clock()
        await handler(event)
        append(clock() - t0)
        audit.armed = False
        if n % 100 == 99:
            await asyncio.sleep(0)
    return durations, time.perf_counter() - began


async def _paced(engine, rng, count, rate, seconds, audit, burst=50) -> int:
    interval = burst / rate
    total = int(rate * seconds)
    on_message = engine.on_user_message
    next_at = time.perf_counter()
    audit.armed = True
    for _ in range(0, total, burst):
        for _ in range(burst):
            index = rng.randrange(count)
            on_message(session_umo(index, PLATFORM), session_name(index))
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    audit.armed = False
    return total


async def child(args: argparse.Namespace) -> dict:
    import_plugin_package()
    from proactive_chat.core.engine.engine import ProactiveEngine
    from proactive_chat.core.engine.models import Phase
    from proactive_chat.core.store.session_store import SessionStore
    from proactive_chat.main import ProactiveChatPlugin

    count = args.sessions_one
    audit = LoopIoAudit()
    rss_imports = rss_mb()
    workdir = Path(os.getcwd())
    path = workdir / "proactive_chat.db"

    # Set-up (not measured): the sessions are known, with plans hours away.
    now = time.time()
    rng = random.Random(1)
    states = (
        make_state(
            i,
            now,
            rng,
            now + rng.uniform(2 * 3600, 10 * 3600),
            Phase.SILENCE if i % 5 == 4 else Phase.PLANNED,
        )
        for i in range(count)
    )
    await write_sessions(path, states)
    settings = bench_settings(count)
    store = SessionStore(path)
    await store.open()
    store.start()  # the background flusher runs all along
    engine = ProactiveEngine(
        settings=settings,
        store=store,
        composer=NullComposer(),
        sender=NullSender(),
        is_ready=lambda: True,
    )
    await engine.start()
    await wait_ready(engine)
    assert len(engine.sessions) == count and len(engine.scheduler) == count
    sql_threads: collections.Counter[str] = collections.Counter()
    await trace_sql_threads(store, sql_threads)
    gc.collect()
    rss_loaded = rss_mb()
    tracked_objects = len(gc.get_objects())

    plugin = object.__new__(ProactiveChatPlugin)
    plugin.service = SimpleNamespace(engine=engine)

    pick_rng = random.Random(2)
    warm = [pick_rng.randrange(count) for _ in range(2000)]
    await _time_engine(engine, warm, audit)
    await _time_handler(plugin, warm, audit)
    audit.io_events.clear()
    audit.other_events.clear()
    sql_threads.clear()

    picks = [pick_rng.randrange(count) for _ in range(args.messages)]
    gc_pauses = GcPauses()
    gc_pauses.armed = True
    engine_ns, engine_wall = await _time_engine(engine, picks, audit)
    engine_gc = gc_pauses.summary("engine")
    gc_pauses.clear()
    handler_ns, _ = await _time_handler(plugin, picks, audit)
    handler_gc = gc_pauses.summary("handler")
    gc_pauses.armed = False
    burst_io = sum(audit.io_events.values())
    burst_io_names = dict(audit.io_events)

    # Steady rate with the flusher: transactions and bytes per 1,000 messages.
    await store.flush()
    await asyncio.sleep(0.1)
    stats0, size0, wchar0 = dict(store.stats), db_bytes(path), proc_io("wchar")
    sent = await _paced(engine, pick_rng, count, args.rate, args.seconds, audit)
    await asyncio.sleep(1.5)  # the flusher writes the tail (interval 1 s)
    stats1, size1, wchar1 = dict(store.stats), db_bytes(path), proc_io("wchar")
    paced_io = sum(audit.io_events.values()) - burst_io

    await engine.stop()
    await store.close()
    figures = {
        "sessions": count,
        "messages": args.messages,
        "rss_after_imports_mb": rss_imports,
        "rss_after_load_mb": rss_loaded,
        "gc_tracked_objects_after_load": tracked_objects,
        **_stats("engine", engine_ns),
        "engine_msgs_per_s_wall": args.messages / engine_wall,
        **engine_gc,
        **_stats("handler", handler_ns),
        **handler_gc,
        "paced_messages": sent,
        "paced_rate_per_s": args.rate,
        "sqlite_transactions": stats1["transactions"] - stats0["transactions"],
        "sqlite_transactions_per_1000_msgs": (stats1["transactions"] - stats0["transactions"])
        / sent
        * 1000,
        "rows_written_per_1000_msgs": (stats1["rows_written"] - stats0["rows_written"])
        / sent
        * 1000,
        "db_wal_growth_bytes": size1 - size0,
        "process_wchar_bytes_per_1000_msgs": (wchar1 - wchar0) / sent * 1000,
        "loop_io_audit_events_burst": burst_io,
        "loop_io_audit_events_paced": paced_io,
        "loop_io_audit_event_names": burst_io_names | dict(audit.io_events),
        "loop_other_audit_events": dict(audit.other_events.most_common(5)),
        "sql_statements_on_loop_thread": sql_threads["loop"],
        "sql_statements_in_store_thread": sql_threads["store_thread"],
    }
    return figures


def run_child_mode(args: argparse.Namespace) -> None:
    # Importing astrbot creates data/ in the working directory: keep it out of the repo.
    workdir = tempfile.mkdtemp(prefix="pc-bench-hook-")
    os.chdir(workdir)
    os.environ["ASTRBOT_ROOT"] = workdir
    # AstrBot's console logger keeps the stdout it found at import: /dev/null, left open.
    real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")
    try:
        import astrbot.core  # noqa: F401
    finally:
        sys.stdout = real_stdout
    logging_quiet()
    try:
        figures = asyncio.run(child(args))
    finally:
        os.chdir("/")
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures), flush=True)


def logging_quiet() -> None:
    import logging

    logging.getLogger("astrbot").setLevel(logging.WARNING)


# ---------------------------------------------------------------- parent


def _gc(f: dict, prefix: str) -> str:
    return (
        f"{f[prefix + '_gc_collections']:,} / {f[prefix + '_gc_full_collections']} / "
        f"{f[prefix + '_gc_longest_pause_ms']:.1f}"
    )


def _slow(f: dict, prefix: str) -> str:
    slow = f[prefix + "_calls_over_20ms"]
    return ", ".join(f"{ms:.1f}" for ms in slow[:6]) + (" ..." if len(slow) > 6 else "") or "none"


def _table(f: dict) -> list[tuple[str, object]]:
    n = f["sessions"]
    io_total = f["loop_io_audit_events_burst"] + f["loop_io_audit_events_paced"]
    met = "met" if f["engine_median_us"] < MEDIAN_TARGET_US else "NOT met"
    met_handler = "met" if f["handler_median_us"] < MEDIAN_TARGET_US else "NOT met"
    io_met = "met" if io_total == 0 and f["sql_statements_on_loop_thread"] == 0 else "NOT met"
    return [
        ("sessions known", f"{n:,}"),
        ("RSS after imports (MB)", f["rss_after_imports_mb"]),
        ("RSS after loading (MB)", f["rss_after_load_mb"]),
        ("GC-tracked objects after loading", f"{f['gc_tracked_objects_after_load']:,}"),
        ("messages timed (each path)", f"{f['messages']:,}"),
        ("(a) on_user_message median (µs)", f["engine_median_us"]),
        ("(a) p99 (µs)", f["engine_p99_us"]),
        ("(a) p99.9 (µs)", f["engine_p99_9_us"]),
        ("(a) max (µs)", f["engine_max_us"]),
        ("(a) msgs/s, handler time only", f["engine_msgs_per_s_handler_only"]),
        ("(a) msgs/s, wall (with flusher)", f["engine_msgs_per_s_wall"]),
        ("(a) GC runs / full / longest (ms)", _gc(f, "engine")),
        ("(a) calls over 20 ms (ms each)", _slow(f, "engine")),
        ("(b) pc_on_message median (µs)", f["handler_median_us"]),
        ("(b) p99 (µs)", f["handler_p99_us"]),
        ("(b) p99.9 (µs)", f["handler_p99_9_us"]),
        ("(b) max (µs)", f["handler_max_us"]),
        ("(b) msgs/s, handler time only", f["handler_msgs_per_s_handler_only"]),
        ("(b) GC runs / full / longest (ms)", _gc(f, "handler")),
        ("(b) calls over 20 ms (ms each)", _slow(f, "handler")),
        (f"median target < {MEDIAN_TARGET_US:.0f} µs: (a) / (b)", f"{met} / {met_handler}"),
        (
            "paced: messages at rate",
            f"{f['paced_messages']:,} at {f['paced_rate_per_s']:,}/s",
        ),
        ("SQLite transactions", f["sqlite_transactions"]),
        ("SQLite transactions / 1,000 msgs", f["sqlite_transactions_per_1000_msgs"]),
        ("rows written / 1,000 msgs", f["rows_written_per_1000_msgs"]),
        ("db + wal growth (bytes)", f"{f['db_wal_growth_bytes']:,}"),
        ("bytes written (wchar) / 1,000 msgs", f["process_wchar_bytes_per_1000_msgs"]),
        ("I/O audit events on loop (bursts)", f["loop_io_audit_events_burst"]),
        ("I/O audit events on loop (paced)", f["loop_io_audit_events_paced"]),
        ("SQL statements on loop thread", f["sql_statements_on_loop_thread"]),
        ("SQL statements in store thread", f["sql_statements_in_store_thread"]),
        ("no synchronous I/O on loop (target 0)", io_met),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", default="10000,100000", help="comma-separated counts")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=5000, help="paced phase, messages/s")
    parser.add_argument("--seconds", type=float, default=4.0, help="paced phase length")
    parser.add_argument("--sessions-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sessions_one:
        run_child_mode(args)
        return
    counts = [int(part.replace("_", "")) for part in args.sessions.split(",") if part.strip()]
    results = []
    for count in counts:
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                f"--sessions-one={count}",
                f"--messages={args.messages}",
                f"--rate={args.rate}",
                f"--seconds={args.seconds}",
            ],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
        results.append(figures)
        print_table(f"Message hook, {count:,} sessions (bench/message_hook.py)", _table(figures))
        if figures["loop_io_audit_event_names"] or figures["loop_other_audit_events"]:
            print("audit events on the loop thread:", figures["loop_io_audit_event_names"])
            print("other audit events on the loop thread:", figures["loop_other_audit_events"])
    print(f"\ncontext: {REFERENCE}")
    flat = {}
    for figures in results:
        for key, value in figures.items():
            if key != "sessions":
                flat[f"s{figures['sessions']}_{key}"] = value
    flat["median_target_us"] = MEDIAN_TARGET_US
    flat["median_target_met"] = all(f["engine_median_us"] < MEDIAN_TARGET_US for f in results)
    flat["no_sync_io_on_loop"] = all(
        f["loop_io_audit_events_burst"] + f["loop_io_audit_events_paced"] == 0
        and f["sql_statements_on_loop_thread"] == 0
        for f in results
    )
    print_json("message_hook", flat)


if __name__ == "__main__":
    main()
