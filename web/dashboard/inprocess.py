"""Calls into the panel's FastAPI app in process, as the AstrBot dashboard page needs them.

``call`` runs one HTTP request through the app (its guard, routes, error mapping) and
returns the whole answer; ``socket_frames`` opens one of the app's WebSockets
(``/ws/events``, ``/ws/logs``) and yields its text frames. No port and no HTTP hop: it
works when the own-port panel is switched off. Both mark their ASGI scope with
``IN_PROCESS_SCOPE_KEY``: the caller is AstrBot's dashboard, whose login admitted it.

Guarantees: an answer body is capped (``MAX_ANSWER_BYTES``, a 507 past it); a socket's
frames wait in a bounded queue (``FRAME_QUEUE_LIMIT``): a reader that falls behind gets
the socket closed with 1013 (try again) instead of growing memory; a stop closes the
socket with the code given, and the app's handler always ends (cancelled after
``HANDLER_EXIT_SECONDS``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message

from ..auth.tokens import IN_PROCESS_SCOPE_KEY
from ..i18n import LANG_COOKIE

MAX_ANSWER_BYTES = 8 * 1024 * 1024
FRAME_QUEUE_LIMIT = 512
HANDLER_EXIT_SECONDS = 1.0
PING_SECONDS = 15.0  # an idle socket yields None this often: the page can tell idle from dead
CLOSE_TOO_SLOW = 1013  # "try again later": the page reconnects and gets a fresh hello
CLOSE_GOING_AWAY = 1001
_HOST = b"dashboard.invalid"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _scope(kind: str, path: str, query: str, lang: str, method: str = "GET") -> dict[str, Any]:
    headers = [(b"host", _HOST), (b"cookie", f"{LANG_COOKIE}={lang}".encode())]
    scope: dict[str, Any] = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "http" if kind == "http" else "ws",
        "path": unquote(path),  # ASGI's path is decoded; raw_path keeps the bytes sent
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": (_HOST.decode(), 80),
        IN_PROCESS_SCOPE_KEY: True,
    }
    if kind == "http":
        scope["method"] = method
    else:
        scope["subprotocols"] = []
    return scope


async def call(
    app: ASGIApp,
    method: str,
    path: str,
    *,
    query: str = "",
    body: bytes = b"",
    lang: str = "en",
) -> Answer:
    """One request through the app; the answer's headers with lower-case names."""
    scope = _scope("http", path, query, lang, method.upper())
    if body:
        scope["headers"] += [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    sent = False
    answer = Answer(500, {}, b"")
    chunks: list[bytes] = []
    size = 0

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the request has no more body; wait for cancel
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal size
        if message["type"] == "http.response.start":
            answer.status = int(message["status"])
            answer.headers = {
                bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1")
                for k, v in message.get("headers", [])
            }
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))
            if size <= MAX_ANSWER_BYTES:
                chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    if size > MAX_ANSWER_BYTES:
        return Answer(507, {"content-type": "application/json"}, b'{"error": "too_large"}')
    answer.body = b"".join(chunks)
    return answer


@dataclass(eq=False)  # kept in a set: hashed by identity
class SocketStop:
    """Ends one in-process socket from outside (the plugin stops, the page leaves)."""

    code: int = CLOSE_GOING_AWAY
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self, code: int) -> None:
        if not self.event.is_set():
            self.code = code
            self.event.set()


async def socket_frames(
    app: ASGIApp, path: str, *, query: str = "", lang: str = "en", stop: SocketStop
) -> AsyncIterator[str | int | None]:
    """The socket's text frames, ``None`` after ``PING_SECONDS`` without one, then its
    close code (an ``int``) as the last item."""
    queue: asyncio.Queue[str | int] = asyncio.Queue(FRAME_QUEUE_LIMIT)
    connected = False

    async def receive() -> Message:
        nonlocal connected
        if not connected:
            connected = True
            return {"type": "websocket.connect"}
        await stop.event.wait()
        return {"type": "websocket.disconnect", "code": stop.code}

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.send" and message.get("text") is not None:
            try:
                queue.put_nowait(message["text"])
            except asyncio.QueueFull:
                stop.stop(CLOSE_TOO_SLOW)
        elif kind == "websocket.close":
            stop.stop(int(message.get("code", 1000)))

    handler = asyncio.create_task(_run(app, _scope("websocket", path, query, lang), receive, send))
    try:
        while True:
            frame = await _next_frame(queue, stop)
            if frame is _STOPPED:
                break
            yield frame
        while not queue.empty():  # what the handler said before it closed
            yield queue.get_nowait()
        yield stop.code
    finally:
        stop.stop(CLOSE_GOING_AWAY)
        await _finish(handler)


async def _run(app: ASGIApp, scope: dict[str, Any], receive: Any, send: Any) -> None:
    with contextlib.suppress(Exception):
        await app(scope, receive, send)


_STOPPED = object()


async def _next_frame(queue: asyncio.Queue[str | int], stop: SocketStop) -> Any:
    """A frame, None (idle for ``PING_SECONDS``) or ``_STOPPED``."""
    if not queue.empty():
        return queue.get_nowait()
    if stop.event.is_set():
        return _STOPPED
    getter = asyncio.ensure_future(queue.get())
    stopper = asyncio.ensure_future(stop.event.wait())
    try:
        await asyncio.wait(
            {getter, stopper}, timeout=PING_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        stopper.cancel()
        if not getter.done():
            getter.cancel()
    if getter.done() and not getter.cancelled():
        return getter.result()
    return _STOPPED if stop.event.is_set() else None


async def _finish(handler: asyncio.Task[None]) -> None:
    try:
        await asyncio.wait_for(asyncio.shield(handler), HANDLER_EXIT_SECONDS)
    except TimeoutError:
        handler.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await handler
