"""Outside observers of the admin panel, each in its own process.

``HealthProber`` opens a fresh TCP connection every few milliseconds and asks for
``/healthz``; it counts refused connections, other failures, and the longest outage.
``LogFollowers`` keeps K live-log WebSockets open the way the page does: on close it
reconnects with ``since=<last seq>`` and checks for duplicated and missing lines.

They run as subprocesses (``python -m tests.harness.probes ...``) so the host's busy
event loop cannot hide an outage from them. Results come back as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


class _Observer:
    """A subprocess that runs until ``stop()`` and then prints its JSON result."""

    module = "tests.harness.probes"
    mode = ""

    def __init__(self, *args: str) -> None:
        self._args = args
        self._proc: subprocess.Popen | None = None
        self.result: dict | None = None

    def start(self, ready_timeout: float = 20.0) -> _Observer:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", self.module, self.mode, *self._args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        deadline = time.monotonic() + ready_timeout
        line = self._proc.stdout.readline()
        if line.strip() != "READY" or time.monotonic() > deadline:
            self._proc.kill()
            raise AssertionError(f"{self.mode} did not start: {line!r} {self._proc.stderr.read()}")
        return self

    def stop(self, timeout: float = 20.0) -> dict:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGTERM)
        try:
            out, err = self._proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            out, err = self._proc.communicate()
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            raise AssertionError(f"{self.mode} printed no result; stderr: {err[-2000:]}")
        self.result = json.loads(lines[-1])
        return self.result

    def __enter__(self) -> _Observer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.result is None and self._proc is not None:
            self.stop()


class HealthProber(_Observer):
    mode = "probe"

    def __init__(self, port: int, interval: float = 0.002, host: str = "127.0.0.1") -> None:
        super().__init__(f"--port={port}", f"--interval={interval}", f"--host={host}")


class LogFollowers(_Observer):
    mode = "follow"

    def __init__(self, port: int, token: str, clients: int = 10, host: str = "127.0.0.1") -> None:
        super().__init__(
            f"--port={port}", f"--token={token}", f"--clients={clients}", f"--host={host}"
        )


# ------------------------------------------------------------------ subprocess side

_stop = False


def _on_term(*_: object) -> None:
    global _stop
    _stop = True


def _probe_once(host: str, port: int) -> str:
    try:
        with socket.create_connection((host, port), timeout=5.0) as sock:
            sock.sendall(
                f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
            )
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
    except ConnectionRefusedError:
        return "refused"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except TimeoutError:
        return "timeout"
    except OSError as exc:
        return f"error:{exc.errno}"
    if data.startswith(b"HTTP/1.1 200") and b'"status":"ok"' in data.replace(b" ", b""):
        return "ok"
    return "bad_response"


def run_prober(host: str, port: int, interval: float) -> None:
    signal.signal(signal.SIGTERM, _on_term)
    print("READY", flush=True)
    counts: dict[str, int] = {}
    latencies: list[float] = []
    failures: list[tuple[float, str]] = []
    outage_started: float | None = None
    longest_outage = 0.0
    while not _stop:
        began = time.monotonic()
        outcome = _probe_once(host, port)
        took = time.monotonic() - began
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome == "ok":
            latencies.append(took)
            if outage_started is not None:
                longest_outage = max(longest_outage, began + took - outage_started)
                outage_started = None
        else:
            failures.append((round(time.time(), 3), outcome))
            if outage_started is None:
                outage_started = began
        time.sleep(max(0.0, interval - took))
    latencies.sort()
    print(
        json.dumps(
            {
                "probes": sum(counts.values()),
                "ok": counts.get("ok", 0),
                "refused": counts.get("refused", 0),
                "failed": sum(v for k, v in counts.items() if k != "ok"),
                "outcomes": counts,
                "first_failures": failures[:20],
                "longest_outage_s": longest_outage,
                "latency_p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
                "latency_max_ms": latencies[-1] * 1000 if latencies else None,
            }
        ),
        flush=True,
    )


def take_lines(counter: Any, message: dict) -> list[dict]:
    """Count a /ws/logs ``gap`` or ``lines`` message into ``counter`` (its ``missed``,
    ``duplicates``, ``last_seq`` and ``lines``); return the lines that were new."""
    if message["type"] == "gap":
        counter.missed += message["missed"]
        return []
    if message["type"] != "lines":
        return []
    fresh = []
    for line in message["lines"]:
        seq = line["seq"]
        if counter.last_seq is not None and seq <= counter.last_seq:
            counter.duplicates += 1
            continue
        if counter.last_seq is not None and seq != counter.last_seq + 1:
            counter.missed += seq - counter.last_seq - 1
        counter.last_seq = seq
        counter.lines += 1
        fresh.append(line)
    return fresh


class _Follower:
    """One live-log client that reconnects like the page does and audits the sequence."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.base_url = f"ws://{host}:{port}/ws/logs?scope=all&token={token}"
        self.last_seq: int | None = None
        self.lines = self.duplicates = self.missed = self.reconnects = 0
        self.close_codes: dict[str, int] = {}
        self.longest_reconnect = 0.0
        self._disconnected_at: float | None = None

    def summary(self) -> dict:
        return {
            "lines": self.lines,
            "last_seq": self.last_seq,
            "duplicates": self.duplicates,
            "missed": self.missed,
            "reconnects": self.reconnects,
            "close_codes": self.close_codes,
            "longest_reconnect_s": self.longest_reconnect,
        }

    def _count_close(self, what: str) -> None:
        self.close_codes[what] = self.close_codes.get(what, 0) + 1

    def _take(self, message: dict, on_hello) -> None:
        if message["type"] == "hello":
            on_hello()
            if self.last_seq is not None and not message["resumed"]:
                self.missed += max(0, message["first_seq"] - 1 - self.last_seq)
        else:
            take_lines(self, message)

    async def run(self, on_hello) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        while True:
            url = self.base_url
            if self.last_seq is not None:
                url += f"&since={self.last_seq}"
            try:
                async with connect(url, open_timeout=5, close_timeout=1, max_size=None) as ws:
                    if self._disconnected_at is not None:
                        gap = time.monotonic() - self._disconnected_at
                        self.longest_reconnect = max(self.longest_reconnect, gap)
                        self._disconnected_at = None
                    async for raw in ws:
                        self._take(json.loads(raw), on_hello)
                    self._count_close(str(ws.close_code))
            except ConnectionClosed as exc:
                self._count_close(str(exc.rcvd.code) if exc.rcvd else "no-close-frame")
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                self._count_close(type(exc).__name__)
            self.reconnects += 1
            if self._disconnected_at is None:
                self._disconnected_at = time.monotonic()
            await asyncio.sleep(0.05)


async def run_followers(host: str, port: int, token: str, clients: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    ready = asyncio.Event()
    connected = 0

    def on_hello() -> None:
        nonlocal connected
        connected += 1
        if connected >= clients:
            ready.set()

    followers = [_Follower(host, port, token) for _ in range(clients)]
    tasks = [asyncio.create_task(f.run(on_hello)) for f in followers]
    await asyncio.wait_for(ready.wait(), timeout=15)
    print("READY", flush=True)
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"clients": [f.summary() for f in followers]}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["probe", "follow"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--interval", type=float, default=0.002)
    parser.add_argument("--token", default="")
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if args.mode == "probe":
        run_prober(args.host, args.port, args.interval)
    else:
        asyncio.run(run_followers(args.host, args.port, args.token, args.clients))


if __name__ == "__main__":
    main()
