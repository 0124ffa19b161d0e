"""The panel's front door, as one pure ASGI middleware.

In order: the Host header must name this panel (DNS rebinding); browsers' Origin
must too for WebSockets and for unsafe requests made with the cookie (CSRF);
``/api/*`` (except login) and ``/ws/*`` need a valid login, checked before any
body is read; request bodies are capped (the login's, read before a login, at
``LOGIN_MAX_BODY_BYTES``); a client that leaves mid-body ends its request quietly;
every HTTP response gets strict security headers. The dashboard page's in-process calls
(scope key ``IN_PROCESS_SCOPE_KEY``, which no network client can set) pass straight through:
AstrBot's login admitted them.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..ws.connections import CLOSE_POLICY
from .host_guard import HostPolicy
from .tokens import IN_PROCESS_SCOPE_KEY, PanelAuth

PUBLIC_API = frozenset({"/api/login"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY_BYTES = 256 * 1024
# The login's body is read before any login, so it is kept small: a password of
# 1,024 characters is at most 6 KiB of JSON even with every character escaped.
LOGIN_MAX_BODY_BYTES = 8 * 1024

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class PanelGuard:
    def __init__(self, app: ASGIApp, auth: PanelAuth, policy: HostPolicy) -> None:
        self.app = app
        self.auth = auth
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if scope.get(IN_PROCESS_SCOPE_KEY) is True:
            # The dashboard page's in-process call: AstrBot's login admitted it, and no
            # Host, Origin or cookie of ours is involved (see tokens.IN_PROCESS_SCOPE_KEY).
            await self.app(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "http":
            await self._http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        if not self.policy.host_allowed(headers.get("host")) or not self.policy.origin_allowed(
            headers.get("origin")
        ):
            # Refuse the handshake: uvicorn answers 403.
            await send({"type": "websocket.close", "code": CLOSE_POLICY})
            return
        if scope["path"].startswith("/ws/") and not self.auth.is_authenticated(
            HTTPConnection(scope)
        ):
            # Accept, then close with 1008 so a page can tell "log in" from "network down".
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                await send(
                    {"type": "websocket.close", "code": CLOSE_POLICY, "reason": "login required"}
                )
            return
        await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        send = _with_security_headers(send, api=scope["path"].startswith("/api/"))
        if not self.policy.host_allowed(headers.get("host")):
            await _json(
                send,
                400,
                "host_not_allowed",
                "Host not allowed; add it to web_admin.allowed_hosts.",
            )
            return
        # Who is asking comes before any body is read: a stranger's body is never held.
        if not await self._admitted(scope, headers, send):
            return
        path = scope["path"]
        cap = LOGIN_MAX_BODY_BYTES if path in PUBLIC_API else MAX_BODY_BYTES
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > cap):
            await _json(send, 413, "too_large", "Request body too large.")
            return
        if length is None and "transfer-encoding" in headers and path.startswith("/api/"):
            # Chunked: read it here (up to the cap) so an oversized body gets a 413.
            body = await _read_capped(receive, cap)
            if body is None:
                await _json(send, 413, "too_large", "Request body too large.")
                return
            if body is _GONE:
                return
            receive = _replay(body, receive)
        try:
            await self.app(scope, _capped(receive, cap), send)
        except ClientDisconnect:
            pass  # the client left mid-body: nobody to answer, nothing to log

    async def _admitted(self, scope: Scope, headers: Headers, send: Send) -> bool:
        """Login and Origin checks; answers the refusal itself."""
        path, method = scope["path"], scope["method"]
        if path.startswith("/api/") and path not in PUBLIC_API:
            token, source = self.auth.token_from(HTTPConnection(scope))
            if not self.auth.token_valid(token):
                await _json(
                    send, 401, "unauthorized", "Login required.", [(b"www-authenticate", b"Bearer")]
                )
                return False
            if source == "cookie" and method in UNSAFE_METHODS and not self._same_origin(headers):
                await _json(send, 403, "bad_origin", "Cross-site request refused.")
                return False
        elif method in UNSAFE_METHODS and not self._same_origin(headers):
            await _json(send, 403, "bad_origin", "Cross-site request refused.")
            return False
        return True

    def _same_origin(self, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is None:
            referer = headers.get("referer")
            if referer is None:
                return True  # not sent by a browser
            origin = referer
        return self.policy.origin_allowed(origin)


def _with_security_headers(send: Send, api: bool) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            if api and b"cache-control" not in present:
                headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _capped(receive: Receive, cap: int) -> Receive:
    """Chunked bodies have no Content-Length: stop reading past the cap."""
    received = 0

    async def wrapped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                return {"type": "http.disconnect"}
        return message

    return wrapped


_GONE = b"<gone>"  # a distinct object: the client left before the body ended


async def _read_capped(receive: Receive, cap: int) -> bytes | None:
    """The whole body, None if it goes over ``cap``, ``_GONE`` if the client left."""
    chunks: list[bytes] = []
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return _GONE
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > cap:
            return None
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _json(send: Send, status: int, code: str, message: str, extra_headers=()) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra_headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def wrapped() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped
