"""The panel's open WebSockets, so ``stop()`` can close them all with a proper code."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

CLOSE_RELOADING = 1012  # "service restart": the page reconnects by itself
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013
CLOSE_BAD_REQUEST = 4400  # a malformed parameter: the close reason says which
FLOOD_BURST = 30  # client frames allowed at once ...
FLOOD_RATE = 2.0  # ... and per second after that


class ConnectionRegistry:
    def __init__(self, max_clients: int = 64) -> None:
        self.max_clients = max_clients
        self._clients: dict[WebSocket, asyncio.Task] = {}
        self._close_codes: dict[WebSocket, int] = {}

    def __len__(self) -> int:
        return len(self._clients)

    def add(self, websocket: WebSocket) -> bool:
        """Track the calling handler task; False when the panel is full."""
        if len(self._clients) >= self.max_clients:
            return False
        task = asyncio.current_task()
        assert task is not None
        self._clients[websocket] = task
        return True

    def remove(self, websocket: WebSocket) -> None:
        self._clients.pop(websocket, None)

    def close_code_for(self, websocket: WebSocket) -> int | None:
        """Set when the registry asked this handler to close (its task was cancelled for it)."""
        return self._close_codes.get(websocket)

    def forget_close(self, websocket: WebSocket) -> None:
        self._close_codes.pop(websocket, None)

    async def close_all(self, code: int = CLOSE_RELOADING, wait_seconds: float = 0.8) -> None:
        """Ask every handler to close with ``code`` and wait for them, within ``wait_seconds``."""
        tasks = []
        for websocket, task in list(self._clients.items()):
            self._close_codes[websocket] = code
            task.cancel()
            tasks.append(task)
        if tasks:
            await asyncio.wait(tasks, timeout=wait_seconds)


async def read_until_flood(websocket: WebSocket) -> int | None:
    """Read and ignore what the client sends; None when it leaves, 1008 when it floods.

    The panel's sockets only talk server -> client, so a page never sends more than
    a frame now and then; a client that does only costs the loop time.
    """
    tokens, last = float(FLOOD_BURST), time.monotonic()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        now = time.monotonic()
        tokens = min(float(FLOOD_BURST), tokens + (now - last) * FLOOD_RATE)
        last = now
        if tokens < 1.0:
            return CLOSE_POLICY
        tokens -= 1.0


def flood_close(reader: asyncio.Task) -> tuple[int, str] | None:
    """The close for a conversation whose reader caught a flood, else None."""
    if reader.done() and not reader.cancelled() and reader.result() == CLOSE_POLICY:
        return CLOSE_POLICY, "too many messages"
    return None


# What a socket's conversation returns: the close code and reason, or None for 1000.
Talk = Callable[[WebSocket, asyncio.Task], Awaitable[tuple[int, str] | None]]


async def serve_socket(
    websocket: WebSocket,
    registry: ConnectionRegistry,
    read_client: Callable[[WebSocket], Coroutine[Any, Any, Any]],
    talk: Talk,
) -> None:
    """The life of one panel WebSocket, shared by every endpoint: admission (1013 when
    full), accept, a task reading the client, the registry's close code when the plugin
    stops, 1011 on a broken connection, and a bounded clean-up in every case."""
    if not registry.add(websocket):
        await websocket.close(code=CLOSE_TRY_AGAIN, reason="too many panel clients")
        return
    reader: asyncio.Task | None = None
    close_code, reason = 1000, ""
    try:
        await websocket.accept()
        reader = asyncio.create_task(read_client(websocket))
        close_code, reason = await talk(websocket, reader) or (1000, "")
    except asyncio.CancelledError:
        requested = registry.close_code_for(websocket)
        if requested is None:
            raise
        # The registry cancelled us to close the socket (plugin stopping).
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        close_code = requested
    except (WebSocketDisconnect, ConnectionError, TimeoutError, RuntimeError):
        close_code = 1011
    finally:
        registry.remove(websocket)
        registry.forget_close(websocket)
        if reader is not None:
            reader.cancel()
            await asyncio.wait({reader}, timeout=0.2)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(0.3):
                await websocket.close(code=close_code, reason=reason)
