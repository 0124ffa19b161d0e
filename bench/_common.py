"""Shared helpers for the benchmarks: import the plugin as a package, statistics, output.

Each benchmark prints a table a person can read and, last, one JSON line a
machine can compare across runs.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from harness.plugin_package import import_plugin_package  # noqa: E402
from harness.ports import free_port  # noqa: E402

__all__ = ["free_port", "import_plugin_package"]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def print_table(title: str, rows: list[tuple[str, object]]) -> None:
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 24))
    for name, value in rows:
        shown = f"{value:,.2f}" if isinstance(value, float) else f"{value}"
        print(f"{name.ljust(width)}  {shown}")
    print("-" * (width + 24))


def print_json(name: str, figures: dict) -> None:
    print(json.dumps({"benchmark": name, **figures}, ensure_ascii=False, sort_keys=True))


def rss_mb() -> float:
    """VmRSS of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def session_umo(index: int, platform: str) -> str:
    """80 % private chats, 20 % groups."""
    if index % 5 == 4:
        return f"{platform}:GroupMessage:g{index}"
    return f"{platform}:FriendMessage:u{index}"


def session_name(index: int) -> str:
    return f"group {index}" if index % 5 == 4 else f"user {index}"


def bench_config(count: int, platform: str) -> dict:
    """A plugin config listing ``count`` sessions, quiet hours off, plans hours away."""
    umos = [session_umo(i, platform) for i in range(count)]
    schedule = {"min_interval_minutes": 120, "max_interval_minutes": 600, "quiet_hours": ""}
    return {
        "friend_settings": {
            "enable": True,
            "session_list": [u for u in umos if ":FriendMessage:" in u],
            "schedule_settings": schedule,
        },
        "group_settings": {
            "enable": True,
            "session_list": [u for u in umos if ":GroupMessage:" in u],
            "group_idle_trigger_minutes": 120,
            "schedule_settings": schedule,
        },
    }


@contextlib.asynccontextmanager
async def bench_host(
    name: str,
    plugin_config: dict,
    *,
    chat: bool = False,
    keep_logs: bool = False,
    base: Path | None = None,
    plugin_src: Path | None = None,
    core_config: dict | None = None,
    prepare: Callable[[Path], None] | None = None,
) -> AsyncIterator[Any]:
    """A real AstrBot core with the plugin loaded, in a fresh root (under ``base`` or a
    new temporary folder). The harness keeps every log record for tests to read; a
    benchmark must not (memory), unless it clears them itself (``keep_logs``).

    ``plugin_src`` links another tree of the plugin (e.g. a worktree of an older
    commit) instead of this repo; ``core_config`` is merged over AstrBot's config for
    this host (e.g. ``{"timezone": ...}``); ``prepare(root)`` runs once the root is laid
    out and before AstrBot boots (e.g. to put another plugin into ``data/plugins``)."""
    from harness.inprocess import InProcessHost, prepare_process_root
    from harness.roots import make_astrbot_root

    base = base or Path(tempfile.mkdtemp(prefix=f"pc-bench-{name}-"))
    root = make_astrbot_root(base, plugin_src or ROOT, plugin_config)
    if prepare is not None:
        prepare(root)
    prepare_process_root(root)
    async with InProcessHost(
        root, plugin_config=plugin_config, chat=chat, core_config=core_config
    ) as host:
        if not keep_logs:
            host.logs.detach()
            host.logs.records.clear()
        yield host


class LoopLagProbe:
    """A ticker on the running event loop: it sleeps ``interval`` and notes how late
    each wake-up is. Lateness is time the loop spent on something else without
    yielding, so the longest lateness is the longest stall every other task (every
    chat of that AstrBot) suffered. Stalls over ``record_over`` are kept with when
    they happened, for the caller to attribute to what it was doing then."""

    def __init__(self, interval: float = 0.002, record_over: float = 0.005) -> None:
        self.interval = interval
        self.record_over = record_over
        self.stalls: list[tuple[float, float, float]] = []  # (last wake, late wake, lateness)
        self.longest = 0.0
        self._task: Any = None

    async def start(self) -> None:
        import asyncio

        self._task = asyncio.create_task(self._tick(), name="bench-loop-lag")
        await asyncio.sleep(0)

    async def stop(self) -> None:
        import asyncio

        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _tick(self) -> None:
        import asyncio
        import time

        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.interval)
            now = time.perf_counter()
            late = now - last - self.interval
            if late > self.longest:
                self.longest = late
            if late > self.record_over:
                self.stalls.append((last, now, late))
            last = now
