"""uvicorn as a guest in AstrBot's process: no signal handlers, no logging config,
no chatter in the host's log (``host_log``), the pieces of a shutdown that must be
bounded, and the limits a stranger would otherwise set.

Guarantees: at most ``MAX_CONNECTIONS`` HTTP connections (derived from the process's
descriptor limit, leaving AstrBot most of it), one more is dropped as soon as it is
accepted; every request head, the first and each later one on a kept-alive connection,
has ``HEAD_TIMEOUT`` seconds; every request body has ``BODY_TIMEOUT`` seconds in all
and must keep up ``MIN_BODY_RATE`` bytes a second (measured over ``BODY_RATE_WINDOW``),
also a body the app refused without reading it. Past a deadline the socket is closed.
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import h11
import uvicorn
from uvicorn.config import WS_PROTOCOLS
from uvicorn.protocols.http.h11_impl import H11Protocol

from .host_log import (  # noqa: F401 (re-exported: the tests and older callers use these names)
    _LINES_PER_MINUTE,
    _UvicornLogFilter,
    install_host_log_filters,
    remove_host_log_filters,
)

try:
    import resource
except ImportError:  # Windows: sockets are not counted against a descriptor limit
    resource = None  # type: ignore[assignment]

_WS_IMPL = "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "auto"

TICK_SECONDS = 0.1  # uvicorn's housekeeping tick (date header, request limits)
DRAIN_SECONDS = 0.1  # what uvicorn gives in-flight responses at shutdown (it sleeps it all)
DRAIN_POLL_SECONDS = 0.005


def connection_cap(soft_limit: int | None = None) -> int:
    """The panel's share of the process's descriptors: a quarter of the soft
    RLIMIT_NOFILE, at least 16 and at most 1,000 (1,024 -> 256: AstrBot keeps 768).
    WebSockets are capped on their own (``ConnectionRegistry``, 64)."""
    if soft_limit is None:
        if resource is None:
            return 1000
        soft_limit, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft_limit == resource.RLIM_INFINITY:
            return 1000
    return max(16, min(1000, soft_limit // 4))


MAX_CONNECTIONS = connection_cap()  # open HTTP sockets; also uvicorn's limit_concurrency
HEAD_TIMEOUT = 10.0  # seconds to send a whole request head, the first or a later one
BODY_TIMEOUT = 30.0  # seconds to send a whole request body
MIN_BODY_RATE = 1024  # bytes a second a body must keep up, over each window
BODY_RATE_WINDOW = 5.0


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with the limits a stranger would otherwise set.

    uvicorn's ``limit_concurrency`` only answers 503 to a request, and only its first
    request head has a deadline: a socket that never finishes a head or a body stays
    open for ever (slowloris), holding memory, and enough of them use up the host
    process's file descriptors, AstrBot's included. The phase a connection is in is
    read from h11's view of the client (waiting for a head, sending a body, done) after
    every event, and each phase but "done" has its deadline. WebSockets are covered
    after the upgrade by uvicorn's ping (20 s, then 20 s for the pong).
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        # Since when the client owes us a request (accepted, or its last response
        # sent); None while one is coming in or being answered (``settle_accepted``).
        self.quiet_since: float | None = self.loop.time()
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: str | None = None
        self._body_bytes = 0
        self._window_bytes = 0
        self._body_started = 0.0
        if len(self.connections) > MAX_CONNECTIONS:
            transport.abort()  # type: ignore[attr-defined]
            return
        self._follow_phase()

    def data_received(self, data: bytes) -> None:
        self.quiet_since = None
        if self._phase == "body":
            self._body_bytes += len(data)
        super().data_received(data)
        self._follow_phase()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.quiet_since = self.loop.time()  # a kept-alive client may send the next now
        self._follow_phase()

    def connection_lost(self, exc: Exception | None) -> None:
        self._enter(None)
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: Any) -> None:
        # The WebSocket protocol owns the socket from here (and never calls our
        # connection_lost): a live timer would hold the app after the panel stopped.
        self._enter(None)
        super().handle_websocket_upgrade(event)

    def _follow_phase(self) -> None:
        transport = self.transport
        phase = None
        if not transport.is_closing() and transport.get_protocol() is self:
            their = self.conn.their_state
            phase = "head" if their is h11.IDLE else "body" if their is h11.SEND_BODY else None
        if phase != self._phase:
            self._enter(phase)

    def _enter(self, phase: str | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._phase = phase
        if phase == "head":
            self._deadline = self.loop.call_later(HEAD_TIMEOUT, self._overdue)
        elif phase == "body":
            self._body_started = self.loop.time()
            self._body_bytes = self._window_bytes = 0
            self._deadline = self.loop.call_later(BODY_RATE_WINDOW, self._check_body)

    def _check_body(self) -> None:
        self._deadline = None
        elapsed = self.loop.time() - self._body_started
        sent = self._body_bytes - self._window_bytes
        if elapsed >= BODY_TIMEOUT or sent < MIN_BODY_RATE * BODY_RATE_WINDOW:
            self._overdue()
            return
        self._window_bytes = self._body_bytes
        self._deadline = self.loop.call_later(BODY_RATE_WINDOW, self._check_body)

    def _overdue(self) -> None:
        self._deadline = None
        transport = self.transport
        if transport.get_protocol() is self and not transport.is_closing():
            if transport.get_write_buffer_size():
                transport.abort()  # close() would wait for a client that does not read
            else:
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
        port = sockets[0].getsockname()[1] if sockets else self.config.port
        install_host_log_filters(port)
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


async def settle_accepted(server: uvicorn.Server, limit: float, poll: float) -> None:
    """After ``stop_accepting``: wait while a connection has owed its request for less
    than ``limit`` seconds (just accepted, or just answered and kept alive: the request
    may be on the way, and uvicorn's shutdown would close it unanswered), at most
    ``limit`` seconds in all. A few loop turns first, so a connection accepted in the
    last iteration gets its protocol; with none waiting this returns then, instead of
    sleeping the whole ``limit`` on every save."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    for _ in range(3):
        await asyncio.sleep(0)
    # A connection's first bytes have no event to wait on: poll (as ``shutdown`` does).
    while loop.time() < deadline and _owes_a_request(server, loop.time() - limit):  # noqa: ASYNC110
        await asyncio.sleep(poll)


def _owes_a_request(server: uvicorn.Server, since: float) -> bool:
    for connection in server.server_state.connections:
        quiet_since = getattr(connection, "quiet_since", None)  # None: not ours, or busy
        if quiet_since is not None and quiet_since > since:
            return True
    return False


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
