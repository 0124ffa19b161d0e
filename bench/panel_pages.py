"""The admin panel's pages with many sessions: server time per page, Chromium's render
timings, memory across many renders, and how long one render holds the event loop.

    .venv/bin/python bench/panel_pages.py [--sessions 10000] [--renders 500]
                                          [--requests 50] [--loads 10] [--no-browser]

A real AstrBot core (in-process, ``harness.inprocess``) hosts the plugin with its panel on
a free 127.0.0.1 port, the scripted LLM and the recording IM platform of
``harness.stand_ins``. The sessions are made the way the plugin meets them: every one is
listed in ``session_list`` (80 % private chats, 20 % groups) and gets a user message
through ``engine.on_user_message`` (which plans it and writes its journal entry); a few
dozen then get a real "send now" (the scripted model writes, the platform receives) and
a few of those an answer, so the journal has every common kind.

Figures:
  1. server time per URL: ``--requests`` sequential GETs each (httpx, logged in, same
     process and loop as the server, so a figure includes the client's small share):
     median and p95 in ms, the response size, and the rows of the first sessions page
     (lists are paginated on the server: 50 rows, not 10,000);
  2. Chromium (Debian's, headless): median over ``--loads`` loads of /overview and
     /sessions of responseEnd, DOMContentLoaded, load and the moment the page script
     set ``pageReady`` (ms since navigation start);
  3. memory: the process's RSS before, halfway through and after ``--renders`` page
     renders (cycling over the URLs above), and ``tracemalloc``'s traced total over
     another such pass; flat means the second half and the traced total do not grow
     (the first renders fill SQLite's page cache and the threads' malloc arenas once);
  4. the event loop's longest block (a 5 ms ticker's worst lateness) during the
     renders of (1), and the URL being fetched when it happened.

Targets (the issue): with 10,000 sessions the overview and the first sessions page
render in under a second, memory stays flat, lists are paginated on the server.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)]

from _common import (  # noqa: E402
    bench_config,
    bench_host,
    median,
    percentile,
    print_json,
    print_table,
    rss_mb,
    session_name,
    session_umo,
)

from harness.ports import free_port  # noqa: E402

PASSWORD = "Bench-Panel-Passw0rd-3"
PLATFORM = "test_im"  # harness.stand_ins.PLATFORM_ID (importing it imports astrbot)
RENDER_TARGET_MS = 1000.0
SENT_SESSIONS = 40
ANSWERED_SESSIONS = 10


def panel_bench_config(port: int, count: int) -> dict:
    return {
        "web_admin": {"port": port, "password": PASSWORD},
        **bench_config(count, PLATFORM),
    }


class LoopLag:
    """A ticker every 5 ms; its worst lateness is the loop's longest block, noted
    with the label (the URL being fetched) current when it happened. The garbage
    collector's pauses are timed alongside, to tell a GC pause from slow code."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.label = ""
        self.worst = 0.0
        self.worst_label = ""
        self.by_label: dict[str, float] = {}
        self.gc_longest = 0.0
        self.gc_longest_generation = -1
        self._gc_began = 0.0
        self._task: asyncio.Task | None = None

    def _gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
        elif self._gc_began:
            took = time.perf_counter() - self._gc_began
            if took > self.gc_longest:
                self.gc_longest, self.gc_longest_generation = took, info.get("generation", -1)

    async def _run(self) -> None:
        while True:
            began = time.perf_counter()
            label = self.label
            await asyncio.sleep(self.interval)
            late = time.perf_counter() - began - self.interval
            if label:
                self.by_label[label] = max(self.by_label.get(label, 0.0), late)
            if late > self.worst:
                self.worst, self.worst_label = late, label

    def start(self, label: str = "") -> None:
        self.label = label
        gc.callbacks.append(self._gc)
        self._task = asyncio.create_task(self._run(), name="bench-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            await asyncio.sleep(self.interval * 3)  # the last tick reports
            self.label = ""
            if self._gc in gc.callbacks:
                gc.callbacks.remove(self._gc)
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


async def make_sessions(host, count: int) -> tuple[list[str], dict]:
    """``count`` sessions through the engine's message path, some sent and answered."""
    from harness import stand_ins

    engine = host.plugin_instance().service.engine
    im, llm = stand_ins.platform(host), stand_ins.provider(host)
    llm.always("Hello again! How has your week been?")
    umos = [session_umo(i, PLATFORM) for i in range(count)]
    began = time.perf_counter()
    for index, umo in enumerate(umos):
        engine.on_user_message(umo, session_name(index))
        if index % 500 == 499:
            await asyncio.sleep(0)
    made_s = time.perf_counter() - began
    assert len(engine.sessions) >= count, f"only {len(engine.sessions)} sessions were made"
    sent = [u for u in umos if ":FriendMessage:" in u][:SENT_SESSIONS]
    for umo in sent:
        engine.request_trigger(umo)
    for umo in sent:
        await im.wait_for_sent(1, umo=umo, timeout=30)
    for index, umo in enumerate(sent[:ANSWERED_SESSIONS]):
        engine.on_user_message(umo, session_name(index))
    await engine.store.flush()
    return umos, {"sessions_made_s": made_s, "journal_next_id": engine.store._next_id}


def page_urls(umos: list[str]) -> dict[str, str]:
    probe = umos[len(umos) // 2]
    return {
        "/overview": "/overview",
        "/sessions": "/sessions",
        "/sessions?page=50": "/sessions?page=50",
        "/sessions?q=": "/sessions?q=u0123",
        "/journal": "/journal",
        "/session?umo=": f"/session?umo={quote(probe, safe='')}",
        "/api/sessions": "/api/sessions",
        "/api/status": "/api/status",
    }


async def server_times(client, urls: dict[str, str], requests: int, lag: LoopLag) -> dict:
    out: dict[str, dict] = {}
    for label, url in urls.items():
        lag.label = f"{label} (first request)"
        r = await client.get(url)  # warm-up (templates compiled, caches filled)
        took: list[float] = []
        failed = 0
        lag.label = label
        for _ in range(requests):
            began = time.perf_counter()
            r = await client.get(url)
            took.append((time.perf_counter() - began) * 1000)
            failed += r.status_code != 200
        lag.label = ""
        await asyncio.sleep(0.01)  # let the ticker report under this label
        out[label] = {
            "median_ms": median(took),
            "p95_ms": percentile(took, 95),
            "bytes": len(r.content),
            "status": r.status_code,
            "failed": failed,
        }
        if label == "/sessions":
            out[label]["rows"] = len(re.findall(r"<tr[^>]*\bdata-umo=", r.text))
        if label == "/api/sessions":
            body = r.json()
            out[label]["rows"] = len(body.get("items", []))
            out[label]["total"] = body.get("total")
    return out


async def browser_timings(base: str, loads: int) -> dict:
    from playwright.async_api import async_playwright

    from harness import panel_browser as pb

    out: dict[str, dict] = {}
    async with async_playwright() as playwright:
        browser = await pb.launch(playwright)
        try:
            panel = await pb.PanelBrowser.open(browser, base, PASSWORD)
            page = await panel.new_page()
            for path in ("/overview", "/sessions"):
                runs: list[dict] = []
                await panel.goto(page, path, ready=False)  # warm-up: the HTTP cache
                for _ in range(loads):
                    await panel.goto(page, path, ready=False)
                    try:
                        await pb.wait_ready(page, 10)
                    except Exception:
                        pass  # pageReady never came: reported as missing
                    runs.append(await pb.timings(page) or {})
                figures = {}
                for key in ("responseEnd", "domContentLoaded", "load", "pageReady"):
                    values = [r[key] for r in runs if r.get(key) is not None]
                    figures[key] = median(values) if values else None
                figures["problems"] = panel.watch(page).problems()[:5]
                panel.watch(page).clear()
                out[path] = figures
            await panel.close()
        finally:
            await browser.close()
    return out


async def render_many(client, urls: list[str], renders: int) -> int:
    """GET the URLs in turn; returns how many answers were not 200."""
    failed = 0
    for index in range(renders):
        r = await client.get(urls[index % len(urls)])
        failed += r.status_code != 200
    return failed


async def memory(client, urls: dict[str, str], renders: int, lag: LoopLag) -> dict:
    pages = list(urls.values())
    await render_many(client, pages, 50)  # warm-up
    gc.collect()
    rss_before = rss_mb()
    lag.start("memory renders")
    began = time.perf_counter()
    # Two halves: SQLite's page cache and the threads' malloc arenas grow once, in
    # the first renders (seen here: about 5 MB each for /overview and /journal, then
    # flat over 7,500 renders); growth in the second half is what a leak looks like.
    failed = await render_many(client, pages, renders // 2)
    rss_half = rss_mb()
    failed += await render_many(client, pages, renders - renders // 2)
    took = time.perf_counter() - began
    await lag.stop()  # before the collections below, which block the loop on purpose
    gc.collect()
    rss_after = rss_mb()
    # tracemalloc slows everything several times: a separate pass, not timed.
    tracemalloc.start(1)  # one frame: the growth by line is enough
    gc.collect()
    traced_before = tracemalloc.get_traced_memory()[0]
    snap_before = tracemalloc.take_snapshot()
    failed += await render_many(client, pages, renders)
    gc.collect()
    traced_after = tracemalloc.get_traced_memory()[0]
    snap_after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    top = snap_after.compare_to(snap_before, "lineno")[:3]
    return {
        "renders": renders,
        "failed": failed,
        "renders_per_s": renders / took,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "rss_growth_mb": rss_after - rss_before,
        "rss_growth_second_half_mb": rss_after - rss_half,
        "traced_growth_mb": (traced_after - traced_before) / 2**20,
        "traced_top_growth": [
            f"{stat.size_diff / 1024:+.0f} KiB {stat.traceback[0].filename.rsplit('/', 2)[-1]}:"
            f"{stat.traceback[0].lineno}"
            for stat in top
        ],
    }


async def run(args: argparse.Namespace) -> tuple[list[tuple[str, object]], dict]:
    import httpx

    port = free_port()
    config = panel_bench_config(port, args.sessions)
    workdir = Path(tempfile.mkdtemp(prefix="pc-bench-panel-"))
    try:
        started = time.perf_counter()
        phases: dict[str, float] = {}
        async with bench_host("panel", config, chat=True, base=workdir / "root") as host:
            phases["boot"] = time.perf_counter() - started
            mark = time.perf_counter()
            umos, made = await make_sessions(host, args.sessions)
            phases["sessions"] = time.perf_counter() - mark
            base = f"http://127.0.0.1:{port}"
            urls = page_urls(umos)
            lag, mem_lag = LoopLag(), LoopLag()
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                login = await client.post("/api/login", json={"password": PASSWORD})
                login.raise_for_status()
                mark = time.perf_counter()
                lag.start()
                try:
                    server = await server_times(client, urls, args.requests, lag)
                finally:
                    await lag.stop()
                phases["timed GETs"] = time.perf_counter() - mark
                mark = time.perf_counter()
                try:
                    mem = await memory(client, urls, args.renders, mem_lag)
                finally:
                    await mem_lag.stop()
                phases["memory renders"] = time.perf_counter() - mark
            mark = time.perf_counter()
            nav = {} if args.no_browser else await browser_timings(base, args.loads)
            phases["Chromium loads"] = time.perf_counter() - mark
            mark = time.perf_counter()
        phases["shutdown"] = time.perf_counter() - mark
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows: list[tuple[str, object]] = [
        ("sessions", args.sessions),
        ("journal entries written", made["journal_next_id"] - 1),
        ("making the sessions (s)", made["sessions_made_s"]),
        ("bench phases (s)", ", ".join(f"{k} {v:.1f}" for k, v in phases.items())),
    ]
    for label, fig in server.items():
        extra = f", {fig['failed']} NOT 200 (last {fig['status']})" if fig["failed"] else ""
        if "rows" in fig:
            extra += f", {fig['rows']} rows" + (f" of {fig['total']}" if fig.get("total") else "")
        rows.append(
            (
                f"GET {label}",
                f"median {fig['median_ms']:.1f} ms, p95 {fig['p95_ms']:.1f} ms, "
                f"{fig['bytes'] / 1024:.0f} KiB{extra}",
            )
        )
        rows.append((f"  loop block during {label} (ms)", lag.by_label.get(label, 0.0) * 1000))
    for path, fig in nav.items():
        shown = ", ".join(
            f"{key} {value:.0f}" if value is not None else f"{key} (never)"
            for key, value in fig.items()
            if key != "problems"
        )
        rows.append((f"Chromium {path} (ms)", shown))
        if fig["problems"]:
            rows.append((f"  problems on {path}", "; ".join(fig["problems"])))
    rows += [
        (f"RSS before/after {mem['renders']} renders (MB)", f"{mem['rss_before_mb']:.1f} / {mem['rss_after_mb']:.1f}"),
        ("RSS growth (MB)", mem["rss_growth_mb"]),
        ("RSS growth in the second half (MB)", mem["rss_growth_second_half_mb"]),
        ("tracemalloc growth (MB)", mem["traced_growth_mb"]),
        ("tracemalloc top growth", "; ".join(mem["traced_top_growth"])),
        ("renders per second", mem["renders_per_s"]),
        ("renders not answered 200", mem["failed"]),
        ("loop longest block, timed GETs (ms)", f"{lag.worst * 1000:.1f} during {lag.worst_label}"),
        ("  longest GC pause meanwhile (ms)", f"{lag.gc_longest * 1000:.1f} (generation {lag.gc_longest_generation})"),
        ("loop longest block, memory renders (ms)", mem_lag.worst * 1000),
        ("  longest GC pause meanwhile (ms)", f"{mem_lag.gc_longest * 1000:.1f} (generation {mem_lag.gc_longest_generation})"),
    ]  # fmt: skip

    def nav_figure(path: str, key: str) -> float | None:
        value = nav.get(path, {}).get(key)
        return round(value, 1) if value is not None else None

    ready = [nav_figure(p, "pageReady") for p in ("/overview", "/sessions")]
    server_ok = all(server[p]["p95_ms"] < RENDER_TARGET_MS for p in ("/overview", "/sessions"))
    browser_ok = None if not nav else all(v is not None and v < RENDER_TARGET_MS for v in ready)
    figures = {
        "sessions": args.sessions,
        "server_ms": {k: round(v["median_ms"], 2) for k, v in server.items()},
        "server_p95_ms": {k: round(v["p95_ms"], 2) for k, v in server.items()},
        "sessions_page_rows": server["/sessions"].get("rows"),
        "api_sessions_rows": server["/api/sessions"].get("rows"),
        "overview_page_ready_ms": ready[0],
        "sessions_page_ready_ms": ready[1],
        "overview_load_ms": nav_figure("/overview", "load"),
        "sessions_load_ms": nav_figure("/sessions", "load"),
        "rss_growth_mb": round(mem["rss_growth_mb"], 2),
        "rss_growth_second_half_mb": round(mem["rss_growth_second_half_mb"], 2),
        "traced_growth_mb": round(mem["traced_growth_mb"], 3),
        "renders": mem["renders"],
        "http_failures": mem["failed"] + sum(v["failed"] for v in server.values()),
        "loop_longest_block_ms": round(max(lag.worst, mem_lag.worst) * 1000, 1),
        "loop_longest_block_during": lag.worst_label if lag.worst >= mem_lag.worst else "memory renders",
        "gc_longest_pause_ms": round(max(lag.gc_longest, mem_lag.gc_longest) * 1000, 1),
        "target_under_1s_server": server_ok,
        "target_under_1s_browser": browser_ok,
    }  # fmt: skip
    return rows, figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--renders", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50, help="GETs per URL")
    parser.add_argument("--loads", type=int, default=10, help="Chromium loads per page")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium part")
    args = parser.parse_args()
    rows, figures = asyncio.run(run(args))
    print_table("Admin panel pages (bench/panel_pages.py)", rows)
    print_json("panel_pages", figures)


if __name__ == "__main__":
    main()
