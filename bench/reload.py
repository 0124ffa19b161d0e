"""Hot reloads under load: a real AstrBot core, N reloads of the plugin (what a save
in the dashboard does), K live-log WebSocket clients and a /healthz prober watching
from other processes.

    .venv/bin/python bench/reload.py [--reloads 50] [--clients 10] [--sessions 100]
        [--plugin-src OTHER_TREE]

Figures: reload time p50/p95/max (terminate + re-import + initialize, as AstrBot
runs it: what a dashboard save waits for), how long after it the panel answered a new
``/healthz`` request (the next reload comes after that answer), refused and failed probe connections, the longest outage, and for the
WebSocket clients their duplicated and missing lines and the longest reconnect.
Target: zero refused connections and zero outage.

Loop stalls: a ticker on AstrBot's event loop (``LoopLagProbe``, 2 ms sleeps) notes
how late it wakes; each stall is put in the reload phase it overlaps most:
``terminate`` (the old instance's terminate()), ``purge`` (AstrBot unbinds the plugin
and drops its modules), ``import`` (main.py re-imported on the loop), ``init`` (the
new instance's ``__init__``), ``initialize`` (its initialize()), ``start`` (the start
it leaves running in a task, after the save returned), or ``astrbot`` (the plugin
manager's own steps between them). Loop steps over 10 ms are listed with the
task's code position before and after, and the cyclic-GC time inside each stall is
shown apart (a full collection pauses any thread's work, plugin or not).
Target: no stall over 20 ms in any phase of the plugin's own.

Inside ``initialize`` and ``terminate``, ``span_*`` figures time the plugin's own steps
(bench/_reload_spans.py: re-importing the service and the panel, store open, engine
start, the app's build, server start and stop), and ``app_ready_after_initialize``
says how long a request sent right after the save waits for the app.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import gc
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)]

from _common import (  # noqa: E402
    LoopLagProbe,
    bench_config,
    bench_host,
    percentile,
    print_json,
    print_table,
)
from _reload_spans import ReloadSpans  # noqa: E402

from harness.ports import free_port  # noqa: E402
from harness.probes import HealthProber, LogFollowers  # noqa: E402

PASSWORD = "Bench-Passw0rd-1"
PLATFORM = "bench"
SLOW_STEP_SECONDS = 0.010
STEP_RECORD_SECONDS = 0.002
STALL_TARGET_MS = 20.0
PLUGIN_CLASS = "ProactiveChatPlugin"


class ReloadPhases:
    """Times each phase of ``PluginManager.reload`` by wrapping the manager's steps
    (and, after each import, the fresh plugin class's ``__init__`` / ``initialize``)."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, float, float]] = []
        self.steps = ReloadSpans()  # the plugin's own steps inside initialize / terminate

    def install(self, manager_cls: type) -> None:
        phases = self

        terminate = manager_cls._terminate_plugin
        unbind = manager_cls._unbind_plugin
        import_plugin = manager_cls._import_plugin_with_dependency_recovery
        check_requirements = manager_cls._resolve_import_dependency_recovery_state

        async def timed_terminate(smd):
            async with phases.span("terminate"):
                return await terminate(smd)

        async def timed_unbind(self, *args, **kwargs):
            async with phases.span("purge"):
                return await unbind(self, *args, **kwargs)

        async def timed_import(self, *args, **kwargs):
            async with phases.span("import"):
                module = await import_plugin(self, *args, **kwargs)
            phases.wrap_plugin_class(getattr(module, PLUGIN_CLASS, None))
            phases.steps.instrument(module)
            return module

        def timed_requirements(*args, **kwargs):
            began = time.perf_counter()
            try:
                return check_requirements(*args, **kwargs)
            finally:
                phases.spans.append(("requirements", began, time.perf_counter()))

        manager_cls._terminate_plugin = staticmethod(timed_terminate)
        manager_cls._resolve_import_dependency_recovery_state = staticmethod(timed_requirements)
        manager_cls._unbind_plugin = timed_unbind
        manager_cls._import_plugin_with_dependency_recovery = timed_import

    def wrap_plugin_class(self, plugin_cls: type | None) -> None:
        if plugin_cls is None:
            return
        phases = self
        init, initialize = plugin_cls.__init__, plugin_cls.initialize

        def timed_init(instance, *args, **kwargs):
            began = time.perf_counter()
            try:
                init(instance, *args, **kwargs)
            finally:
                phases.spans.append(("init", began, time.perf_counter()))

        async def timed_initialize(instance):
            async with phases.span("initialize"):
                await initialize(instance)

        plugin_cls.__init__ = timed_init
        plugin_cls.initialize = timed_initialize
        start = getattr(plugin_cls, "_start", None)
        if start is not None:  # the start initialize() leaves running (main.py)

            async def timed_start(instance):
                async with phases.span("start"):
                    await start(instance)

            plugin_cls._start = timed_start

    @contextlib.asynccontextmanager
    async def span(self, name: str):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.spans.append((name, began, time.perf_counter()))

    def phase_of(self, began: float, ended: float, reload_spans) -> str:
        """The phase overlapping [began, ended] most; ``astrbot`` inside a reload but
        in none of them, ``idle`` outside every reload."""
        best, best_overlap = "idle", 0.0
        for name, start, end in [*self.spans, *(("astrbot", a, b) for a, b in reload_spans)]:
            overlap = min(end, ended) - max(start, began)
            if overlap > best_overlap and (best in ("idle", "astrbot") or name != "astrbot"):
                best, best_overlap = name, overlap
        return best

    def import_only(self) -> list[float]:
        """Each import's time without AstrBot's requirements check inside it."""
        checks = [(start, end) for name, start, end in self.spans if name == "requirements"]
        return [
            (end - start) - sum(b - a for a, b in checks if a >= start and b <= end)
            for name, start, end in self.spans
            if name == "import"
        ]


class LoopSteps:
    """Times every loop step while armed; keeps those over ``STEP_RECORD_SECONDS`` with
    the task's code position before and after the step, and the GC time inside it."""

    def __init__(self) -> None:
        self.armed = False
        self.slow: list[tuple[float, float, str]] = []  # (ended, seconds, what)
        self.spans: list[tuple[float, float]] = []  # every step: (began, ended)
        self.gc_spans: list[tuple[float, float]] = []
        self._gc_began = 0.0
        gc.callbacks.append(self._on_gc)
        original = asyncio.events.Handle._run
        steps = self

        def timed_run(handle) -> None:
            if not steps.armed:
                return original(handle)
            task = getattr(handle._callback, "__self__", None)
            before = _where(task.get_coro()) if isinstance(task, asyncio.Task) else ""
            began = time.perf_counter()
            original(handle)
            ended = time.perf_counter()
            steps.spans.append((began, ended))
            if ended - began >= STEP_RECORD_SECONDS:
                if isinstance(task, asyncio.Task):
                    what = f"{task.get_name()}: {before} -> {_where(task.get_coro())}"
                else:
                    what = getattr(handle._callback, "__qualname__", repr(handle._callback))
                steps.slow.append((ended, ended - began, what[:600]))

        asyncio.events.Handle._run = timed_run

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        elif self.armed:
            self.gc_spans.append((self._gc_began, time.perf_counter()))

    def gc_within(self, began: float, ended: float) -> float:
        return _overlap(self.gc_spans, began, ended)

    def busy_within(self, began: float, ended: float) -> float:
        """Time the loop spent running steps between ``began`` and ``ended``."""
        first = bisect.bisect_left(self.spans, (began - 1.0, 0.0))
        last = bisect.bisect_right(self.spans, (ended, float("inf")))
        return _overlap(self.spans[first:last], began, ended)


def _overlap(spans, began: float, ended: float) -> float:
    return sum(max(0.0, min(end, ended) - max(start, began)) for start, end in spans)


def _where(coro, depth: int = 4) -> str:
    """Where a (suspended) coroutine chain is, its innermost ``depth`` frames:
    ``outer:line > inner:line``."""
    parts = []
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        frame = coro.cr_frame
        parts.append(f"{frame.f_code.co_qualname}:{frame.f_lineno}")
        coro = coro.cr_await
    return " > ".join(parts[-depth:]) or "finished"


async def run(reloads: int, clients: int, sessions: int, plugin_src: Path | None = None) -> dict:
    import httpx
    import psutil

    port = free_port()
    config = {**bench_config(sessions, PLATFORM), "web_admin": {"port": port, "password": PASSWORD}}
    async with bench_host("reload", config, plugin_src=plugin_src) as host:
        from astrbot.core.star.star_manager import PluginManager

        phases = ReloadPhases()
        phases.install(PluginManager)
        steps = LoopSteps()
        async with httpx.AsyncClient(timeout=10) as client:
            login = await client.post(
                f"http://127.0.0.1:{port}/api/login", json={"password": PASSWORD}
            )
            token = login.json()["token"]
        prober = await asyncio.to_thread(HealthProber(port).start)
        followers = await asyncio.to_thread(LogFollowers(port, token, clients).start)
        process = psutil.Process()
        for _ in range(5):  # warm-up: first reloads fill caches (imports, templates)
            await host.reload_plugin()
        gc.collect()
        fds_before, rss_before = process.num_fds(), process.memory_info().rss
        probe_lag = LoopLagProbe()
        phases.spans.clear()
        phases.steps.recording = True
        steps.armed = True
        await probe_lag.start()
        reload_spans, answers = await _reload_repeatedly(host, reloads, port)
        await asyncio.sleep(0.5)
        steps.armed = False
        await probe_lag.stop()
        gc.collect()
        fds_after, rss_after = process.num_fds(), process.memory_info().rss
        probe = await asyncio.to_thread(prober.stop)
        follow = (await asyncio.to_thread(followers.stop))["clients"]

    durations = [end - start for start, end in reload_spans]
    return {
        "reloads": reloads,
        "sessions": sessions,
        "ws_clients": clients,
        "reload_p50_ms": statistics.median(durations) * 1000,
        "reload_p95_ms": percentile(durations, 95) * 1000,
        "reload_max_ms": max(durations) * 1000,
        "panel_answered_after_save_p50_ms": statistics.median(answers) * 1000,
        "panel_answered_after_save_max_ms": max(answers) * 1000,
        "probes": probe["probes"],
        "refused_connections": probe["refused"],
        "failed_probes": probe["failed"],
        "longest_outage_ms": probe["longest_outage_s"] * 1000,
        "probe_latency_max_ms": probe["latency_max_ms"],
        "ws_duplicated_lines": sum(c["duplicates"] for c in follow),
        "ws_missing_lines": sum(c["missed"] for c in follow),
        "ws_reconnects_min": min(c["reconnects"] for c in follow),
        "ws_longest_reconnect_ms": max(c["longest_reconnect_s"] for c in follow) * 1000,
        "fd_growth": fds_after - fds_before,
        "rss_growth_mb": (rss_after - rss_before) / 2**20,
        "loop_stall_max_ms": probe_lag.longest * 1000,
        **phases.steps.figures(
            [(a, b) for name, a, b in phases.spans if name in ("initialize", "start")]
        ),
        **_stall_figures(probe_lag, phases, steps, reload_spans),
    }


async def _reload_repeatedly(host, reloads: int, port: int) -> tuple[list, list[float]]:
    """Each reload's (start, end), perf_counter seconds; and for each, how long after
    it returned the panel answered a new connection's ``/healthz`` (as a person who
    saved and looks at the panel). The next save comes after that answer."""
    logger = logging.getLogger("astrbot")
    spans, answers = [], []
    for index in range(reloads):
        logger.info("[ProactiveChat] bench reload %d", index)
        began = time.perf_counter()
        ok, error = await host.reload_plugin(wait_started=False)  # what a save waits for
        ended = time.perf_counter()
        spans.append((began, ended))
        assert ok, error
        await _first_answer(port)
        answers.append(time.perf_counter() - ended)
        await asyncio.sleep(0.05)
    return spans, answers


async def _first_answer(port: int, limit: float = 10.0) -> None:
    async with asyncio.timeout(limit):
        while True:
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(
                    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                answer = await reader.read()
                writer.close()
                if answer.startswith(b"HTTP/1.1 200"):
                    return
            await asyncio.sleep(0.005)


def _stall_figures(probe_lag, phases, steps, reload_spans) -> dict:
    """Per phase: the longest stall, the same without the GC pauses inside it, the
    longest single loop step without GC, and the phase's own duration; then the
    slowest loop steps. A stall longer than every step is several steps in one loop
    iteration, or the loop thread waiting for the GIL held by a worker thread."""
    figures: dict = {}
    for began, ended, late in probe_lag.stalls:
        phase = phases.phase_of(began, ended, reload_spans)
        own = max(0.0, late - steps.gc_within(began, ended))
        for key, value in ((f"stall_{phase}_max_ms", late), (f"stall_{phase}_ex_gc_max_ms", own)):
            figures[key] = max(figures.get(key, 0.0), value * 1000)
        if own * 1000 >= figures[f"stall_{phase}_ex_gc_max_ms"]:
            # Of that stall, the share spent in loop steps: the rest is the loop thread
            # waiting (for the GIL, or for a CPU on a busy machine).
            figures[f"stall_{phase}_ex_gc_in_steps_ms"] = steps.busy_within(began, ended) * 1000
    for name in ("terminate", "purge", "requirements", "import", "init", "initialize", "start"):
        durations = [end - start for phase, start, end in phases.spans if phase == name]
        figures.setdefault(f"stall_{name}_max_ms", 0.0)
        figures.setdefault(f"stall_{name}_ex_gc_max_ms", 0.0)
        if durations:
            figures[f"phase_{name}_p50_ms"] = statistics.median(durations) * 1000
            figures[f"phase_{name}_max_ms"] = max(durations) * 1000
    if phases.import_only():
        # AstrBot's requirements check and the import of main.py run in one loop step
        # (both synchronous): their own durations say which holds the loop how long.
        figures["phase_import_main_py_p50_ms"] = statistics.median(phases.import_only()) * 1000
        figures["phase_import_main_py_max_ms"] = max(phases.import_only()) * 1000
    ranked: dict[str, int] = {}
    for ended, took, what in sorted(steps.slow, key=lambda step: step[1], reverse=True):
        phase = phases.phase_of(ended - took, ended, reload_spans)
        own = (took - steps.gc_within(ended - took, ended)) * 1000
        key = f"step_{phase}_ex_gc_max_ms"
        figures[key] = max(figures.get(key, 0.0), own)
        ranked[phase] = rank = ranked.get(phase, 0) + 1
        if phase != "idle" and rank <= 2 and took >= SLOW_STEP_SECONDS:  # two slowest
            in_gc = steps.gc_within(ended - took, ended) * 1000
            figures[f"slow_step_{phase}_{rank}"] = f"{took * 1000:.1f} ms ({in_gc:.0f} GC) {what}"
    return dict(sorted(figures.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reloads", type=int, default=50)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=100, help="sessions listed in the config")
    parser.add_argument(
        "--plugin-src", type=Path, help="another tree of the plugin (a checkout before a change)"
    )
    args = parser.parse_args()
    figures = asyncio.run(run(args.reloads, args.clients, args.sessions, args.plugin_src))
    print_table("Hot reloads under load (bench/reload.py)", list(figures.items()))
    print_json("reload", figures)


if __name__ == "__main__":
    main()
