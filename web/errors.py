"""Errors of the panel, rendered as ``{"error", "message"}``: the one place where the
engine's and the store's domain errors become HTTP status codes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.engine.errors import (
    EngineError,
    EngineStopped,
    InvalidRequest,
    NothingToCancel,
    SessionBusy,
    SessionNotFound,
    SessionPaused,
)
from ..core.store.session_store import StoreUnavailable

# Domain error -> (status, code). The most specific class wins (looked up along the MRO).
DOMAIN_STATUS: dict[type[Exception], tuple[int, str]] = {
    InvalidRequest: (400, "bad_request"),
    SessionNotFound: (404, "not_found"),
    SessionBusy: (409, "conflict"),
    SessionPaused: (409, "conflict"),
    NothingToCancel: (409, "conflict"),
    EngineStopped: (503, "unavailable"),
    EngineError: (400, "engine_error"),
    StoreUnavailable: (503, "store_unavailable"),
}


class PanelError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra
) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message, **extra}, status_code=status, headers=headers
    )


async def panel_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PanelError)
    return error_response(exc.status, exc.code, exc.message, exc.headers, **exc.extra)


def domain_status(exc: Exception) -> tuple[int, str]:
    """The status and code for a domain error (500 for anything unknown)."""
    for cls in type(exc).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 500, "internal_error"


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    status, code = domain_status(exc)
    return error_response(status, code, str(exc))


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(exc.status_code, code, str(exc.detail), headers)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(400, "bad_request", f"{where}: {first.get('msg', 'invalid input')}")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path. Starlette's 405 names only the
    first route's (``GET /api/config`` hid ``PUT /api/config``)."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in _flat_routes(request.app.router.routes):
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods.update(route_methods)
    return sorted(methods)


def _flat_routes(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's included routers
        if inner is not None:
            yield from _flat_routes(inner.routes)
        else:
            yield route
