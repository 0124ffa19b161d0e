"""What a stranger (no password) can take from the host through the panel, with figures.

    .venv/bin/python bench/stranger.py [--nofile 1024] [--extra 64] [--guesses 200]
                                       [--noise-seconds 20]

The real panel (``harness.panel_server``: the app over a real ``ProactiveService``,
served by the embedded uvicorn on a free 127.0.0.1 port) in this process, whose soft
descriptor limit is first set to ``--nofile`` (a common default is 1,024), and raw
sockets from this machine as the stranger:

* connections: the cap derived from the limit, how many of ``cap + --extra``
  half-open connections (a request head never finished) stay open, how many
  descriptors are left for AstrBot meanwhile, and how long a silent head, a silent
  body and an endless body after a refusal are held;
* memory: this process's RSS growth while the cap's worth of connections each hold
  the most a stranger can make the panel keep (a login body one byte short of its cap);
* guesses: wrong passwords sent concurrently from this machine, how many were checked
  (the rest refused with 429) - the guesses per minute possible from one machine;
* the host's log: lines written to AstrBot's loggers during ``--noise-seconds`` of
  every kind of noise (wrong passwords, broken requests, bodies abandoned midway, bad
  WebSocket cursors): with the default minute, the lines a stranger can cause per minute.

A table a person can read, then one JSON line.
"""

from __future__ import annotations

import argparse
import logging
import resource
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]


def set_nofile(soft: int) -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = min(soft, hard) if hard != resource.RLIM_INFINITY else soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def raw(port: int, payload: bytes = b"") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if payload:
        sock.sendall(payload)
    return sock


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def held_for(port: int, payload: bytes, keep_sending: bytes = b"", limit: float = 60.0) -> float:
    """Seconds until the panel closes a connection that sends ``payload`` and then
    (if given) ``keep_sending`` every 10 ms for ever."""
    started = time.monotonic()
    sock = raw(port, payload)
    sock.settimeout(0.01 if keep_sending else limit)
    try:
        while time.monotonic() - started < limit:
            try:
                if sock.recv(65536) == b"":
                    break
            except TimeoutError:
                sock.sendall(keep_sending)
            except OSError:
                break
    finally:
        sock.close()
    return time.monotonic() - started


LOGIN = b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nofile", type=int, default=1024, help="soft RLIMIT_NOFILE to run under")
    parser.add_argument("--extra", type=int, default=64, help="connections beyond the cap")
    parser.add_argument("--guesses", type=int, default=200, help="concurrent wrong passwords")
    parser.add_argument("--noise-seconds", type=float, default=60.0)
    args = parser.parse_args()
    nofile = set_nofile(args.nofile)  # before the plugin is imported: the cap reads it

    from _common import print_json, print_table

    from harness.panel_server import PanelServer
    from proactive_chat.core.server import embedded_uvicorn
    from proactive_chat.web.auth.guard import LOGIN_MAX_BODY_BYTES

    lines = count_host_log_lines()
    figures: dict[str, object] = {"nofile": nofile, "cap": embedded_uvicorn.MAX_CONNECTIONS}
    with tempfile.TemporaryDirectory(prefix="stranger-") as data_dir:
        with PanelServer(Path(data_dir), sessions=5, journal=5) as server:
            port = server.port
            figures |= guesses(server, args.guesses)
            figures |= noise(port, args.noise_seconds, lines)
            # The summary of the wrong passwords is due at the minute's end: take it now.
            server.call(server.deps.login_report.flush)
            figures["host_log_lines"] = len(lines)  # guesses and noise: about a minute
            figures["host_log_line_texts"] = [line[:100] for line in lines]
            figures |= hold_connections(port, embedded_uvicorn.MAX_CONNECTIONS + args.extra, nofile)
            figures |= hold_memory(port, embedded_uvicorn.MAX_CONNECTIONS, LOGIN_MAX_BODY_BYTES)
            figures |= hold_times(port)
    print_table("What a stranger can take", list(figures.items()))
    print_json("stranger", figures)
    return 0


def hold_connections(port: int, count: int, nofile: int) -> dict[str, object]:
    socks = []
    for _ in range(count):
        try:
            socks.append(raw(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
        except OSError:
            break
    time.sleep(1.0)
    held = sum(still_open(s) for s in socks)
    # The stranger's own sockets would be in another process: not the host's.
    left = nofile - (open_fds() - len(socks))
    for s in socks:
        s.close()
    time.sleep(0.5)
    return {"connections_tried": count, "connections_held": held, "fds_left_for_astrbot": left}


def hold_memory(port: int, count: int, login_cap: int) -> dict[str, object]:
    from _common import rss_mb

    time.sleep(0.5)
    before = rss_mb()
    head = LOGIN + f"Content-Length: {login_cap}\r\n\r\n".encode()
    socks = [raw(port, head + b"x" * (login_cap - 1)) for _ in range(count)]
    time.sleep(1.5)
    grown = rss_mb() - before
    held = sum(still_open(s) for s in socks)
    for s in socks:
        s.close()
    return {
        "memory_held_mb": round(grown, 1),
        "memory_per_connection_kb": round(grown * 1024 / max(1, held), 1),
        "memory_connections": held,
    }


def hold_times(port: int) -> dict[str, object]:
    status = b"POST /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    return {
        "silent_head_held_s": round(held_for(port, b"GET / HTTP/1.1\r\nHost: x\r\n"), 1),
        "silent_body_held_s": round(held_for(port, LOGIN + b"Content-Length: 100\r\n\r\n"), 1),
        "endless_body_held_s": round(held_for(port, status + chunk, keep_sending=chunk), 1),
    }


def guesses(server, count: int) -> dict[str, object]:
    """Concurrent wrong passwords; the ones that reached the password check are counted
    there (the last one checked is answered 429, not 401: the limit is reached)."""
    import requests

    port, auth = server.port, server.deps.auth
    statuses: list[int] = []
    checked: list[str] = []
    check = auth.check_password

    async def counted(candidate: str) -> bool:
        checked.append(candidate)
        return await check(candidate)

    auth.check_password = counted

    def guess(n: int) -> None:
        response = requests.post(
            f"http://127.0.0.1:{port}/api/login", json={"password": f"guess-{n}"}, timeout=30
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    auth.check_password = check
    return {
        "guesses_sent": count,
        "guesses_refused_429": statuses.count(429),
        "guesses_checked_per_minute_one_machine": len(checked),
    }


def noise(port: int, seconds: float, lines: list[str]) -> dict[str, object]:
    from websockets.sync.client import connect

    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < seconds:
        for payload in (
            LOGIN + b'Content-Length: 30\r\n\r\n{"password": "wrong"}         ',
            LOGIN + b'Content-Length: 500\r\n\r\n{"password": ',  # abandoned midway
            b"GARBAGE\r\n\r\n",
            b"GET /api/logs?since=%C2%B2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        ):
            with raw(port, payload) as sock:
                sock.settimeout(0.2)
                try:
                    sock.recv(4096)
                except OSError:
                    pass
            sent += 1
        try:
            with connect(f"ws://127.0.0.1:{port}/ws/logs?since=--5", open_timeout=2) as ws:
                ws.recv(timeout=1)
        except Exception:
            pass
        sent += 1
    elapsed = time.monotonic() - started
    return {"noise_requests": sent, "noise_seconds": round(elapsed, 1)}


def count_host_log_lines() -> list[str]:
    """Every line AstrBot would print from the loggers the panel can reach."""
    seen: list[str] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    for name in ("astrbot", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "asyncio"):
        target = logging.getLogger(name)
        target.addHandler(Count(logging.INFO))
        target.setLevel(logging.INFO)
        target.propagate = False
    return seen


if __name__ == "__main__":
    sys.exit(main())
