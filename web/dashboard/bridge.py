"""``DashboardBridge``: what the AstrBot dashboard page's backend routes do, for one instance.

The page (``views/panel/``) reaches the panel's app through two routes (registered by
``web/dashboard/routes.py``):

- ``call`` (POST ``{"method", "path", "body", "lang"}``): one request to the panel app,
  answered as ``{"status": "ok", "data": {"code", "type": "json"|"text", "body",
  "location"}}``: the panel's own status and body, so the page scripts see exactly what
  the own-port panel answers (the dashboard's bridge would otherwise keep only a message).
- ``stream`` (GET ``?path=/ws/events|/ws/logs&query=&lang=``): one of the panel's
  WebSockets as Server-Sent Events: each text frame a ``message`` event, then one
  ``close`` event (``{"code": n}``) as the last, which the bridge cannot report itself.

Guarantees: at most ``MAX_STREAMS`` streams at once (a 429 past it); each stream's
frames are bounded (``inprocess.FRAME_QUEUE_LIMIT``); ``close()`` ends every open stream
with 1012 (reloading) so open pages reconnect to the next instance.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp

from . import inprocess
from .routes import reloading

MAX_STREAMS = 32
MAX_PATH_CHARS = 2048
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
STREAM_PATHS = frozenset({"/ws/events", "/ws/logs"})
CLOSE_RELOADING = 1012  # web/ws/connections.py: reconnect, the plugin reloads
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def bad_request(code: str, message: str, status: int = 400) -> JSONResponse:
    # "message": what the dashboard's bridge shows when a request fails.
    return JSONResponse({"status": "error", "error": code, "message": message}, status)


def page_lang(value: Any) -> str:
    """``zh`` for AstrBot's ``zh-CN`` (and any Chinese), else ``en``."""
    return "zh" if isinstance(value, str) and value.lower().startswith("zh") else "en"


def split_path(value: Any) -> tuple[str, str] | None:
    """``("/api/x", "a=1")`` for a local path, None for anything else."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return None
    if len(value) > MAX_PATH_CHARS or "\\" in value or any(ord(c) < 0x20 for c in value):
        return None
    path, _, query = value.partition("?")
    return path, query


class DashboardBridge:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._stops: set[inprocess.SocketStop] = set()
        self.closed = False

    async def call(self, payload: Any) -> Response:
        if not isinstance(payload, dict):
            return bad_request("invalid_request", "JSON object expected.")
        method = str(payload.get("method", "GET")).upper()
        target = split_path(payload.get("path"))
        if method not in METHODS or target is None:
            return bad_request("invalid_request", "method or path not allowed.")
        body = payload.get("body")
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        answer = await inprocess.call(
            self.app,
            method,
            target[0],
            query=target[1],
            body=raw,
            lang=page_lang(payload.get("lang")),
        )
        return JSONResponse({"status": "ok", "data": _envelope(answer)})

    def stream(self, params: Any) -> Response:
        path = params.get("path") if params is not None else None
        query = params.get("query") or "" if params is not None else ""
        if path not in STREAM_PATHS or not isinstance(query, str) or len(query) > MAX_PATH_CHARS:
            return bad_request("invalid_request", "unknown stream.")
        if self.closed:
            return reloading()
        if len(self._stops) >= MAX_STREAMS:
            return bad_request("too_many_streams", "Too many live views open.", 429)
        events = self._events(path, query, page_lang(params.get("lang")))
        return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)

    async def _events(self, path: str, query: str, lang: str) -> AsyncIterator[str]:
        # Counted from here, not from stream(): a response never sent never starts this
        # generator, and its finally would never run to uncount it.
        stop = inprocess.SocketStop()
        if self.closed:
            stop.stop(CLOSE_RELOADING)
        self._stops.add(stop)
        try:
            frames = inprocess.socket_frames(self.app, path, query=query, lang=lang, stop=stop)
            async for frame in frames:
                if frame is None:
                    yield "event: ping\ndata: {}\n\n"
                elif isinstance(frame, int):
                    yield f"event: close\ndata: {json.dumps({'code': frame})}\n\n"
                else:
                    yield "".join(f"data: {line}\n" for line in frame.split("\n")) + "\n"
        finally:
            self._stops.discard(stop)

    @property
    def open_streams(self) -> int:
        return len(self._stops)

    def close(self) -> None:
        """Every open stream ends with 1012; new ones are refused."""
        self.closed = True
        for stop in list(self._stops):
            stop.stop(CLOSE_RELOADING)


def _envelope(answer: inprocess.Answer) -> dict[str, Any]:
    content_type = answer.headers.get("content-type", "")
    text = answer.body.decode("utf-8", "replace")
    envelope: dict[str, Any] = {"code": answer.status, "type": "text", "body": text}
    if content_type.startswith("application/json"):
        try:
            envelope.update(type="json", body=json.loads(text) if text else None)
        except ValueError:
            pass
    if "location" in answer.headers:
        envelope["location"] = answer.headers["location"]
    return envelope
