"""The panel's open WebSockets, so ``stop()`` can close them all with a proper code."""

from __future__ import annotations

import asyncio

from starlette.websockets import WebSocket

CLOSE_RELOADING = 1012  # "service restart": the page reconnects by itself
CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013


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
