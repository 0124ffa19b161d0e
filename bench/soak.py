"""Soak: a real AstrBot core hosting the plugin for a set time, everything at once.

    .venv/bin/python bench/soak.py --minutes 20 --reloads 200

Hot reloads spread over the run (reload and config saves in turn), panel clients
connected throughout (live-log followers and a /healthz prober in other processes,
/ws/events clients, a logged-in reader of /api/status and the pages), chat traffic
through the test platform into AstrBot's pipeline, and "send now" through the admin
API, the scripted model sometimes slow. The run itself is ``harness.soak.run_soak``,
the same code the short soak of the test suite runs (tests/host/test_soak_short.py).

Prints reloads survived, reload time p50/p95/max, messages sent, lost and duplicated,
refused connections, WebSocket reconnects and lines, and the growth of RSS, fds,
asyncio tasks and threads between the warm-up point and the end. Exit code 1 if
anything that must be zero is not, or growth is above the bounds below.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)]

from _common import bench_host, percentile, print_json, print_table, rss_mb  # noqa: E402

from harness.ports import free_port  # noqa: E402
from harness.soak import SoakSessions, SoakSettings, run_soak, soak_plugin_config  # noqa: E402
from harness.soak_report import GrowthBounds, SoakReport  # noqa: E402

# Between the warm-up point and the end, same clients, traffic held still. Measured:
# +6 MB, fds/tasks +0 over 180 reloads. With 180 reloads after the warm-up, a leak of
# 0.4 MB, one socket or one task per reload fails these; a busy machine does not.
BOUNDS = GrowthBounds(rss_mb=64.0, fds=8, tasks=8, threads=4)


async def run(settings: SoakSettings, say: Callable[[str], None]) -> SoakReport:
    sessions = SoakSessions.fresh(settings.friends, settings.groups)
    config = soak_plugin_config(free_port(), sessions)
    # run_soak reads the plugin's errors from the log capture and clears it each second.
    async with bench_host("soak", config, chat=True, keep_logs=True) as host:
        say(f"AstrBot booted in {host.boot_seconds:.1f} s, RSS {rss_mb():.0f} MB")
        return await run_soak(host, sessions, settings, progress=say)


def figures(report: SoakReport) -> dict:
    durations = report.reload_seconds or [float("nan")]
    growth = report.growth
    chat, events, panel = report.chat, report.events, report.panel
    follow = report.log_clients
    return {
        "duration_s": report.seconds,
        "reloads_survived": report.reloads_survived,
        "reloads_requested": report.reloads_requested,
        "reload_p50_ms": statistics.median(durations) * 1000,
        "reload_p95_ms": percentile(durations, 95) * 1000,
        "reload_max_ms": max(durations) * 1000,
        "proactive_messages_sent": report.proactive_sent,
        "pipeline_replies_sent": report.replies_sent,
        "triggers_accepted": report.triggers["accepted"],
        "triggers_refused_busy_409": report.triggers["statuses"].get("409", 0),
        "triggers_pressed_before_a_reload": report.triggers["before_reload"],
        "trigger_outcomes": report.trigger_outcomes,
        "lost_triggers": report.lost_triggers,
        "duplicated_messages": report.duplicated,
        "unexplained_proactive": report.unexplained_proactive,
        "chat_messages_injected": chat["injected"],
        "chat_replies_lost": chat["lost_replies"],
        "chat_replies_duplicated": chat["duplicated_replies"],
        "chat_unprocessed": chat["unprocessed"],
        "refused_connections": report.refused,
        "healthz_probes": report.probe.get("probes", 0),
        "healthz_failed": report.probe.get("failed", 0),
        "healthz_longest_outage_ms": report.probe.get("longest_outage_s", 0) * 1000,
        "ws_logs_reconnects_min": min((c["reconnects"] for c in follow), default=0),
        "ws_logs_duplicated_lines": sum(c["duplicates"] for c in follow),
        "ws_logs_missing_lines": sum(c["missed"] for c in follow),
        "ws_events_connects": events.get("connects", 0),
        "ws_events_journal_entries": events.get("journal_events", 0),
        "ws_events_duplicated": events.get("duplicated", 0),
        "ws_events_missing": events.get("missing", 0),
        "panel_requests": panel["requests"],
        "panel_failures": report.panel_failures,
        "requests_resent_after_keepalive_close": report.panel["resent"] + report.triggers["resent"],
        "plugin_errors_logged": len(report.plugin_errors),
        "rss_growth_mb": growth.rss_mb,
        "fd_growth": growth.fds,
        "task_growth": growth.tasks,
        "thread_growth": growth.threads,
        "rss_at_boot_warmup_end_mb": " / ".join(
            f"{u.rss_mb:.0f}" for u in (report.boot, report.warm, report.end) if u
        ),
        "plugin_tasks_after_terminate": len(report.leftover_tasks),
        "plugin_threads_after_terminate": len(report.leftover_threads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--reloads", type=int, default=200)
    parser.add_argument("--friends", type=int, default=24, help="private chats")
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--chat-rate", type=float, default=2.0, help="user messages per second")
    parser.add_argument("--trigger-rate", type=float, default=0.7, help='"send now" per second')
    args = parser.parse_args()
    settings = SoakSettings(
        minutes=args.minutes,
        reloads=args.reloads,
        friends=args.friends,
        groups=args.groups,
        chat_per_second=args.chat_rate,
        triggers_per_second=args.trigger_rate,
    )
    out = sys.stdout

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    # AstrBot prints every message to stdout (its loguru sinks take sys.stdout when
    # they are made, at import and at boot): into a file, so these lines stay
    # readable. The panel's live log is not affected.
    log_path = Path(tempfile.gettempdir()) / f"pc-bench-soak-{os.getpid()}.log"
    say(f"AstrBot's console output goes to {log_path}")
    with open(log_path, "w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        report = asyncio.run(run(settings, say))
    shown = figures(report)
    print_table("Soak (bench/soak.py)", list(shown.items()))
    problems = report.problems(BOUNDS)
    notes = [
        *report.examples,
        *report.panel["examples"],
        *report.triggers["examples"],
        *report.plugin_errors[:10],
        *report.reload_failures[:10],
    ]
    if report.warm and report.end:
        notes.append(f"threads at the warm-up point: {report.warm.thread_names}")
        notes.append(f"threads at the end: {report.end.thread_names}")
    for line in notes:
        print("  note:", line)
    print_json("soak", shown)
    if problems:
        print("FAILED:", *problems, sep="\n  ")
        sys.exit(1)
    print(f"OK: nothing lost or duplicated, growth within {BOUNDS}")


if __name__ == "__main__":
    main()
