"""The server-rendered pages: login, live logs, and the language switch.

Dependencies come from ``request.app.state.deps`` (``auth``, ``templates``, ``version``, ...),
so the router holds no state and can be rebuilt on every plugin reload.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from .i18n import LANG_COOKIE, normalize
from .templating import render

LOGS_PATH = "/logs"
LOGIN_PATH = "/login"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
_MAX_NEXT_LENGTH = 2048


def safe_next(value: str | None, default: str = LOGS_PATH) -> str:
    """``value`` if it is a path on this site, else ``default``: no open redirects.

    Refused: absolute URLs, scheme-relative ``//host``, backslashes (browsers read ``/\\host``
    as ``//host``), control characters (browsers drop tabs and newlines inside URLs).
    """
    if not value or len(value) > _MAX_NEXT_LENGTH:
        return default
    if not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def _is_logged_in(request: Request) -> bool:
    return bool(request.app.state.deps.auth.is_authenticated(request))


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def build_pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def index(request: Request) -> Response:
        return _redirect(LOGS_PATH if _is_logged_in(request) else LOGIN_PATH)

    @router.get(LOGIN_PATH)
    async def login(request: Request) -> Response:
        next_path = safe_next(request.query_params.get("next"))
        if _is_logged_in(request):
            return _redirect(next_path)
        return render(request, "login.html", {"next_path": next_path})

    @router.get(LOGS_PATH)
    async def logs(request: Request) -> Response:
        if not _is_logged_in(request):
            return _redirect(f"{LOGIN_PATH}?next={LOGS_PATH}")
        context = {"levels": LEVELS, "default_level": "INFO", "default_scope": "plugin"}
        return render(request, "logs.html", context)

    @router.get("/lang/{code}")
    async def set_language(request: Request, code: str) -> Response:
        lang = normalize(code)
        if lang is None or lang != code.lower():
            raise HTTPException(status_code=404)
        response = _redirect(safe_next(request.query_params.get("next"), default="/"))
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="strict",
        )
        return response

    return router
