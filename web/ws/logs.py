"""``/ws/logs``: the live-log stream, one cursor per client.

Protocol (server -> client, JSON text frames):
``{"type": "hello", "first_seq", "next_seq", "resumed", "stream"}`` once, then
``{"type": "lines", "lines": [...]}`` batches and ``{"type": "gap", "missed": n}``
when this client lost lines. ``?since=<seq>`` resumes after the last line the
client received. Close 1012 means the plugin is reloading: reconnect. Close 1008
"too many messages" ends a client that floods frames (it has nothing to say). A
malformed ``since`` gets ``{"type": "error", "error": "bad_request", "message"}``
instead of the hello, then close 4400 with the reason.
"""

from __future__ import annotations

import asyncio
import json
import re

from fastapi import APIRouter, WebSocket

from ...core.logs.ring import LogFilter
from ..api.access import app_deps
from .connections import CLOSE_BAD_REQUEST, flood_close, read_until_flood, serve_socket

_SINCE = re.compile(r"-?[0-9]{1,18}")
_BAD_SINCE = {
    "type": "error",
    "error": "bad_request",
    "message": "since must be a whole number: the seq of the last line received",
}
REPLAY_LINES = 1000
READ_BATCH = 1000
SEND_TIMEOUT = 10.0


def build_ws_router() -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws/logs")
    async def logs_socket(websocket: WebSocket) -> None:
        deps = app_deps(websocket)

        async def talk(websocket: WebSocket, reader: asyncio.Task) -> tuple[int, str] | None:
            try:
                since = _parse_since(websocket.query_params.get("since"))
            except ValueError:
                await _send(websocket, json.dumps(_BAD_SINCE))
                return CLOSE_BAD_REQUEST, "bad since: not a whole number"
            params = websocket.query_params
            problem = LogFilter.problem(params.get("level"), params.get("scope"))
            if problem is not None:
                bad = {"type": "error", "error": "bad_request", "message": problem}
                await _send(websocket, json.dumps(bad))
                return CLOSE_BAD_REQUEST, f"bad filter: {problem}"[:120]
            await _stream(websocket, deps.log_stream.ring, reader, since)
            return flood_close(reader)

        await serve_socket(websocket, deps.connections, read_until_flood, talk)

    return router


async def _stream(websocket: WebSocket, ring, reader: asyncio.Task, since: int | None) -> None:
    params = websocket.query_params
    line_filter = LogFilter.from_params(params.get("level"), params.get("scope"), params.get("q"))
    if since is not None and ring.first_seq - 1 <= since < ring.next_seq:
        cursor, resumed = since + 1, True
    else:
        cursor, resumed = max(ring.first_seq, ring.next_seq - REPLAY_LINES), False
    await _send(
        websocket,
        json.dumps(
            {
                "type": "hello",
                "first_seq": ring.first_seq,
                "next_seq": ring.next_seq,
                "resumed": resumed,
                "stream": ring.stream_id,
            }
        ),
    )
    if since is not None and not resumed and since < ring.first_seq - 1:
        await _send(websocket, json.dumps({"type": "gap", "missed": ring.first_seq - 1 - since}))

    while True:
        result = ring.read(cursor, READ_BATCH)
        cursor = result.cursor
        if result.missed:
            await _send(websocket, json.dumps({"type": "gap", "missed": result.missed}))
        chunks = [line.json for line in result.lines if line_filter.matches(line)]
        if chunks:
            await _send(websocket, '{"type":"lines","lines":[' + ",".join(chunks) + "]}")
        if cursor < ring.next_seq:
            continue
        waiter = asyncio.ensure_future(ring.wait_beyond(cursor))
        try:
            await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if reader.done():
            return


async def _send(websocket: WebSocket, text: str) -> None:
    # A client that stopped reading must not hold this handler forever.
    async with asyncio.timeout(SEND_TIMEOUT):
        await websocket.send_text(text)


def _parse_since(value: str | None) -> int | None:
    """None when absent or empty; raises ValueError unless ASCII digits (a seq)."""
    if value is None or not value.strip():
        return None
    if not _SINCE.fullmatch(value.strip()):
        raise ValueError(value)
    return int(value)
