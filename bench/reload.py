"""Hot reloads under load: a real AstrBot core, N reloads of the plugin (what a save
in the dashboard does), K live-log WebSocket clients and a /healthz prober watching
from other processes.

    .venv/bin/python bench/reload.py [--reloads 50] [--clients 10]

Figures: reload time p50/p95/max (terminate + re-import + initialize, as AstrBot
runs it), refused and failed probe connections, the longest outage, and for the
WebSocket clients their duplicated and missing lines and the longest reconnect.
Target: zero refused connections and zero outage.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)]

from _common import bench_host, percentile, print_json, print_table  # noqa: E402

from harness.probes import HealthProber, LogFollowers  # noqa: E402
from harness.roots import free_port  # noqa: E402

PASSWORD = "Bench-Passw0rd-1"


async def run(reloads: int, clients: int) -> dict:
    import httpx
    import psutil

    port = free_port()
    config = {"web_admin": {"port": port, "password": PASSWORD}}
    async with bench_host("reload", config) as host:
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
        durations: list[float] = []
        logger = logging.getLogger("astrbot")
        for index in range(reloads):
            logger.info("[ProactiveChat] bench reload %d", index)
            began = time.perf_counter()
            ok, error = await host.reload_plugin()
            durations.append(time.perf_counter() - began)
            assert ok, error
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        gc.collect()
        fds_after, rss_after = process.num_fds(), process.memory_info().rss
        probe = await asyncio.to_thread(prober.stop)
        follow = (await asyncio.to_thread(followers.stop))["clients"]

    return {
        "reloads": reloads,
        "ws_clients": clients,
        "reload_p50_ms": statistics.median(durations) * 1000,
        "reload_p95_ms": percentile(durations, 95) * 1000,
        "reload_max_ms": max(durations) * 1000,
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
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reloads", type=int, default=50)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    figures = asyncio.run(run(args.reloads, args.clients))
    print_table("Hot reloads under load (bench/reload.py)", list(figures.items()))
    print_json("reload", figures)


if __name__ == "__main__":
    main()
