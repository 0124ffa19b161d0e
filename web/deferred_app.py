"""``DeferredApp``: an ASGI app that serves as soon as the real one is built.

Building the panel's FastAPI app (importing the routers, analysing every endpoint)
takes a few hundred milliseconds, and AstrBot's dashboard save waits for the plugin's
``initialize()``. The listener is still bound and served at once (a connection is
never refused over a reload); only the app is built in a worker thread meanwhile, and
a request that arrives before it is ready waits for it, then is answered by it.

Guarantees: every request is answered by the built app, in the order uvicorn hands
them over; if the build failed, each request gets a 503 with a reason (the failure is
logged once by whoever awaits ``ready()``); ``ready()`` returns only when the build's
thread is done, so the owner can wait for it before stopping (nothing left running).
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]

UNAVAILABLE_BODY = (
    "The admin panel could not start; see AstrBot's log. / 管理面板启动失败，请查看 AstrBot 日志。"
).encode()


class DeferredApp:
    """Forwards every ASGI call to the app ``build`` resolves to, once it has."""

    def __init__(self, build: asyncio.Future[Any]) -> None:
        self._build = build
        self._app: Any = None

    async def ready(self) -> Any:
        """The built app (raises what the build raised)."""
        if self._app is None:
            self._app = await asyncio.shield(self._build)
        return self._app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        app = self._app
        if app is None:
            try:
                app = await self.ready()
            except asyncio.CancelledError:
                raise
            except Exception:
                await _unavailable(scope, send)
                return
        await app(scope, receive, send)


async def _unavailable(scope: Scope, send: Any) -> None:
    if scope.get("type") == "http":
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": UNAVAILABLE_BODY})
    elif scope.get("type") == "websocket":
        await send({"type": "websocket.close", "code": 1011})
