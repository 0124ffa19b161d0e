"""The panel's uvicorn as a guest: what it may say in AstrBot's log (no per-connection
chatter, nothing a client can make it say at will, a capped number of lines, no tokens),
and the limits on connections a stranger would otherwise set (a cap on open sockets, a
deadline for the request head), on a real socket."""

from __future__ import annotations

import asyncio
import logging

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from websockets.asyncio.client import connect

from harness.ports import listening_socket
from harness.waiting import async_wait_for
from proactive_chat.core.server import embedded_uvicorn
from proactive_chat.core.server.embedded_uvicorn import (
    _LINES_PER_MINUTE,
    EmbeddedUvicorn,
    _UvicornLogFilter,
)


def record(message: str, level: int = logging.WARNING, *args: object) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", level, __file__, 1, message, args, None)


def test_info_and_client_faults_are_dropped():
    quiet = _UvicornLogFilter()
    assert not quiet.filter(record('127.0.0.1:5 - "WebSocket /ws/logs" [accepted]', logging.INFO))
    for fault in (
        "Invalid HTTP request received.",
        "Invalid UTF-8 sequence received from client.",
        "Unsupported upgrade request.",
    ):
        assert not quiet.filter(record(fault, logging.ERROR)), fault
    assert quiet.filter(record("Exception in ASGI application\n", logging.ERROR))


def test_tokens_are_masked():
    quiet = _UvicornLogFilter()
    line = record("bad request %s", logging.WARNING, "/ws/logs?token=abc.def&x=1")
    assert quiet.filter(line)
    assert line.getMessage() == "bad request /ws/logs?token=***&x=1"


def test_lines_are_capped_per_minute():
    clock = [1000.0]
    quiet = _UvicornLogFilter(clock=lambda: clock[0])
    passed = sum(quiet.filter(record("Exceeded concurrency limit.")) for _ in range(100))
    assert passed == _LINES_PER_MINUTE
    clock[0] += 61.0
    assert quiet.filter(record("Exceeded concurrency limit."))


# --- connection limits, on a real socket ----------------------------------------------


def tiny_app() -> Starlette:
    async def hello(request):
        return PlainTextResponse("ok")

    async def echo(websocket):
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text)

    return Starlette(routes=[Route("/", hello), WebSocketRoute("/ws", echo)])


@pytest.fixture
async def served():
    sock = listening_socket(backlog=256)
    server = EmbeddedUvicorn(tiny_app())
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await async_wait_for(lambda: server.started or task.done(), timeout=5, interval=0.01)
    assert server.started
    try:
        yield server, sock.getsockname()[1]
    finally:
        server.should_exit = server.force_exit = True
        async with asyncio.timeout(5):
            await task


async def get_ok(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    async with asyncio.timeout(5):
        data = await reader.read()
    writer.close()
    return data


async def closed_by_server(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            return await reader.read() == b""
    except TimeoutError:
        return False


async def test_a_request_head_that_never_ends_is_closed(served, monkeypatch):
    monkeypatch.setattr(embedded_uvicorn, "HEAD_TIMEOUT", 0.5)
    _, port = served
    slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", port)
    slow_writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
    async with connect(f"ws://127.0.0.1:{port}/ws") as ws:  # upgraded in time: kept
        assert await closed_by_server(slow_reader, 3.0), "the half-sent head was kept"
        await asyncio.sleep(0.6)
        await ws.send("still here")
        async with asyncio.timeout(2):
            assert await ws.recv() == "still here"
    assert (await get_ok(port)).startswith(b"HTTP/1.1 200")
    slow_writer.close()


async def test_connections_over_the_cap_are_dropped_at_once(served, monkeypatch):
    monkeypatch.setattr(embedded_uvicorn, "MAX_CONNECTIONS", 8)
    server, port = served
    opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(12)]
    await async_wait_for(lambda: len(server.server_state.connections) >= 8, timeout=3)
    for reader, _ in opened[8:]:
        assert await closed_by_server(reader, 3.0), "a connection over the cap was kept"
    assert [reader.at_eof() for reader, _ in opened[:8]] == [False] * 8
    assert len(server.server_state.connections) == 8
    for _, writer in opened:
        writer.close()
    await async_wait_for(lambda: not server.server_state.connections, timeout=3)
    assert (await get_ok(port)).startswith(b"HTTP/1.1 200")
