"""What a stranger can hold and make the host say, at the socket level: the real panel
app behind the real (embedded) uvicorn on a free port, raw sockets as the stranger.

Deadlines are shortened here (monkeypatched); SECURITY.md names these tests as the
ones that keep its promises (every phase has a deadline, a stranger's body is never
read, a broken request writes no traceback, accept errors are one line a minute).
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from harness.ports import listening_socket
from harness.waiting import async_wait_for
from proactive_chat.core.server import embedded_uvicorn
from proactive_chat.core.server.embedded_uvicorn import EmbeddedUvicorn, connection_cap
from proactive_chat.core.server.host_log import _AcceptErrorFilter

from .test_app_guard import PASSWORD, build


@pytest.fixture
async def panel(monkeypatch):
    monkeypatch.setattr(embedded_uvicorn, "HEAD_TIMEOUT", 0.5)
    monkeypatch.setattr(embedded_uvicorn, "BODY_TIMEOUT", 1.5)
    monkeypatch.setattr(embedded_uvicorn, "BODY_RATE_WINDOW", 0.3)
    app, deps = build()
    sock = listening_socket(backlog=64)
    server = EmbeddedUvicorn(app)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await async_wait_for(lambda: server.started or task.done(), timeout=5, interval=0.01)
    assert server.started
    try:
        yield server, sock.getsockname()[1]
    finally:
        deps.login_report.flush()
        server.should_exit = server.force_exit = True
        async with asyncio.timeout(5):
            await task


async def open_raw(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes | None:
    """Everything the server sent before closing, or None if it kept the socket open."""
    data = b""
    try:
        async with asyncio.timeout(seconds):
            while chunk := await reader.read(65536):
                data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return data


def tracebacks(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.exc_info or "Traceback" in r.getMessage() or "Exception in ASGI" in r.getMessage()
    ]


HEAD = "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


async def test_a_later_head_on_a_kept_alive_connection_has_a_deadline(panel):
    _, port = panel
    reader, writer = await open_raw(port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    async with asyncio.timeout(3):
        assert (await reader.readuntil(b'"ok"}')).startswith(b"HTTP/1.1 200")
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
    assert await closed_within(reader, 3.0) is not None, "the second head was waited for"
    writer.close()


async def test_a_body_that_never_ends_is_cut_off(panel):
    _, port = panel
    reader, writer = await open_raw(port)
    writer.write((HEAD.format(path="/api/login") + "Content-Length: 100\r\n\r\n").encode())
    writer.write(b'{"password": ')  # and nothing more
    assert await closed_within(reader, 3.0) is not None, "the silent body was waited for"
    writer.close()


async def test_a_body_dripped_slowly_is_cut_off(panel):
    _, port = panel
    reader, writer = await open_raw(port)
    writer.write((HEAD.format(path="/api/login") + "Content-Length: 4000\r\n\r\n").encode())
    closed = asyncio.create_task(closed_within(reader, 4.0))
    for _ in range(40):
        if closed.done():
            break
        writer.write(b" ")  # a byte every 0.05 s: alive, but far under the minimum rate
        await asyncio.sleep(0.05)
    assert await closed is not None, "a drip-fed body was kept"
    writer.close()


async def test_a_strangers_chunked_body_is_refused_unread_and_then_cut_off(panel):
    _, port = panel
    reader, writer = await open_raw(port)
    writer.write((HEAD.format(path="/api/status") + "Transfer-Encoding: chunked\r\n\r\n").encode())
    writer.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
    async with asyncio.timeout(3):
        head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401"), head  # refused before the body was read
    # Keep streaming chunks fast, for ever: the total deadline still ends it.
    closed = asyncio.create_task(closed_within(reader, 5.0))
    try:
        while not closed.done():
            writer.write(b"400\r\n" + b"x" * 1024 + b"\r\n")
            await asyncio.sleep(0.01)
    except (ConnectionResetError, BrokenPipeError):
        pass
    assert await closed is not None, "an endless body after the 401 was kept"
    writer.close()


async def test_a_client_leaving_mid_body_writes_no_traceback(panel, caplog):
    caplog.set_level(logging.DEBUG)
    _, port = panel
    for _ in range(2):
        _, writer = await open_raw(port)
        writer.write((HEAD.format(path="/api/login") + "Content-Length: 1000\r\n\r\n").encode())
        writer.write(b'{"password": "' + PASSWORD.encode())
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.transport.abort()  # gone mid-body
    await asyncio.sleep(0.3)
    assert tracebacks(caplog) == []


def test_connection_cap_leaves_astrbot_most_descriptors():
    assert connection_cap(1024) == 256
    assert connection_cap(4096) == 1000
    assert connection_cap(64) == 16
    assert connection_cap(1 << 20) == 1000


def accept_error(port: int) -> logging.LogRecord:
    text = (
        "socket.accept() out of system resource\nsocket: <asyncio.TransportSocket fd=9, "
        f"family=2, type=1, proto=6, laddr=('127.0.0.1', {port})>"
    )
    try:
        raise OSError(24, "Too many open files")
    except OSError as exc:
        return logging.LogRecord(
            "asyncio", logging.ERROR, __file__, 1, text, None, (OSError, exc, exc.__traceback__)
        )


def test_accept_errors_for_the_panel_are_one_line_a_minute():
    clock = [100.0]
    quiet = _AcceptErrorFilter(4100, clock=lambda: clock[0])
    first = accept_error(4100)
    assert quiet.filter(first) and first.exc_info is None
    assert "\n" not in first.getMessage() and "port 4100" in first.getMessage()
    assert sum(quiet.filter(accept_error(4100)) for _ in range(1000)) == 0
    assert quiet.filter(accept_error(8080))  # AstrBot's own listener: not ours to hush
    clock[0] += 61.0
    line = accept_error(4100)
    assert quiet.filter(line)
    assert "1000 more" in line.getMessage()
