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
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.config import WS_PROTOCOLS

_WS_IMPL = "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "auto"

_UVICORN_LOGGERS = ("uvicorn.error", "uvicorn.access", "uvicorn.asgi")
_TOKEN_IN_TEXT = re.compile(r"(?i)(token=)[^&\s\"']+")


class _UvicornLogFilter(logging.Filter):
    """Keeps uvicorn's per-connection chatter out of AstrBot's log and tokens out of any line.

    uvicorn logs through fixed logger names; AstrBot forwards every logger to its
    console. INFO lines (a "connection open" per WebSocket, start/stop per reload)
    are dropped; what remains has ``token=`` values masked.
    """

    marker = "proactive_chat_uvicorn_filter"

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
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


class EmbeddedUvicorn(uvicorn.Server):
    """uvicorn without its process-level habits: the host owns signals and logging."""

    def __init__(self, app: Any) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                log_config=None,  # never reconfigure the host's logging
                access_log=False,
                lifespan="off",
                ws=_WS_IMPL,
                ws_max_size=64 * 1024,
                ws_ping_interval=20.0,
                ws_ping_timeout=20.0,
                proxy_headers=False,
                server_header=False,
                timeout_keep_alive=5,
                timeout_graceful_shutdown=1,
                limit_concurrency=1000,
                h11_max_incomplete_event_size=16 * 1024,
            )
        )
        self.startup_done = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        install_uvicorn_log_filter()
        await super().serve(sockets=sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.startup_done.set()  # a failed startup is signalled by the serve task's end


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
