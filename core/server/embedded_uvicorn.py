"""uvicorn as a guest in AstrBot's process: no signal handlers, no logging config,
no chatter in the host's log, and the pieces of a shutdown that must be bounded.
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import contextlib
import logging
import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from uvicorn.config import WS_PROTOCOLS
from uvicorn.protocols.http.h11_impl import H11Protocol

_WS_IMPL = "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "auto"

_UVICORN_LOGGERS = ("uvicorn.error", "uvicorn.access", "uvicorn.asgi")
_TOKEN_IN_TEXT = re.compile(r"(?i)(token=)[^&\s\"']+")
# What any client can make uvicorn say, as often as it likes: about the client, not us.
_CLIENT_FAULTS = frozenset(
    {
        "Invalid HTTP request received.",
        "Invalid UTF-8 sequence received from client.",  # logged with a traceback
        "Unsupported upgrade request.",
    }
)
_LINES_PER_MINUTE = 10
MAX_CONNECTIONS = 1000  # open sockets, HTTP and WebSocket; also uvicorn's limit_concurrency
HEAD_TIMEOUT = 10.0  # seconds a new connection has to send its whole request head
TICK_SECONDS = 0.1  # uvicorn's housekeeping tick (date header, request limits)
DRAIN_SECONDS = 0.1  # what uvicorn gives in-flight responses at shutdown (it sleeps it all)
DRAIN_POLL_SECONDS = 0.005


class _UvicornLogFilter(logging.Filter):
    """Keeps uvicorn's per-connection chatter out of AstrBot's log and tokens out of any line.

    uvicorn logs through fixed logger names; AstrBot forwards every logger to its
    console. INFO lines (a "connection open" per WebSocket, start/stop per reload)
    and complaints about what a client sent are dropped, so a stranger cannot write
    to the host's log; what remains is capped per minute and has ``token=`` values
    masked.
    """

    marker = "proactive_chat_uvicorn_filter"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._clock = clock
        self._window_start = float("-inf")
        self._in_window = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        if isinstance(record.msg, str) and record.msg in _CLIENT_FAULTS:
            return False
        now = self._clock()
        if now - self._window_start >= 60.0:
            self._window_start, self._in_window = now, 0
        self._in_window += 1
        if self._in_window > _LINES_PER_MINUTE:
            return False
        message = record.getMessage()
        if "token=" in message.lower():
            record.msg, record.args = _TOKEN_IN_TEXT.sub(r"\1***", message), None
        return True


def install_uvicorn_log_filter() -> None:
    """Idempotent across hot reloads: replaces the filter an earlier instance added."""
    remove_uvicorn_log_filter()
    for name in _UVICORN_LOGGERS:
        logging.getLogger(name).addFilter(_UvicornLogFilter())


def remove_uvicorn_log_filter() -> None:
    for name in _UVICORN_LOGGERS:
        target = logging.getLogger(name)
        for old in [
            f for f in target.filters if getattr(f, "marker", None) == _UvicornLogFilter.marker
        ]:
            target.removeFilter(old)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with two limits that a stranger would otherwise set.

    uvicorn's ``limit_concurrency`` only answers 503 to a request: a socket that
    never finishes its request head stays open for ever (slowloris), and enough of
    them use up the host process's file descriptors, AstrBot's included. Here a
    connection over ``MAX_CONNECTIONS`` is dropped at once, and one that has not sent
    a whole request head within ``HEAD_TIMEOUT`` is closed. WebSockets are covered
    after the upgrade by uvicorn's ping (20 s, then 20 s for the pong).
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._head_timer: asyncio.TimerHandle | None = None
        if len(self.connections) > MAX_CONNECTIONS:
            transport.abort()  # type: ignore[attr-defined]
            return
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_overdue)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: Any) -> None:
        # The WebSocket protocol owns the socket from here (and never calls our
        # connection_lost): a live timer would hold the app after the panel stopped.
        self._cancel_head_timer()
        super().handle_websocket_upgrade(event)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_overdue(self) -> None:
        self._head_timer = None
        transport = self.transport
        # A request started (``cycle``) or an upgrade took the socket over: not ours.
        if self.cycle is None and transport.get_protocol() is self and not transport.is_closing():
            transport.close()


class EmbeddedUvicorn(uvicorn.Server):
    """uvicorn without its process-level habits: the host owns signals and logging."""

    def __init__(self, app: Any) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                log_config=None,  # never reconfigure the host's logging
                access_log=False,
                http=GuardedH11Protocol,
                lifespan="off",
                ws=_WS_IMPL,
                ws_max_size=64 * 1024,
                ws_ping_interval=20.0,
                ws_ping_timeout=20.0,
                proxy_headers=False,
                server_header=False,
                timeout_keep_alive=5,
                timeout_graceful_shutdown=1,
                limit_concurrency=MAX_CONNECTIONS,
                h11_max_incomplete_event_size=16 * 1024,
            )
        )
        self.startup_done = asyncio.Event()
        self._exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        install_uvicorn_log_filter()
        await super().serve(sockets=sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.startup_done.set()  # a failed startup is signalled by the serve task's end

    def request_exit(self) -> None:
        """Shut down now. uvicorn itself notices ``should_exit`` only at its next tick
        (up to 0.1 s later): every save in AstrBot's dashboard would wait for it."""
        self.should_exit = True
        self.force_exit = True
        self._exit_requested.set()

    async def main_loop(self) -> None:
        """uvicorn's tick loop, woken at once by ``request_exit()``."""
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_SECONDS):
                    await self._exit_requested.wait()
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown, except that in-flight responses get up to DRAIN_SECONDS
        and no longer (uvicorn always sleeps the whole of it), and no lifespan (off)."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_SECONDS
        # uvicorn's set of connections has no event to wait on: poll it.
        while self.server_state.connections and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(DRAIN_POLL_SECONDS)
        for server in self.servers:
            await server.wait_closed()


def stop_accepting(server: uvicorn.Server) -> None:
    """Stop taking connections from the listener, without dropping half-accepted ones.

    ``asyncio.Server.close()`` would also do it, but a connection accepted in the
    same loop iteration is still waiting for its transport, and closing the server
    under it makes asyncio drop it (the client sees a reset). Removing the reader
    only stops new accepts; ``close()`` runs later, in uvicorn's shutdown.
    """
    loop = asyncio.get_running_loop()
    for listener in getattr(server, "servers", ()):
        for sock in listener.sockets:
            if isinstance(loop, asyncio.selector_events.BaseSelectorEventLoop):
                loop.remove_reader(sock.fileno())
            else:
                listener.close()


def abort_connections(server: EmbeddedUvicorn | None) -> None:
    # A client that never reads keeps a transport open forever; abort() drops it.
    if server is None:
        return
    for connection in list(server.server_state.connections):
        transport = getattr(connection, "transport", None)
        if transport is not None:
            transport.abort()


async def cancel_leftover_tasks(server: EmbeddedUvicorn | None) -> None:
    if server is None:
        return
    leftovers = [task for task in server.server_state.tasks if not task.done()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        await asyncio.wait(leftovers, timeout=0.5)
