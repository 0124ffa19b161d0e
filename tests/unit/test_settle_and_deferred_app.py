"""A save does not wait for nothing: the server's stop settles only while a connection
owes its request (``settle_accepted``), and the panel serves while its app is still
being built (``DeferredApp``: requests wait for it, or get a 503 if it failed)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from harness.waiting import async_wait_for
from proactive_chat.core.server.embedded_uvicorn import settle_accepted, stop_accepting
from proactive_chat.web.deferred_app import DeferredApp

from .test_embedded_uvicorn import get_ok, served, tiny_app  # noqa: F401 (fixture)

LIMIT = 0.5


async def timed_settle(server) -> float:
    began = time.perf_counter()
    await settle_accepted(server, LIMIT, 0.002)
    return time.perf_counter() - began


async def test_nothing_owed_no_wait(served):  # noqa: F811
    server, port = served
    assert (await get_ok(port)).startswith(b"HTTP/1.1 200")  # answered and closed
    await async_wait_for(lambda: not server.server_state.connections, timeout=3)
    stop_accepting(server)
    assert await timed_settle(server) < LIMIT / 5


async def test_a_quiet_new_connection_is_waited_for_until_it_speaks(served):  # noqa: F811
    server, port = served
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await async_wait_for(lambda: server.server_state.connections, timeout=3)
    stop_accepting(server)
    settle = asyncio.create_task(timed_settle(server))
    await asyncio.sleep(0.05)
    assert not settle.done()
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    took = await settle
    assert 0.04 < took < LIMIT
    async with asyncio.timeout(5):
        assert (await reader.read()).startswith(b"HTTP/1.1 200")
    writer.close()


async def test_the_wait_is_bounded(served):  # noqa: F811
    server, port = served
    _, writer = await asyncio.open_connection("127.0.0.1", port)  # never speaks
    await async_wait_for(lambda: server.server_state.connections, timeout=3)
    stop_accepting(server)
    assert LIMIT * 0.9 < await timed_settle(server) < LIMIT * 3
    writer.close()


async def call(app) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://panel") as client:
        return await client.get("/")


async def test_requests_wait_for_the_app_then_it_answers():
    build: asyncio.Future = asyncio.get_running_loop().create_future()
    app = DeferredApp(build)
    request = asyncio.create_task(call(app))
    await asyncio.sleep(0.05)
    assert not request.done()
    build.set_result(tiny_app())
    response = await request
    assert (response.status_code, response.text) == (200, "ok")
    assert (await call(app)).text == "ok"  # and later ones go straight to it


async def test_a_failed_build_answers_503_with_a_reason():
    build: asyncio.Future = asyncio.get_running_loop().create_future()
    build.set_exception(RuntimeError("templates missing"))
    app = DeferredApp(build)
    response = await call(app)
    assert response.status_code == 503
    assert "AstrBot" in response.text
    with pytest.raises(RuntimeError):
        await app.ready()
