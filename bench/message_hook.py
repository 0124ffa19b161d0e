"""Per-message cost of the plugin's message handler as AstrBot dispatches it, at every
hour of a day, against AstrBot's own floor (an empty plugin) measured in the same run.

    .venv/bin/python bench/message_hook.py [--sessions 1000,10000] [--per-hour 400]
        [--zones Europe/Berlin@2026-10-24T12:00,Asia/Shanghai@2026-10-25T00:00]
        [--plugin-src DIR] [--before DIR] [--via stages|onebot] [--profile N]
        [--quiet-hours WINDOW]

Each (zone, session count) runs in its own child process, which boots a real AstrBot
core in process (``harness.inprocess``: ``AstrBotCoreLifecycle``, our plugin and an
empty plugin loaded by AstrBot's ``PluginManager``), with AstrBot's ``timezone`` set
to the zone and the plugin's DEFAULT config (``_conf_schema.json``: quiet hours
"1-7", 30-900 minutes) listing N private sessions ``qq:FriendMessage:<id>``.

Each message is a new ``AiocqhttpMessageEvent`` from the next sender in turn (round
robin over the N users), dispatched by AstrBot's own pipeline stages: the waking check
picks the handlers from the registry, the star-request stage calls them (see
bench/_hook_host.py). Each handler call is timed around AstrBot's ``call_handler``:
"floor" is the empty plugin's handler (one ``@filter.event_message_type(ALL)`` that
does nothing), "ours" is ``pc_on_message``, on the same events. "diff" is ours minus
floor, at the median and at p99. The handler leaves each message's plan to a batch
(core/engine/messages.py, every 0.2 s); "batch" is that batch's time per message
sent (a mean share; its p99 column is the longest batch, how long one held the loop),
and "total" = diff + batch is the plugin's own work per message, which the targets
judge. Building the event is not
timed; "wall" times the two stages for all handlers (built-in plugins included), and
it includes a wait: the waking check awaits AstrBot's preference store
(``SessionPluginManager.filter_handlers_by_session`` reads ``session_plugin_config``
of the UMO from its database), about 2 ms a message here, which also bounds the
bench's speed.

The engine's clock is a fake one (set on the engine after load; the scheduler's clock
is held at the epoch so nothing falls due). A day before the sweep every sender is
made known to the engine (``on_user_message`` called directly: set-up, not timed) and
300 messages go through the dispatch to warm it up; then the clock sweeps one local
day hour by hour from the zone's start time, ``--per-hour`` messages spread over each
hour. Berlin's default day starts on the
Saturday before the October DST change, so the evening's plans land in the night the
clocks go back, and the day has 25 hours. Targets for total: median < 20 µs and
p99 < 100 µs at every hour.

Also kept from the former bench: SQLite transactions and rows per 1,000 messages over
the sweep (the store's flusher runs as in AstrBot; the loop is yielded every 100
messages), and "no synchronous I/O on the loop": audit events (``open``, ``os.*``,
``sqlite3.*``, ...) raised on the loop thread during our handler, and the store
connection's SQL statements by thread. Target: 0 on the loop.

``--via onebot`` goes the whole way instead: a OneBot v11 client (bench/_onebot.py)
pushes each message over the reverse WebSocket to AstrBot's ``aiocqhttp`` adapter,
which builds the event and queues it; AstrBot's event bus runs its whole pipeline
(LLM stage off: no provider). "wall" then runs from the push to the end of our
handler. About 7 ms a message here, so its runs take longer (use ``--per-hour 200``).

``--profile N`` prints the N costliest functions of our handler and batches over the sweep
(cProfile, enabled during our handler only; the times it reports are then inflated).

One piece: the sweep, the timers around the handler and the batch, and the parent
that runs the children read as one measurement; the report is in _hook_report.py and
the host's dispatch in _hook_host.py.

``--before DIR`` measures another tree of the plugin (a worktree of the commit before
a change) too, back to back with this one for each zone and count, and prints both.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import gc
import json
import os
import pstats
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, bench_host, free_port, median, percentile, print_json
from _engine_parts import (  # noqa: F401  (re-exported: bench/scheduler.py imports them here)
    PLATFORM,
    GcPauses,
    LoopIoAudit,
    NullComposer,
    NullSender,
    bench_settings,
    make_state,
    trace_sql_threads,
    wait_ready,
    write_sessions,
)
from _hook_host import (
    FIRST_USER_ID,
    PLATFORM_ID,
    FakeClock,
    HandlerTimer,
    install_fake_clock,
    private_umo,
    stage_sender,
    write_empty_plugin,
)
from _hook_report import print_report
from _onebot import OneBotClient, onebot_core_config, onebot_sender

MEDIAN_TARGET_US = 20.0
P99_TARGET_US = 100.0
WARM_UP_MESSAGES = 300  # through the dispatch, before the sweep (not counted)
HISTORY_DAYS = 21  # learned habits per sender before the sweep: the weighted draw
REWEIGH_WAIT = 1.5  # seconds after the sweep: the last profiles queued are re-weighed
DEFAULT_ZONES = "Europe/Berlin@2026-10-24T12:00,Asia/Shanghai@2026-10-25T00:00"


# ---------------------------------------------------------------- child: one zone, one count


def hour_steps(zone: str, start: str) -> list[tuple[float, str]]:
    """(epoch, label) of each hour from local ``start`` to the same time a day later
    (25 steps on a day the clocks go back, 23 when they go forward)."""
    tz = ZoneInfo(zone)
    first = datetime.fromisoformat(start).replace(tzinfo=tz)
    end = (first + timedelta(days=1)).timestamp()  # wall-clock day: DST-aware
    steps, at = [], first.timestamp()
    while at < end:
        local = datetime.fromtimestamp(at, tz)
        steps.append((at, local.strftime("%a %H:%M %z")))
        at += 3600.0
    return steps


def plugin_config(count: int, quiet_hours: str | None) -> dict:
    """The default config (AstrBot fills in the schema's defaults), N sessions listed;
    ``quiet_hours`` replaces the default window when given."""
    friend: dict = {"session_list": [private_umo(i) for i in range(count)]}
    if quiet_hours is not None:
        friend["schedule_settings"] = {"quiet_hours": quiet_hours}
    return {
        "friend_settings": friend,
        "web_admin": {"port": free_port(), "password": "Bench-Passw0rd-42"},
    }


async def wait_for_engine(plugin, limit_s: float = 90.0):
    deadline = time.monotonic() + limit_s
    while True:
        service = getattr(plugin, "service", None)
        engine = getattr(service, "engine", None)
        if engine is not None and engine.ready_at is not None:
            return engine
        if time.monotonic() > deadline:
            raise TimeoutError("the plugin's engine was not ready in time")
        await asyncio.sleep(0.01)


def _us(values: list[int]) -> tuple[float, float]:
    us = [v / 1000 for v in values]
    return median(us), percentile(us, 99)


class CallTimer:
    """Times every call of one engine method that returns how many items it handled:
    its total time, items, calls and longest call (``take`` reads and resets them).

    ``apply_pending_messages`` (core/engine/messages.py): the batches in which each
    message's plan is drawn, later and with warm caches. That work is the plugin's too,
    so it is added to each message's share. ``reweigh_habits`` (habit_learning.py): at
    most once a day per profile, off the message path, so it is reported per profile
    and not added to a message's share. A tree without the method counts nothing."""

    def __init__(self, engine, method: str, profiler: cProfile.Profile | None = None) -> None:
        self.ns = self.items = self.calls = self.longest_ns = 0
        original = getattr(engine, method, None)
        if original is None:
            return

        def timed(*args) -> int:
            if profiler is not None:
                profiler.enable()
            began = time.perf_counter_ns()
            count = original(*args)
            took = time.perf_counter_ns() - began
            if profiler is not None:
                profiler.disable()
            self.ns += took
            self.items += count
            self.calls += 1
            self.longest_ns = max(self.longest_ns, took)
            return count

        setattr(engine, method, timed)

    def take(self) -> tuple[int, int, int, int]:
        figures = (self.ns, self.items, self.calls, self.longest_ns)
        self.ns = self.items = self.calls = self.longest_ns = 0
        return figures


def reweigh_figures(timer: CallTimer, messages: int) -> dict:
    ns, profiles, _, longest_ns = timer.take()
    return {
        "reweighed_profiles": profiles,
        "reweigh_us_per_profile": ns / 1000 / max(1, profiles),
        "reweigh_longest_slice_us": longest_ns / 1000,
        "reweigh_share_per_message_us": ns / 1000 / max(1, messages),
    }


def step_figures(
    label: str, times: dict[str, list[int]], wall: list[int], batch: tuple[int, int, int, int]
) -> dict:
    floor_med, floor_p99 = _us(times["floor"])
    ours_med, ours_p99 = _us(times["ours"])
    wall_med, wall_p99 = _us(wall)
    batch_ns, _, batches, longest_ns = batch
    batch_share = batch_ns / 1000 / max(1, len(times["ours"]))
    return {
        "hour": label,
        "floor_median_us": floor_med,
        "floor_p99_us": floor_p99,
        "ours_median_us": ours_med,
        "ours_p99_us": ours_p99,
        "diff_median_us": ours_med - floor_med,
        "diff_p99_us": ours_p99 - floor_p99,
        "batch_median_us": batch_share,  # a mean share per message (batches are amortized)
        "batch_p99_us": longest_ns / 1000,  # the longest batch: how long it held the loop
        "total_median_us": ours_med - floor_med + batch_share,
        "total_p99_us": ours_p99 - floor_p99 + batch_share,
        "batches": batches,
        "wall_median_us": wall_med,
        "wall_p99_us": wall_p99,
    }


async def learn_history(engine, clock, count: int, days: int, until: float) -> None:
    """Set-up, not timed: ``days`` days of learned habits for every sender before
    ``until``, as a chat that has used the bot for weeks has (the draw is then weighted:
    habit_draw.py). Each sender writes in 7 hours of each day, its own 7 (seeded)."""
    if days <= 0 or not hasattr(engine, "_note_habit_activity"):
        return
    rng = random.Random(17)
    first = until - days * 86_400.0
    for index in range(count):
        umo = private_umo(index)
        settings = engine.settings_for(umo, "private")
        hours_of_day = rng.sample(range(8, 24), 7)
        for day in range(days):
            for hour in hours_of_day:
                at = first + day * 86_400.0 + hour * 3600.0 + 60.0
                clock.now = at
                engine._note_habit_activity(umo, settings, at)
        if index % 500 == 499:
            await asyncio.sleep(0)
    clock.now = until


async def know_every_sender(engine, count: int) -> None:
    """Set-up, not timed: each sender is a session the engine knows and plans."""
    for index in range(count):
        engine.on_user_message(private_umo(index), f"user {index}")
        if index % 1000 == 999:
            await asyncio.sleep(0)
    known = sum(1 for umo in engine.sessions if umo.startswith(f"{PLATFORM_ID}:FriendMessage:"))
    assert known == count, f"{known} sessions known after the set-up, not {count}"


def writes_per_1000(stats0: dict, stats1: dict, sent: int) -> dict:
    def per_1000(key: str) -> float:
        return (stats1[key] - stats0[key]) / sent * 1000

    return {
        "sqlite_transactions_per_1000_msgs": per_1000("transactions"),
        "rows_written_per_1000_msgs": per_1000("rows_written"),
    }


async def sweep(host, args: argparse.Namespace, client=None) -> dict:
    zone, start = args.zone_one.split("@")
    count = args.sessions_one
    plugin = host.plugin_instance()
    engine = await wait_for_engine(plugin)
    quiet_hours = host.plugin_config()["friend_settings"]["schedule_settings"]["quiet_hours"]
    steps = hour_steps(zone, start)
    clock = FakeClock(steps[0][0] - 86_400.0)
    install_fake_clock(engine, clock)
    audit = LoopIoAudit()
    profiler = cProfile.Profile() if args.profile else None
    timer = HandlerTimer(audit, profiler)
    timer.install(host.metadata().root_dir_name)
    batches = CallTimer(engine, "apply_pending_messages", profiler)
    reweighs = CallTimer(engine, "reweigh_habits")
    senders = (i % count for i in range(1 << 62))
    send = (
        onebot_sender(client, timer, clock, senders, FIRST_USER_ID)
        if client is not None
        else stage_sender(host, clock, senders)
    )
    try:
        await learn_history(engine, clock, count, args.history_days, clock.now)
        await know_every_sender(engine, count)
        await send(clock.now, 1.0, WARM_UP_MESSAGES)
        await asyncio.sleep(0.3)  # the warm-up's last batch
        timer.take()
        batches.take()
        reweighs.take()  # counted from the sweep on
        await engine.store.flush()
        sql_threads: collections.Counter[str] = collections.Counter()
        await trace_sql_threads(engine.store, sql_threads)
        gc.collect()
        audit.io_events.clear()
        audit.other_events.clear()
        stats0 = dict(engine.store.stats)
        began, per_step = time.perf_counter(), []
        spacing = 3600.0 / args.per_hour
        for at, label in steps:
            wall = await send(at, spacing, args.per_hour)
            await asyncio.sleep(0.3)  # the step's last batch runs before the next step
            per_step.append(step_figures(label, timer.take(), wall, batches.take()))
        seconds = time.perf_counter() - began
        await asyncio.sleep(REWEIGH_WAIT)  # the last profiles queued are re-weighed
        await engine.store.flush()
        stats1 = dict(engine.store.stats)
    finally:
        timer.uninstall()
    if profiler is not None:  # to stderr: stdout carries the JSON line
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(args.profile)
    sent = args.per_hour * len(steps)
    return {
        "zone": zone,
        "sessions": count,
        "via": args.via,
        "onebot_actions_answered": dict(client.actions) if client is not None else {},
        "engine_timezone": str(engine.timezone),
        "quiet_hours": quiet_hours,
        "messages_per_hour": args.per_hour,
        "steps": per_step,
        "sweep_msgs_per_s": sent / seconds,
        "history_days": args.history_days,
        **reweigh_figures(reweighs, sent),
        **writes_per_1000(stats0, stats1, sent),
        "loop_io_audit_events_in_handler": sum(audit.io_events.values()),
        "loop_io_audit_event_names": dict(audit.io_events),
        "sql_statements_on_loop_thread": sql_threads["loop"],
        "sql_statements_in_store_thread": sql_threads["store_thread"],
    }


async def child(args: argparse.Namespace) -> dict:
    zone = args.zone_one.split("@")[0]
    core_config: dict = {"timezone": zone}
    port = free_port()
    if args.via == "onebot":
        core_config |= onebot_core_config(PLATFORM_ID, port)
    async with bench_host(
        "hook",
        plugin_config(args.sessions_one, args.quiet_hours),
        plugin_src=Path(args.plugin_src),
        core_config=core_config,
        prepare=write_empty_plugin,
    ) as host:
        if args.via != "onebot":
            return await sweep(host, args)
        async with OneBotClient(port) as client:
            return await sweep(host, args, client)


def run_child_mode(args: argparse.Namespace) -> None:
    # AstrBot's console logger writes to the stdout it finds: keep it off ours (JSON).
    real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")
    try:
        figures = asyncio.run(child(args))
    finally:
        sys.stdout = real_stdout
    print(json.dumps(figures), flush=True)


# ---------------------------------------------------------------- parent


def run_child(tree: str, zone: str, count: int, args: argparse.Namespace) -> dict:
    per_hour, profile, via = args.per_hour, args.profile, args.via
    command = [
        sys.executable,
        __file__,
        f"--zone-one={zone}",
        f"--sessions-one={count}",
        f"--per-hour={per_hour}",
        f"--plugin-src={Path(tree).resolve()}",
        f"--profile={profile}",
        f"--via={via}",
        f"--history-days={args.history_days}",
    ]
    if args.quiet_hours is not None:
        command.append(f"--quiet-hours={args.quiet_hours}")
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def worst(figures: dict) -> dict:
    steps = figures["steps"]
    by_median = max(steps, key=lambda s: s["total_median_us"])
    by_p99 = max(steps, key=lambda s: s["total_p99_us"])
    return {
        "worst_median_hour": by_median["hour"],
        "worst_p99_hour": by_p99["hour"],
        **{f"worst_median_hour_{k}": v for k, v in by_median.items() if k != "hour"},
        "worst_diff_p99_us": by_p99["total_p99_us"],
        "targets_met": by_median["total_median_us"] < MEDIAN_TARGET_US
        and by_p99["total_p99_us"] < P99_TARGET_US,
    }


def flatten(results: dict) -> dict:
    flat: dict = {"median_target_us": MEDIAN_TARGET_US, "p99_target_us": P99_TARGET_US}
    for tree, runs in results.items():
        for f in runs:
            key = f"{tree}_{f['zone'].replace('/', '_')}_s{f['sessions']}"
            flat |= {f"{key}_{k}": v for k, v in worst(f).items()}
            for name in (
                "sqlite_transactions_per_1000_msgs",
                "rows_written_per_1000_msgs",
                "loop_io_audit_events_in_handler",
                "sql_statements_on_loop_thread",
                "sweep_msgs_per_s",
                "reweighed_profiles",
                "reweigh_us_per_profile",
                "reweigh_share_per_message_us",
            ):
                flat[f"{key}_{name}"] = f.get(name)
            flat[f"{key}_total_median_us_by_hour"] = [
                round(s["total_median_us"], 2) for s in f["steps"]
            ]
    flat["load_average"] = os.getloadavg()
    return flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", default="1000,10000", help="comma-separated counts")
    parser.add_argument("--per-hour", type=int, default=400, help="messages per hour step")
    parser.add_argument("--zones", default=DEFAULT_ZONES, help="zone@local-start,...")
    parser.add_argument("--plugin-src", default=str(ROOT), help="the plugin tree measured")
    parser.add_argument("--before", help="another plugin tree, measured back to back")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        help="print the N costliest functions of our handler (cProfile; times then inflated)",
    )
    parser.add_argument(
        "--via",
        choices=("stages", "onebot"),
        default="stages",
        help="events built and handed to AstrBot's stages, or pushed by a OneBot v11 "
        "client through the aiocqhttp adapter and AstrBot's whole pipeline",
    )
    parser.add_argument(
        "--quiet-hours", help='instead of the default window ("" for none: a comparison)'
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=HISTORY_DAYS,
        help="days of learned habits per sender before the sweep (0: new chats)",
    )
    parser.add_argument("--zone-one", help=argparse.SUPPRESS)
    parser.add_argument("--sessions-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sessions_one:
        run_child_mode(args)
        return
    counts = [int(part.replace("_", "")) for part in args.sessions.split(",") if part.strip()]
    zones = [part.strip() for part in args.zones.split(",") if part.strip()]
    trees = {"after": args.plugin_src} | ({"before": args.before} if args.before else {})
    results: dict[str, list[dict]] = {name: [] for name in sorted(trees)}
    for zone in zones:
        for count in counts:
            for name in sorted(trees):  # "after" then "before", back to back
                results[name].append(run_child(trees[name], zone, count, args))
    print_report(results, trees, worst, (MEDIAN_TARGET_US, P99_TARGET_US))
    print_json("message_hook", flatten(results))


if __name__ == "__main__":
    main()
