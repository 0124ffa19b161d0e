"""Live-log throughput: how fast AstrBot's log lines reach K panel clients.

The host side runs AstrBot's real logger and LogBroker (console output to
/dev/null) with the real admin panel; K WebSocket clients and one client that
never reads run in a separate process so they do not share the host's CPU.

    .venv/bin/python bench/log_stream.py [--rate 10000] [--seconds 5] [--clients 10]

Figures: lines/s delivered per client, delivery latency p50/p99, lines lost,
the panel's CPU and memory, and the host's per-call logging cost with and
without the panel attached. Targets: 10 clients at 10,000 lines/s with p99 under
100 ms, the stalled client not slowing the others, logging slowed by under 10 %.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    free_port,
    import_plugin_package,
    median,
    percentile,
    print_json,
    print_table,
)

PASSWORD = "bench-password-123"
STAMP = re.compile(r"bench n=(\d+) t=(\d+\.\d+)")


# ---------------------------------------------------------------- client process


async def _client(url: str, deadline: float, stats: dict) -> None:
    from websockets.asyncio.client import connect

    latencies: list[float] = []
    received = gaps = 0
    async with connect(url, max_size=None, open_timeout=10) as ws:
        stats["ready"] += 1
        if stats["ready"] == stats["want"]:
            stats["all_ready"].set()
        while time.time() < deadline:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=max(0.05, deadline - time.time()))
            except TimeoutError:
                break
            now = time.time()
            message = json.loads(raw)
            if message["type"] == "gap":
                gaps += message["missed"]
            elif message["type"] == "lines":
                for line in message["lines"]:
                    match = STAMP.search(line["text"])
                    if match and int(match.group(1)) >= ATTACHED_BASE:
                        received += 1
                        latencies.append(now - float(match.group(2)))
    stats["clients"].append({"received": received, "gaps": gaps, "latencies": latencies})


def _stalled_client(port: int, token: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    request = (
        f"GET /ws/logs?scope=plugin&token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    return sock


async def run_clients(port: int, token: str, count: int, seconds: float) -> None:
    stalled = _stalled_client(port, token)
    url = f"ws://127.0.0.1:{port}/ws/logs?scope=plugin&token={token}"
    stats: dict = {"ready": 0, "clients": [], "all_ready": asyncio.Event(), "want": count}
    deadline = time.time() + seconds
    tasks = [asyncio.create_task(_client(url, deadline, stats)) for _ in range(count)]
    await stats["all_ready"].wait()
    print("READY", flush=True)
    await asyncio.gather(*tasks)
    stalled.close()
    print(json.dumps(stats["clients"]), flush=True)


# ---------------------------------------------------------------- host process


ATTACHED_BASE = 10_000_000  # line numbers of the measured phase start here


def _log_burst(logger, start: int, count: int) -> float:
    began = time.perf_counter()
    for n in range(start, start + count):
        logger.info("[ProactiveChat] bench n=%d t=%.6f", n, time.time())
    return time.perf_counter() - began


async def _paced_logging(
    logger, rate: int, seconds: float, base: int = 0, burst: int = 100
) -> list[float]:
    """Log ``rate`` lines/s in bursts; return the per-call cost of each burst (µs)."""
    per_call: list[float] = []
    interval = burst / rate
    next_at = time.perf_counter()
    total = int(rate * seconds)
    for start in range(base, base + total, burst):
        per_call.append(_log_burst(logger, start, burst) / burst * 1e6)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    return per_call


async def host(args: argparse.Namespace) -> dict:
    import psutil

    astrbot_logger = args.astrbot_logger

    import_plugin_package()
    from proactive_chat.panel import AdminPanel
    from proactive_chat.web.settings import parse_web_admin

    proc = psutil.Process()
    # Baseline: the host logging with no panel.
    await _paced_logging(astrbot_logger, args.rate, 1.0)  # warm-up
    cpu0 = proc.cpu_times()
    baseline = await _paced_logging(astrbot_logger, args.rate, args.seconds)
    cpu1 = proc.cpu_times()
    baseline_cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / args.seconds

    port = free_port()
    settings, _ = parse_web_admin({"port": port, "password": PASSWORD, "log_buffer_size": 20000})
    rss_before = proc.memory_info().rss
    with tempfile.TemporaryDirectory() as data_dir:
        panel = AdminPanel(settings, Path(data_dir), "bench", "bench")
        await panel.start()
        token = panel.deps.auth.issue_token()
        client_proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--client-mode",
            f"--port={port}",
            f"--token={token}",
            f"--clients={args.clients}",
            f"--seconds={args.seconds + 3}",
            stdout=subprocess.PIPE,
        )
        assert client_proc.stdout is not None
        ready = await asyncio.wait_for(client_proc.stdout.readline(), timeout=30)
        assert ready.strip() == b"READY", ready
        cpu2 = proc.cpu_times()
        attached = await _paced_logging(astrbot_logger, args.rate, args.seconds, ATTACHED_BASE)
        cpu3 = proc.cpu_times()
        attached_cpu = (cpu3.user + cpu3.system - cpu2.user - cpu2.system) / args.seconds
        rss_during = proc.memory_info().rss
        output = await asyncio.wait_for(client_proc.stdout.read(), timeout=60)
        await client_proc.wait()
        stop_began = time.perf_counter()
        await panel.stop()
        stop_seconds = time.perf_counter() - stop_began

    clients = json.loads(output.decode().strip().splitlines()[-1])
    sent = int(args.rate * args.seconds)
    latencies = [lat for c in clients for lat in c["latencies"]]
    received = [c["received"] for c in clients]
    slowdown = (median(attached) / median(baseline) - 1) * 100
    return {
        "clients": args.clients,
        "rate_target_lines_per_s": args.rate,
        "lines_sent": sent,
        "lines_per_s_per_client_min": min(received) / args.seconds,
        "lines_lost_max": sent - min(received),
        "gap_reports_max": max(c["gaps"] for c in clients),
        "latency_p50_ms": percentile(latencies, 50) * 1000,
        "latency_p99_ms": percentile(latencies, 99) * 1000,
        "latency_max_ms": max(latencies) * 1000 if latencies else float("nan"),
        "log_call_us_median_without_panel": median(baseline),
        "log_call_us_median_with_panel": median(attached),
        "log_call_slowdown_pct": slowdown,
        "host_cpu_pct_without_panel": baseline_cpu * 100,
        "host_cpu_pct_with_panel": attached_cpu * 100,
        "panel_rss_growth_mb": (rss_during - rss_before) / 2**20,
        "panel_stop_s": stop_seconds,
    }


def setup_astrbot_logging():
    """AstrBot's real logger and LogBroker, its console going to /dev/null."""
    # AstrBot makes its data folders in the working directory: keep them out of the repo.
    workdir = tempfile.mkdtemp(prefix="pc-bench-")
    os.chdir(workdir)
    os.environ["ASTRBOT_ROOT"] = workdir
    real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")
    from astrbot.core import LogBroker, LogManager
    from astrbot.core import logger as astrbot_logger

    sys.stdout = real_stdout
    LogManager.set_queue_handler(astrbot_logger, LogBroker())
    return astrbot_logger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--client-mode", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client_mode:
        asyncio.run(run_clients(args.port, args.token, args.clients, args.seconds))
        return
    args.astrbot_logger = setup_astrbot_logging()
    figures = asyncio.run(host(args))
    print_table("Live-log stream (bench/log_stream.py)", list(figures.items()))
    print_json("log_stream", figures)


if __name__ == "__main__":
    main()
