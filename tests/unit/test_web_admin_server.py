"""``WebAdminServer`` on real sockets: containment of uvicorn's ``sys.exit``, busy
ports, hand-over, serialized and repeatable start/stop, bounded stop."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from harness.ports import port_refuses
from proactive_chat.core.server.listener_handover import ListenerHandover
from proactive_chat.core.server.web_admin_server import ServerState, WebAdminServer


def tiny_app() -> Starlette:
    async def hello(request):
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/", hello)])


def make_server(port: int, stash: dict, app_factory=tiny_app, **kwargs) -> WebAdminServer:
    return WebAdminServer(
        host="127.0.0.1",
        port=port,
        app_factory=app_factory,
        handover=ListenerHandover(stash, linger=0.5),
        stash=stash,
        **kwargs,
    )


@pytest.fixture
def port(free_port) -> int:
    return free_port()


async def get(port: int) -> str:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(f"http://127.0.0.1:{port}/")).text


async def test_start_serves_and_stop_parks_then_frees_the_port(port):
    stash: dict = {}
    server = make_server(port, stash)
    assert await server.start() is True
    assert server.state == ServerState.RUNNING
    assert await get(port) == "ok"
    await server.stop()
    assert server.state == ServerState.STOPPED
    # Parked for a successor: still bound, connections wait in the backlog.
    assert not port_refuses(port)
    await asyncio.sleep(0.8)
    assert port_refuses(port), "an unclaimed listener must be closed after the linger"


async def test_successor_takes_over_the_same_socket(port):
    stash: dict = {}
    first = make_server(port, stash)
    await first.start()
    listener_fd = first._listener.fileno()
    await first.stop()
    second = make_server(port, stash)
    assert await second.start() is True
    assert second._listener.fileno() == listener_fd
    assert await get(port) == "ok"
    await second.stop()


async def test_uvicorn_sys_exit_is_contained(port, caplog):
    # uvicorn calls sys.exit(1) when it cannot import the app it is given.
    stash: dict = {}
    server = make_server(port, stash, app_factory=lambda: "no_such_module_xyz:app")
    with caplog.at_level(logging.ERROR, logger="astrbot"):
        started = await server.start()
        await asyncio.sleep(0.2)
    assert started is False
    assert server.state != ServerState.RUNNING
    assert "stopped unexpectedly" in (server.last_error or "")
    began = time.monotonic()
    await server.stop()
    assert time.monotonic() - began < 3.0


async def test_busy_port_waits_logs_once_and_comes_up_when_free(port):
    stranger = socket.socket()
    stranger.bind(("127.0.0.1", port))
    stranger.listen()
    stash: dict = {}
    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logging.getLogger("astrbot").addHandler(handler)
    server = make_server(port, stash, retry_max_delay=0.4)
    try:
        assert await server.start() is False
        assert server.state == ServerState.WAITING_FOR_PORT
        await asyncio.sleep(1.5)  # several retries
        busy = [m for m in messages if f"port {port}" in m]
        assert len(busy) == 1, busy
        assert "web_admin.port" in busy[0]
        stranger.close()
        for _ in range(40):
            if server.state == ServerState.RUNNING:
                break
            await asyncio.sleep(0.05)
        assert server.state == ServerState.RUNNING
        assert await get(port) == "ok"
    finally:
        logging.getLogger("astrbot").removeHandler(handler)
        stranger.close()
        await server.stop()


async def test_stop_while_waiting_for_port_is_quick(port):
    stranger = socket.socket()
    stranger.bind(("127.0.0.1", port))
    stranger.listen()
    server = make_server(port, {}, retry_max_delay=10.0)
    try:
        await server.start()
        await asyncio.sleep(1.2)  # now in a long back-off pause
        began = time.monotonic()
        await server.stop()
        assert time.monotonic() - began < 0.5
    finally:
        stranger.close()


async def test_start_and_stop_are_idempotent_and_serialized(port):
    server = make_server(port, {})
    results = await asyncio.gather(server.start(), server.start())
    assert results == [True, True]
    await asyncio.gather(server.stop(), server.stop())
    assert server.state == ServerState.STOPPED
    await server.stop()  # a third stop is harmless
    assert await server.start() is True
    await server.stop()


async def test_stop_is_bounded_with_a_client_that_never_reads(port):
    async def flood(request):
        return PlainTextResponse("x" * 50_000_000)

    server = make_server(port, {}, app_factory=lambda: Starlette(routes=[Route("/", flood)]))
    await server.start()
    stuck = socket.create_connection(("127.0.0.1", port))
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await asyncio.sleep(0.3)
    began = time.monotonic()
    await server.stop()
    took = time.monotonic() - began
    stuck.close()
    assert took < 3.0, took
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leftovers == [], leftovers


async def test_earlier_owner_that_never_stopped_is_retired(port):
    stash: dict = {}
    stale = make_server(port, stash)
    await stale.start()
    fresh = make_server(port, stash)  # the stale one was never stopped
    assert await fresh.start() is True
    assert stale.state == ServerState.STOPPED
    assert await get(port) == "ok"
    await fresh.stop()


async def test_cancelling_start_keeps_its_meaning(port):
    class SlowPreviousOwner:
        async def stop(self) -> None:
            await asyncio.sleep(30)

    stash: dict = {"active_server": SlowPreviousOwner()}
    server = make_server(port, stash)
    task = asyncio.create_task(server.start())
    await asyncio.sleep(0.1)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await server.stop()


async def test_host_signal_handlers_and_logging_are_left_alone(port):
    import signal

    def sentinel(signum, frame):  # stands in for the host's own handler
        pass

    previous = signal.signal(signal.SIGTERM, sentinel)
    sigint_before = signal.getsignal(signal.SIGINT)
    root_handlers = list(logging.getLogger().handlers)
    uvicorn_handlers = {
        name: list(logging.getLogger(name).handlers) for name in ("uvicorn", "uvicorn.error")
    }
    try:
        server = make_server(port, {})
        assert await server.start() is True
        assert signal.getsignal(signal.SIGTERM) is sentinel
        assert signal.getsignal(signal.SIGINT) is sigint_before
        await server.stop()
        assert signal.getsignal(signal.SIGTERM) is sentinel
        assert logging.getLogger().handlers == root_handlers
        for name, handlers in uvicorn_handlers.items():
            assert logging.getLogger(name).handlers == handlers, name
        # Our quiet filter goes with the server.
        assert not [f for f in logging.getLogger("uvicorn.error").filters if hasattr(f, "marker")]
    finally:
        signal.signal(signal.SIGTERM, previous)
