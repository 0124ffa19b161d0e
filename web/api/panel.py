"""REST endpoints: health, login and logout, a snapshot of the live-log buffer."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ...core.constants import LOG_PREFIX
from ...core.logs.ring import LogFilter
from ..auth.tokens import COOKIE_NAME
from ..errors import PanelError
from .engine import error_responses

logger = logging.getLogger("astrbot")


# --- response and body shapes (they are the OpenAPI schema) ---------------------------

# The body is read by hand (``_read_password``) so a rate-limited client is refused
# before its body is looked at; this documents it.
LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"password": {"type": "string", "minLength": 1}},
                "required": ["password"],
            }
        }
    },
}


class LoginOut(BaseModel):
    token: str
    expires_in: int


class MeOut(BaseModel):
    authenticated: bool
    expires_at: float | None
    via: str


class LogsOut(BaseModel):
    first_seq: int
    next_seq: int
    missed: int
    lines: list[dict[str, Any]]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_api_router() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok"}

    @router.post(
        "/api/login",
        response_model=LoginOut,
        responses=error_responses(400, 429),
        openapi_extra={"requestBody": LOGIN_BODY},
    )
    async def login(request: Request) -> JSONResponse:
        deps = request.app.state.deps
        client = client_address(request)
        wait = deps.rate_limiter.retry_after(client)
        if wait > 0:
            raise _rate_limited(wait)
        password = await _read_password(request)
        if not await deps.auth.check_password(password):
            deps.rate_limiter.record_failure(client)
            logger.warning("%s Panel login failed from %s (wrong password).", LOG_PREFIX, client)
            wait = deps.rate_limiter.retry_after(client)
            if wait > 0:
                raise _rate_limited(wait)
            raise PanelError(401, "bad_password", "Wrong password. / 密码错误。")
        deps.rate_limiter.record_success(client)
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

    @router.post("/api/logout", status_code=204, responses=error_responses())
    async def logout() -> Response:
        response = Response(status_code=204)
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return response

    @router.get("/api/me", response_model=MeOut, responses=error_responses())
    async def me(request: Request) -> dict:
        deps = request.app.state.deps
        token, source = deps.auth.token_from(request)
        return {"authenticated": True, "expires_at": deps.auth.token_expiry(token), "via": source}

    @router.get("/api/logs", response_model=LogsOut, responses=error_responses(400))
    async def logs_snapshot(
        request: Request,
        since: int | None = None,
        level: str | None = None,
        scope: str | None = None,
        q: str | None = None,
        limit: int = 1000,
    ) -> dict:
        ring = request.app.state.deps.log_stream.ring
        line_filter = LogFilter.from_params(level, scope, q)
        limit = max(1, min(limit, 10_000))
        cursor = since + 1 if since is not None else max(ring.first_seq, ring.next_seq - limit)
        result = ring.read(cursor, limit)
        return {
            "first_seq": ring.first_seq,
            "next_seq": ring.next_seq,
            "missed": result.missed,
            "lines": [json.loads(line.json) for line in result.lines if line_filter.matches(line)],
        }

    return router


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
