"""Hostile and well-behaved WebSocket clients of the admin panel, each in its own process.

``run_abuse(port, token, ...)`` throws at ``/ws/logs`` and ``/ws/events``, from raw
sockets: malformed frames (bad opcodes, reserved bits, unmasked frames, truncated
headers, invalid UTF-8, bad close frames), oversized frames and a huge declared
length, fragment floods, floods of client messages (text, binary, junk JSON, deep
JSON), slow half-open upgrades, and thousands of connection attempts (logged in and
not, sequential and in concurrent batches). It returns what the server answered to
each, as counts a test can assert on.

``GoodClients`` keeps logs and events sockets open the way the pages do, never
reconnecting: a disconnect is a failure it reports. It audits the log sequence (no
missing, no duplicated line) and the probe events, and times each probe's delivery.
``produce_probes`` is the server side of that: a probe log line through AstrBot's
logger and a probe event through the engine's hub, at a steady rate.

Both client kinds run as subprocesses (``python -m tests.harness.ws_abuse ...``) so
that their sockets, CPU and memory are not counted as the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import struct
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from .probes import REPO_ROOT, _Observer, take_lines

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_FRAME = 64 * 1024  # the panel's ws_max_size (core/server/embedded_uvicorn.py)
PROBE_TEXT = "ws-probe n=%d t=%.6f"
PROBE_PATTERN = re.compile(r"ws-probe n=(\d+) t=(\d+\.\d+)")
PATHS = ("/ws/logs", "/ws/events")


# ------------------------------------------------------------------ frames on the wire


def _masked(data: bytes, key: bytes) -> bytes:
    if not data:
        return data
    size = len(data)
    keystream = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "big") ^ int.from_bytes(keystream, "big")).to_bytes(size, "big")


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    length: int | None = None,
) -> bytes:
    """One client frame, honest or not: ``length`` overrides the declared length."""
    size = len(payload) if length is None else length
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    mask_bit = 0x80 if mask else 0
    if size < 126:
        head = bytes([first, mask_bit | size])
    elif size < 1 << 16:
        head = bytes([first, mask_bit | 126]) + struct.pack("!H", size)
    else:
        head = bytes([first, mask_bit | 127]) + struct.pack("!Q", size)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + _masked(payload, key)


def close_frame(code: int, reason: bytes = b"") -> bytes:
    return frame(OP_CLOSE, struct.pack("!H", code) + reason)


def upgrade_request(port: int, target: str, origin: str | None = None) -> bytes:
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class Answer:
    """What the server did with one socket."""

    status: int = 0  # of the handshake; 0 = no HTTP answer
    data_frames: int = 0  # text and binary frames from the server
    close_code: int | None = None
    close_reason: str = ""
    ended: str = ""  # "eof", "reset", "timeout", "refused"

    @property
    def outcome(self) -> str:
        if self.status and self.status != 101:
            return f"http_{self.status}"
        if self.close_code is not None:
            return f"close_{self.close_code}"
        return self.ended or "open"


class RawSocket:
    """A WebSocket client that says exactly the bytes it is told to."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.answer = Answer()

    @classmethod
    async def open(
        cls, port: int, target: str, *, origin: str | None = None, then: bytes = b""
    ) -> RawSocket:
        """Connected and through the handshake (``then`` goes in the same write)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        sock = cls(reader, writer)
        writer.write(upgrade_request(port, target, origin) + then)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        sock.answer.status = int(head.split(b" ", 2)[1])
        return sock

    async def send(self, data: bytes) -> bool:
        """False once the server has gone (its close is read by ``finish``)."""
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def read_frame(self) -> tuple[int, bytes]:
        head = await self.reader.readexactly(2)
        size = head[1] & 0x7F
        if size == 126:
            size = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return head[0] & 0x0F, await self.reader.readexactly(size)

    async def finish(self, seconds: float, *, stop_after_data: int | None = None) -> Answer:
        """Read what the server sends until it closes (or ``seconds`` pass): data frames
        are counted, the first close frame is kept. With ``stop_after_data``, say
        goodbye (close 1000) after that many data frames."""
        answer = self.answer
        if answer.status != 101:
            self.abort()
            answer.ended = answer.ended or "eof"
            return answer
        try:
            async with asyncio.timeout(seconds):
                while True:
                    opcode, payload = await self.read_frame()
                    if opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                        answer.data_frames += 1
                        if stop_after_data is not None and answer.data_frames == stop_after_data:
                            await self.send(close_frame(1000))
                    elif opcode == OP_CLOSE and answer.close_code is None:
                        answer.close_code = (
                            struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                        )
                        answer.close_reason = payload[2:].decode("utf-8", "replace")
                        await self.send(close_frame(1000))  # echo, as a client must
        except asyncio.IncompleteReadError:
            answer.ended = "eof"
        except (ConnectionResetError, BrokenPipeError):
            answer.ended = "reset"
        except TimeoutError:
            answer.ended = "timeout"
        self.abort()
        return answer

    def abort(self) -> None:
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()


def _target(path: str, token: str | None, extra: str = "") -> str:
    query = "&".join(q for q in (f"token={token}" if token else "", extra) if q)
    return f"{path}?{query}" if query else path


# ------------------------------------------------------------------ the abuse


def malformed_cases() -> dict[str, tuple[list[bytes], set[int]]]:
    """Name -> (the frames sent, in one write, after the handshake; the close codes a
    correct server answers with). 1002 protocol error, 1007 bad data, 1009 too big."""
    big = b"x" * 1024
    return {
        "bad_data_opcode": ([frame(0x3, b"x")], {1002}),
        "bad_control_opcode": ([frame(0xB, b"x")], {1002}),
        "reserved_bit_1": ([frame(OP_TEXT, b"hi", rsv=0b100)], {1002}),
        "reserved_bits_2_3": ([frame(OP_TEXT, b"hi", rsv=0b011)], {1002}),
        "unmasked_frame": ([frame(OP_TEXT, b"hi", mask=False)], {1002}),
        "invalid_utf8": ([frame(OP_TEXT, b"ok \xff\xfe\xfd")], {1007}),
        "invalid_utf8_split": (
            [frame(OP_TEXT, b"\xe4\xbd", fin=False), frame(OP_CONT, b"(")],
            {1007},
        ),
        "close_code_999": ([close_frame(999)], {1002}),
        "close_code_1005": ([close_frame(1005)], {1002}),
        "close_code_5000": ([close_frame(5000)], {1002}),
        "close_one_byte": ([frame(OP_CLOSE, b"\x03")], {1002}),
        "close_reason_bad_utf8": ([close_frame(1000, b"\xff\xfe")], {1007}),
        "control_too_long": ([frame(OP_PING, b"p" * 126)], {1002}),
        "fragmented_control": ([frame(OP_PING, b"p", fin=False)], {1002}),
        "orphan_continuation": ([frame(OP_CONT, b"x")], {1002}),
        "interleaved_data": (
            [frame(OP_TEXT, b"a", fin=False), frame(OP_TEXT, b"b")],
            {1002},
        ),
        "oversized_text": ([frame(OP_TEXT, b"x" * (MAX_FRAME + 1))], {1009}),
        "oversized_binary": ([frame(OP_BINARY, os.urandom(MAX_FRAME * 2))], {1009}),
        # 2**62 bytes announced, 16 sent: refused on the header, nothing is awaited.
        "huge_declared_length": (
            [frame(OP_TEXT, length=1 << 62) + b"x" * 16],
            {1009},
        ),
        # A fragment flood: one-byte fragments that never end, past the size limit.
        "endless_tiny_fragments": (
            [frame(OP_TEXT, b"x", fin=False)] + [frame(OP_CONT, b"x", fin=False)] * (MAX_FRAME + 8),
            {1009},
        ),
        "oversized_fragments": (
            [frame(OP_TEXT, big, fin=False)]
            + [frame(OP_CONT, big, fin=False) for _ in range(MAX_FRAME // 1024 + 8)],
            {1009},
        ),
    }


async def _malformed(port: int, token: str, seconds: float) -> dict[str, Any]:
    """Every malformed case on both endpoints, logged in (the frames reach the parser
    of a live socket), plus truncated frames whose sender hangs up."""
    results: dict[str, Any] = {}
    for path in PATHS:
        for name, (frames, expected) in malformed_cases().items():
            sock = await RawSocket.open(port, _target(path, token, "level=CRITICAL"))
            await sock.send(b"".join(frames))
            answer = await sock.finish(seconds)
            results[f"{path} {name}"] = {
                "outcome": answer.outcome,
                "expected": sorted(expected),
                "ok": answer.close_code in expected and answer.ended in ("eof", "reset"),
            }
        for name, partial in (("truncated_header", b"\x81"), ("truncated_length", b"\x81\xfe\x01")):
            sock = await RawSocket.open(port, _target(path, token, "level=CRITICAL"))
            await sock.send(partial)
            with contextlib.suppress(OSError):
                sock.writer.write_eof()
            answer = await sock.finish(seconds)
            results[f"{path} {name}_then_eof"] = {
                "outcome": answer.outcome,
                "expected": ["eof"],
                "ok": answer.ended in ("eof", "reset"),
            }
    return results


def flood_messages(count: int) -> list[bytes]:
    """Text, binary, junk JSON and deeply nested JSON, all under the frame limit."""
    nested = ("[" * 20_000 + "]" * 20_000).encode()
    kinds = [
        frame(OP_TEXT, b"ping"),
        frame(OP_BINARY, os.urandom(64)),
        frame(OP_TEXT, b'{"type": "subscribe", "since": '),
        frame(OP_TEXT, b'{"type":"lines","lines":[{"seq":-1}]}'),
        frame(OP_TEXT, nested),
        frame(OP_TEXT, b"\x00" * 512),
    ]
    return [kinds[n % len(kinds)] for n in range(count)]


async def _flood(port: int, target: str, count: int, seconds: float) -> dict[str, Any]:
    """``count`` messages as fast as the socket takes them, 200 to a write."""
    sock = await RawSocket.open(port, target)
    messages = flood_messages(count)
    sent = 0
    began = time.monotonic()
    for start in range(0, count, 200):
        batch = messages[start : start + 200]
        if not await sock.send(b"".join(batch)):
            break
        sent += len(batch)
    took = time.monotonic() - began
    answer = await sock.finish(seconds)
    return {
        "outcome": answer.outcome,
        "reason": answer.close_reason,
        "sent": sent,
        "data_frames": answer.data_frames,
        "messages_per_s": sent / took if took > 0 else None,
    }


async def _few_messages(port: int, target: str, seconds: float) -> dict[str, Any]:
    """A logged-in page that says a few odd things: ignored, the socket stays open."""
    sock = await RawSocket.open(port, target)
    for message in flood_messages(6):
        await sock.send(message)
        await asyncio.sleep(0.05)
    answer = await sock.finish(seconds)  # expected to run out the clock, still open
    return {"outcome": answer.outcome, "data_frames": answer.data_frames}


async def _handshake(
    port: int, target: str, *, origin: str | None = None, then: bytes = b""
) -> Answer:
    """A handshake (and ``then``, in the same write); a logged-in socket leaves after
    the first data frame (the hello)."""
    try:
        sock = await RawSocket.open(port, target, origin=origin, then=then)
    except ConnectionRefusedError:
        return Answer(ended="refused")
    except (ConnectionError, asyncio.IncompleteReadError, TimeoutError) as exc:
        return Answer(ended=type(exc).__name__)
    return await sock.finish(10, stop_after_data=1)


async def _junk_request(port: int, data: bytes) -> Answer:
    """Bytes that are not HTTP: the answer's status, then the server hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = RawSocket(reader, writer)
    writer.write(data)
    try:
        async with asyncio.timeout(10):
            head = await reader.readuntil(b"\r\n\r\n")
            sock.answer.status = int(head.split(b" ", 2)[1])
            await reader.read()  # until the server closes
        sock.answer.ended = "eof"
    except (ConnectionError, asyncio.IncompleteReadError) as exc:
        sock.answer.ended = type(exc).__name__
    except TimeoutError:
        sock.answer.ended = "timeout"
    sock.abort()
    return sock.answer


async def _tcp_only(port: int, reset: bool) -> str:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        return type(exc).__name__
    if reset:  # RST instead of FIN
        writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
    writer.transport.abort() if reset else writer.close()
    return "rst" if reset else "fin"


@dataclass
class Storm:
    attempts: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    # Unauthenticated sockets that got anything but a 1008 close, or any data at all.
    stranger_problems: list[str] = field(default_factory=list)
    logged_in_problems: list[str] = field(default_factory=list)

    def count(self, key: str) -> None:
        self.outcomes[key] = self.outcomes.get(key, 0) + 1

    def take(self, kind: str, answer: Answer) -> None:
        self.attempts += 1
        self.count(f"{kind} {answer.outcome}")
        if kind == "stranger":
            if answer.outcome != "close_1008" or answer.data_frames:
                self.stranger_problems.append(f"{answer.outcome} data={answer.data_frames}")
        elif kind == "stranger_junk":
            # Bad UTF-8 right behind the handshake: refused one way or the other, no data.
            if answer.outcome not in ("close_1007", "close_1008") or answer.data_frames:
                self.stranger_problems.append(f"junk: {answer.outcome} data={answer.data_frames}")
        elif kind == "not_http":
            if answer.outcome != "http_400" or answer.ended != "eof":
                self.stranger_problems.append(f"not HTTP: {answer.outcome} {answer.ended}")
        elif kind == "logged_in":
            # Accepted (hello, then our 1000) or refused as full (1013): nothing else.
            if answer.outcome not in ("close_1000", "close_1013"):
                self.logged_in_problems.append(answer.outcome)
            elif answer.outcome == "close_1000" and answer.data_frames < 1:
                self.logged_in_problems.append("accepted without a hello")
        elif kind == "cross_site" and answer.outcome != "http_403":
            self.stranger_problems.append(f"cross-site: {answer.outcome}")


async def _storm(port: int, token: str, sequential: int, batches: int, batch: int) -> Storm:
    """Connection attempts: ``sequential`` one after another, then ``batches`` of
    ``batch`` at once. A mix of strangers (no or a forged token), logged-in pages,
    cross-site handshakes, and bare TCP connections closed or reset at once."""
    storm = Storm()
    began = time.monotonic()

    bad_utf8 = frame(OP_TEXT, b"\xff\xfe\xfd")

    async def one(n: int) -> None:
        path = PATHS[n % 2]
        kind = n % 12
        if kind < 3:
            token_arg = None if kind % 2 else "forged.token"
            storm.take("stranger", await _handshake(port, _target(path, token_arg)))
        elif kind == 3:
            answer = await _handshake(port, _target(path, None), then=bad_utf8)
            storm.take("stranger_junk", answer)
        elif kind < 7:
            storm.take("logged_in", await _handshake(port, _target(path, token)))
        elif kind == 7:
            answer = await _handshake(port, _target(path, token), origin="http://evil.example")
            storm.take("cross_site", answer)
        elif kind == 8:
            junk = (
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                if n % 24 < 12
                else b"BREW / HTCPCP/1.0\r\n\r\n"
            )
            storm.take("not_http", await _junk_request(port, junk))
        else:
            storm.attempts += 1
            storm.count(f"tcp {await _tcp_only(port, reset=kind == 9)}")

    for n in range(sequential):
        await one(n)
    for b in range(batches):
        await asyncio.gather(*(one(b * batch + n) for n in range(batch)))
    storm.seconds = time.monotonic() - began
    return storm


def _hung_up(reader: asyncio.StreamReader) -> bool:
    # A FIN, or a RST when our last line was still unread on the server's side.
    return reader.at_eof() or reader.exception() is not None


async def _slow_upgrades(port: int, token: str, count: int, give_up: float) -> dict:
    """Upgrade requests sent a header line a second, never finished: the server should
    hang up on them (core/server/embedded_uvicorn.py HEAD_TIMEOUT). Runs until it has, or
    ``give_up`` seconds pass."""
    began = time.monotonic()
    socks: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for n in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        target = _target(PATHS[n % 2], token if n % 2 else None)
        writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
        socks.append((reader, writer))
    line = 0
    last_closed_at = None
    while time.monotonic() - began < give_up:
        await asyncio.sleep(1.0)
        line += 1
        open_now = [(r, w) for r, w in socks if not _hung_up(r)]
        if not open_now:
            last_closed_at = time.monotonic() - began
            break
        for _, writer in open_now:
            with contextlib.suppress(ConnectionError):
                writer.write(f"X-Slow-{line}: {'a' * 20}\r\n".encode())
    closed_by_server = sum(_hung_up(reader) for reader, _ in socks)
    for _, writer in socks:
        writer.transport.abort()
    return {
        "count": count,
        "closed_by_server": closed_by_server,
        "all_closed_after_s": last_closed_at,
        "header_lines": line,
    }


async def _held_sockets(port: int, token: str) -> list[RawSocket]:
    """Sockets that stop half-way and stay: a frame header with no rest, a declared
    payload that never arrives, a logged-in page that never reads."""
    held = []
    for path in PATHS:
        sock = await RawSocket.open(port, _target(path, token, "level=CRITICAL"))
        await sock.send(b"\x81\xfe")  # header cut after the length marker
        held.append(sock)
        sock = await RawSocket.open(port, _target(path, token, "level=CRITICAL"))
        await sock.send(frame(OP_TEXT, length=60_000) + b"x" * 100)
        held.append(sock)
    stalled = await RawSocket.open(port, _target("/ws/logs", token, "scope=all"))
    stalled.writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    held.append(stalled)
    return held


async def abuse(args: argparse.Namespace) -> dict[str, Any]:
    port, token = args.port, args.token
    began = time.monotonic()
    slow = asyncio.create_task(_slow_upgrades(port, token, args.slow, give_up=30.0))
    held = await _held_sockets(port, token)

    malformed = await _malformed(port, token, seconds=10)
    floods = {
        f"{path} logged_in": await _flood(
            port, _target(path, token, "level=CRITICAL"), args.flood, 10
        )
        for path in PATHS
    }
    floods.update(
        {
            f"{path} stranger": await _flood(port, _target(path, None), args.flood, 10)
            for path in PATHS
        }
    )
    few = {
        path: await _few_messages(port, _target(path, token, "level=CRITICAL"), 1.5)
        for path in PATHS
    }
    storm = await _storm(port, token, args.sequential, args.batches, args.batch)

    # The held sockets must still be open (their server side waits for the rest).
    held_open = 0
    for sock in held:
        answer = await sock.finish(0.05)
        held_open += answer.ended == "timeout"
    slow_result = await slow
    return {
        "malformed": malformed,
        "malformed_frames": sum(len(frames) for frames, _ in malformed_cases().values())
        * len(PATHS),
        "floods": floods,
        "flood_messages": sum(f["sent"] for f in floods.values()),
        "few_messages": few,
        "storm": asdict(storm),
        "slow_upgrades": slow_result,
        "held": {"count": len(held), "still_open_at_end": held_open},
        "connection_attempts": storm.attempts
        + args.slow
        + len(held)
        + len(malformed)
        + len(floods)
        + len(few),
        "seconds": time.monotonic() - began,
    }


async def run_abuse(port: int, token: str, **counts: int) -> dict[str, Any]:
    """Run the abuse in a subprocess (the caller's loop keeps serving) and return its
    report. ``counts``: flood, sequential, batches, batch, slow (see ``main``)."""
    args = [f"--{name}={value}" for name, value in counts.items()]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.harness.ws_abuse",
        "abuse",
        f"--port={port}",
        f"--token={token}",
        *args,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=300)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise AssertionError(f"the abuse run failed ({proc.returncode}): {err.decode()[-3000:]}")
    return json.loads(lines[-1])


# ------------------------------------------------------------------ the good clients


class GoodClients(_Observer):
    """``logs`` + ``events`` sockets that must keep their stream through everything."""

    module = "tests.harness.ws_abuse"
    mode = "watch"

    def __init__(self, port: int, token: str, logs: int = 3, events: int = 2) -> None:
        super().__init__(
            f"--port={port}", f"--token={token}", f"--logs={logs}", f"--events={events}"
        )


@dataclass
class _Watch:
    kind: str
    lines: int = 0
    probes: int = 0
    missed: int = 0
    duplicates: int = 0
    probe_gaps: int = 0
    closed: str = ""  # why the socket ended; "" = still open when told to stop
    last_seq: int | None = None
    last_probe: int | None = None
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent at, delay)

    def probe(self, n: int, sent_at: float, now: float) -> None:
        if self.last_probe is not None:
            if n <= self.last_probe:
                self.duplicates += 1
                return
            self.probe_gaps += n - self.last_probe - 1
        self.last_probe = n
        self.probes += 1
        self.latencies.append((sent_at, now - sent_at))

    def take_logs(self, message: dict, now: float) -> None:
        for line in take_lines(self, message):
            if match := PROBE_PATTERN.search(line["text"]):
                self.probe(int(match.group(1)), float(match.group(2)), now)

    def take_event(self, message: dict, now: float) -> None:
        if message["type"] == "gap":
            self.missed += message["dropped"]
        elif message["type"] == "probe":
            self.probe(message["n"], message["t"], now)


async def _watch(url: str, watch: _Watch, ready: asyncio.Event, connected: list) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    take = watch.take_logs if watch.kind == "logs" else watch.take_event
    try:
        async with connect(url, open_timeout=10, max_size=None) as ws:
            connected.append(watch)
            if len(connected) == ready.want:  # type: ignore[attr-defined]
                ready.set()
            async for raw in ws:
                take(json.loads(raw), time.time())
            watch.closed = f"close {ws.close_code}"
    except ConnectionClosed as exc:
        watch.closed = f"close {exc.rcvd.code if exc.rcvd else 'none'}"
    except (OSError, TimeoutError) as exc:
        watch.closed = type(exc).__name__


async def watch_clients(port: int, token: str, logs: int, events: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    ready = asyncio.Event()
    ready.want = logs + events  # type: ignore[attr-defined]
    connected: list[_Watch] = []
    base = f"ws://127.0.0.1:{port}"
    watches = [_Watch("logs") for _ in range(logs)] + [_Watch("events") for _ in range(events)]
    tasks = [
        asyncio.create_task(
            _watch(
                f"{base}/ws/logs?scope=all&token={token}"
                if w.kind == "logs"
                else f"{base}/ws/events?token={token}",
                w,
                ready,
                connected,
            )
        )
        for w in watches
    ]
    await asyncio.wait_for(ready.wait(), timeout=20)
    print("READY", flush=True)
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({"clients": [asdict(w) for w in watches]}), flush=True)


# ------------------------------------------------------------------ the server side


async def produce_probes(logger: Any, hub: Any, stop: asyncio.Event, rate: float = 100.0) -> int:
    """A probe log line (and a probe event, when ``hub`` is given) ``rate`` times a
    second until ``stop``; returns how many. Paced on the clock, so a busy loop sends
    late rather than fewer."""
    n = 0
    interval = 1.0 / rate
    next_at = time.monotonic()
    while not stop.is_set():
        now = time.time()
        logger.info("[ProactiveChat] " + PROBE_TEXT, n, now)
        if hub is not None:
            hub.publish({"type": "probe", "n": n, "t": now})
        n += 1
        next_at += interval
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["abuse", "watch"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--logs", type=int, default=3)
    parser.add_argument("--events", type=int, default=2)
    parser.add_argument("--flood", type=int, default=3000, help="messages per flood")
    parser.add_argument("--sequential", type=int, default=400)
    parser.add_argument("--batches", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--slow", type=int, default=150, help="slow half-open upgrades")
    args = parser.parse_args()
    if args.mode == "watch":
        asyncio.run(watch_clients(args.port, args.token, args.logs, args.events))
    else:
        print(json.dumps(asyncio.run(abuse(args))), flush=True)


if __name__ == "__main__":
    main()
