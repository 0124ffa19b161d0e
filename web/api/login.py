"""Logging in to the panel: ``POST /api/login``, ``POST /api/logout``, ``GET /api/me``.
Their paths and OpenAPI entries are in the route table, web/api/panel.py.

Guarantees: an attempt is counted before its body is read or checked, and a limited
client is refused before either (``LoginRateLimiter.reserve``); wrong passwords reach
the log only as a summary per minute with counts and addresses, never the password
(``LoginFailureReport``); the token goes out once, in the answer and as an
``HttpOnly``, ``SameSite=Strict`` cookie.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from ...core.constants import LOG_PREFIX
from ...core.plugin_log import logger
from ..auth.rate_limit import client_key
from ..auth.tokens import COOKIE_NAME
from ..errors import PanelError
from .access import app_deps


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login(request: Request) -> JSONResponse:
    deps = app_deps(request)
    limiter = deps.rate_limiter
    client = client_key(client_address(request))
    wait = limiter.reserve(client)  # counted as failed until it proves otherwise
    if wait > 0:
        deps.login_report.refused(client, ceiling=limiter.ceiling_wait() > 0)
        raise _rate_limited(wait)
    try:
        password = await _read_password(request)
        accepted = await deps.auth.check_password(password)
    except PanelError:
        deps.login_report.failed(client)
        raise
    if not accepted:
        deps.login_report.failed(client)
        wait = limiter.retry_after(client)
        if wait > 0:
            raise _rate_limited(wait)
        raise PanelError(401, "bad_password", "Wrong password. / 密码错误。")
    limiter.record_success(client)
    token = deps.auth.issue_token()
    response = JSONResponse({"token": token, "expires_in": int(deps.auth.token_lifetime)})
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(deps.auth.token_lifetime),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    logger.info("%s Panel login from %s.", LOG_PREFIX, client)
    return response


async def logout(request: Request) -> Response:
    """Ends the token on the server too (it stays dead if copied elsewhere)."""
    deps = app_deps(request)
    token, _ = deps.auth.token_from(request)
    await deps.auth.revoke(token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


async def me(request: Request) -> dict[str, Any]:
    deps = app_deps(request)
    token, source = deps.auth.token_from(request)
    return {"authenticated": True, "expires_at": deps.auth.token_expiry(token), "via": source}


def _rate_limited(wait: float) -> PanelError:
    seconds = max(1, math.ceil(wait))
    return PanelError(
        429,
        "rate_limited",
        f"Too many wrong passwords; try again in {seconds} s. / 密码错误次数过多，请 {seconds} 秒后再试。",
        headers={"Retry-After": str(seconds)},
        retry_after=seconds,
    )


async def _read_password(request: Request) -> str:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise PanelError(400, "bad_request", 'Send JSON: {"password": "..."}') from None
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(password, str) or not password:
        raise PanelError(400, "bad_request", 'Send JSON: {"password": "..."}')
    return password
