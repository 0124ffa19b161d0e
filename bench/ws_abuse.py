"""WebSocket abuse: what hostile clients cost the panel and the pages that behave.

A real AstrBot core hosts the plugin and its panel in this process; probe lines
(AstrBot's logger) and probe events (the engine's hub) go out at a steady rate to
well-behaved /ws/logs and /ws/events clients in another process. After an idle phase,
a third process throws malformed and oversized frames, message and fragment floods,
slow half-open upgrades and thousands of connection attempts at the panel
(tests/harness/ws_abuse.py).

    .venv/bin/python bench/ws_abuse.py [--rounds 3] [--sequential 1000] [--batches 40]

Figures, summed over ``--rounds`` rounds of abuse: connection attempts handled per
second, the server's answers by kind, peak and final RSS of this (the server's)
process and its RSS after each round (flat: nothing is kept), fds and tasks before
and after, the good clients' delivery latency p50/p95/max idle and under abuse, and
the lines and events they missed (must be 0) or lost their socket over (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)]

from _common import bench_host, percentile, print_json, print_table  # noqa: E402

from harness.ports import free_port  # noqa: E402
from harness.ws_abuse import GoodClients, produce_probes, run_abuse  # noqa: E402

PASSWORD = "Bench-Passw0rd-1"


def _latency_ms(clients: list[dict], start: float, end: float) -> dict[str, float]:
    delays = [d for c in clients for sent, d in c["latencies"] if start <= sent < end]
    return {
        "p50": percentile(delays, 50) * 1000,
        "p95": percentile(delays, 95) * 1000,
        "max": max(delays) * 1000 if delays else float("nan"),
        "n": len(delays),
    }


async def _sample_rss(process, stop: asyncio.Event, peak: list[int]) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        try:
            await asyncio.wait_for(stop.wait(), 0.1)
        except TimeoutError:
            pass


@contextlib.contextmanager
def console_to_devnull() -> Iterator[None]:
    """AstrBot's console (a loguru sink on this process's stdout) goes to /dev/null:
    the probe lines would bury the table, and printing them costs the server's loop."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


async def run(args: argparse.Namespace) -> dict:
    import httpx
    import psutil

    port = free_port()
    config = {"web_admin": {"port": port, "password": PASSWORD}}
    async with bench_host("ws-abuse", config) as host:
        instance = host.plugin_instance()
        async with httpx.AsyncClient(timeout=10) as client:
            login = await client.post(
                f"http://127.0.0.1:{port}/api/login", json={"password": PASSWORD}
            )
            token = login.json()["token"]
        process = psutil.Process()
        stop_probes = asyncio.Event()
        producer = asyncio.create_task(
            produce_probes(
                logging.getLogger("astrbot"), instance.service.engine.events, stop_probes, args.rate
            )
        )
        good = await asyncio.to_thread(GoodClients(port, token, args.logs, args.events).start)
        try:
            await asyncio.sleep(1.0)
            gc.collect()
            fds_before, tasks_before = process.num_fds(), len(asyncio.all_tasks())
            rss_before = process.memory_info().rss
            idle_start = time.time()
            await asyncio.sleep(args.idle)

            peak = [rss_before]
            stop_sampling = asyncio.Event()
            sampler = asyncio.create_task(_sample_rss(process, stop_sampling, peak))
            abuse_start = time.time()
            counts = {
                "flood": args.flood,
                "sequential": args.sequential,
                "batches": args.batches,
                "batch": args.batch,
                "slow": args.slow,
            }
            reports, rss_rounds = [], []
            for _ in range(args.rounds):  # flat RSS from round to round: nothing kept
                reports.append(await run_abuse(port, token, **counts))
                gc.collect()
                rss_rounds.append(round(process.memory_info().rss / 2**20, 1))
            abuse_end = time.time()
            await asyncio.sleep(2.0)  # closes settle, the stream goes on
            stop_sampling.set()
            await sampler
            gc.collect()
            panel = instance.panel
            fds_after, tasks_after = process.num_fds(), len(asyncio.all_tasks())
            rss_after = process.memory_info().rss
            registry_after = len(panel.deps.connections)
            uvicorn_after = len(panel.server._uvicorn.server_state.connections)
        finally:
            stop_probes.set()
            sent = await producer
            watched = (await asyncio.to_thread(good.stop))["clients"]
        began = time.perf_counter()
        await instance.terminate()
        terminate_s = time.perf_counter() - began
        assert await host.reload_plugin() == (True, None)

    outcomes: Counter[str] = Counter()
    for r in reports:
        outcomes.update(r["storm"]["outcomes"])
    malformed = [case for r in reports for case in r["malformed"].values()]
    floods = [flood for r in reports for flood in r["floods"].values()]
    good_total = args.logs + args.events
    idle = _latency_ms(watched, idle_start, abuse_start)
    abused = _latency_ms(watched, abuse_start, abuse_end)
    return {
        "rounds": args.rounds,
        "connection_attempts": sum(r["connection_attempts"] for r in reports),
        "storm_attempts": sum(r["storm"]["attempts"] for r in reports),
        "storm_attempts_per_s": sum(r["storm"]["attempts"] for r in reports)
        / sum(r["storm"]["seconds"] for r in reports),
        "accepted_logged_in": outcomes["logged_in close_1000"],
        "refused_full_1013": outcomes["logged_in close_1013"],
        "refused_strangers_1008": sum(v for k, v in outcomes.items() if "close_1008" in k),
        "refused_cross_site_403": outcomes["cross_site http_403"],
        "refused_not_http_400": outcomes["not_http http_400"],
        "tcp_only_closed": outcomes["tcp fin"] + outcomes["tcp rst"],
        "malformed_frames": sum(r["malformed_frames"] for r in reports),
        "malformed_sockets": len(malformed),
        "malformed_closed_as_expected": sum(case["ok"] for case in malformed),
        "flood_messages": sum(r["flood_messages"] for r in reports),
        "floods": len(floods),
        "floods_closed_1008": sum(f["outcome"] == "close_1008" for f in floods),
        "slow_upgrades": sum(r["slow_upgrades"]["count"] for r in reports),
        "slow_upgrades_closed_by_server": sum(
            r["slow_upgrades"]["closed_by_server"] for r in reports
        ),
        "abuse_seconds": abuse_end - abuse_start,
        "rss_before_mb": rss_before / 2**20,
        "rss_peak_mb": peak[0] / 2**20,
        "rss_final_mb": rss_after / 2**20,
        "rss_after_each_round_mb": rss_rounds,
        "fds_before": fds_before,
        "fds_after": fds_after,
        "tasks_before": tasks_before,
        "tasks_after": tasks_after,
        "server_sockets_after": f"{registry_after} registry / {uvicorn_after} uvicorn "
        f"(good clients: {good_total})",
        "latency_idle_p50_ms": idle["p50"],
        "latency_idle_p95_ms": idle["p95"],
        "latency_idle_max_ms": idle["max"],
        "latency_abuse_p50_ms": abused["p50"],
        "latency_abuse_p95_ms": abused["p95"],
        "latency_abuse_max_ms": abused["max"],
        "probes_sent": sent,
        "good_missed_lines": sum(c["missed"] + c["probe_gaps"] for c in watched),
        "good_duplicates": sum(c["duplicates"] for c in watched),
        "good_disconnected": sum(bool(c["closed"]) for c in watched),
        "terminate_after_abuse_s": terminate_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--idle", type=float, default=5.0, help="seconds before the abuse")
    parser.add_argument("--rate", type=float, default=100.0, help="probe lines per second")
    parser.add_argument("--logs", type=int, default=3, help="good /ws/logs clients")
    parser.add_argument("--events", type=int, default=2, help="good /ws/events clients")
    parser.add_argument("--flood", type=int, default=5000, help="messages per flood")
    parser.add_argument("--sequential", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--slow", type=int, default=300, help="slow half-open upgrades")
    parser.add_argument("--rounds", type=int, default=3, help="abuse rounds, one after another")
    args = parser.parse_args()
    with console_to_devnull():
        figures = asyncio.run(run(args))
    print_table("WebSocket abuse (bench/ws_abuse.py)", list(figures.items()))
    print_json("ws_abuse", figures)


if __name__ == "__main__":
    main()
