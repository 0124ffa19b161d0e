"""``/ws/events``: the engine's live events (journal entries, session changes).

Protocol (server -> client, JSON text frames): ``{"type": "hello", "status": {...}}``
once (the same body as ``GET /api/status``), then each event of the engine's
``EventHub`` as it comes: ``journal`` (``entry``), ``session`` (``session``: a session
view), ``sessions_changed`` (``count``: too many changes at once, reload the list),
``gap`` (``dropped``: this client fell behind and lost events), ``config`` (the config
was saved from the panel: refetch it).

Close codes: 1012 when the plugin reloads or the engine stops (``closed`` is sent
first): reconnect. 1008 for a client that floods frames (it has nothing to say).
Oversized frames never reach this handler: the panel's uvicorn refuses frames above
``ws_max_size`` (64 KiB, core/server/embedded_uvicorn.py) with 1009.

Without an engine (not loaded, or it failed to start) the hello says
``running: false`` with the problem, and the socket then stays open and idle: the
page shows why, and the reload that fixes it closes the socket with 1012, which
makes the page reconnect to the new engine. Closing with 1011 instead would only
make the page retry in a loop against the same missing engine.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, WebSocket

from ..api.access import app_deps, current_engine
from ..api.status import status_body
from .connections import CLOSE_RELOADING, Talk, flood_close, read_until_flood, serve_socket

if TYPE_CHECKING:
    from ...core.engine.event_hub import Subscription
    from ..app import AppDeps

SEND_TIMEOUT = 10.0


def build_events_router() -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws/events")
    async def events_socket(websocket: WebSocket) -> None:
        deps = app_deps(websocket)
        await serve_socket(websocket, deps.connections, read_until_flood, _talk_for(deps))

    return router


def _talk_for(deps: AppDeps) -> Talk:
    async def talk(websocket: WebSocket, reader: asyncio.Task) -> tuple[int, str] | None:
        engine = current_engine(deps)
        subscription = None
        if engine is not None and not engine.events.closed:
            # Subscribe before the status is taken: nothing falls between the two.
            subscription = engine.events.subscribe()
        try:
            await _send(websocket, {"type": "hello", "status": await status_body(deps, engine)})
            if subscription is None:
                await reader
            else:
                await _forward(websocket, subscription, reader)
        finally:
            if subscription is not None:
                subscription.close()
        if flooded := flood_close(reader):
            return flooded
        if not reader.done():
            return CLOSE_RELOADING, "the engine stopped"
        return None

    return talk


async def _forward(websocket: WebSocket, subscription: Subscription, reader: asyncio.Task) -> None:
    """Send each event until the client leaves or floods, or the engine says ``closed``."""
    while True:
        getter = asyncio.ensure_future(subscription.get())
        try:
            await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not getter.done():
                getter.cancel()
        if reader.done():
            return
        event = getter.result()
        await _send(websocket, event)
        if event.get("type") == "closed":
            return


async def _send(websocket: WebSocket, event: dict[str, Any]) -> None:
    # A client that stopped reading must not hold this handler forever.
    text = json.dumps(event, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (half an emoji): send it escaped
        text = json.dumps(event, default=str)
    async with asyncio.timeout(SEND_TIMEOUT):
        await websocket.send_text(text)
