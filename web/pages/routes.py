"""The server-rendered pages: login, the engine pages, live logs, and the language switch.

Each engine page has its own module (``web/page_<name>.py``) with one coroutine
``context(request) -> dict`` that gathers what its template shows; the routes here only
check the login, call it and render. A page renders even when the engine is down
(the template then says why).

Dependencies come from ``request.app.state.deps`` (``auth``, ``templates``, ``version``, ...),
so the router holds no state and can be rebuilt on every plugin reload.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from ..api.access import app_deps
from ..i18n import LANG_COOKIE, normalize
from . import config as page_config
from . import help as page_help
from . import journal as page_journal
from . import overview as page_overview
from . import session as page_session
from . import sessions as page_sessions
from . import upcoming as page_upcoming
from .templating import render

HOME_PATH = "/overview"
LOGS_PATH = "/logs"
LOGIN_PATH = "/login"
# path -> (template, module with ``async def context(request) -> dict``)
ENGINE_PAGES = {
    "/overview": ("overview.html", page_overview),
    "/sessions": ("sessions.html", page_sessions),
    "/session": ("session.html", page_session),
    "/journal": ("journal.html", page_journal),
    "/config": ("config.html", page_config),
    "/help": ("help.html", page_help),
    "/upcoming": ("upcoming.html", page_upcoming),
}
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
_MAX_NEXT_LENGTH = 2048


def safe_next(value: str | None, default: str = HOME_PATH) -> str:
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
    return bool(app_deps(request).auth.is_authenticated(request))


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def _login_redirect(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    # ``&`` encoded: the page's second parameter must stay inside ``next``.
    return _redirect(f"{LOGIN_PATH}?next={quote(safe_next(here), safe='/?=')}")


def _add_engine_page(router: APIRouter, path: str, template: str, module: Any) -> None:
    async def page(request: Request) -> Response:
        if not _is_logged_in(request):
            return _login_redirect(request)
        context = await module.context(request)
        status = context.pop("status_code", 200)
        return await render(request, template, context, status_code=status)

    page.__name__ = f"page_{path.strip('/')}"
    router.add_api_route(path, page, methods=["GET"], response_class=Response)


def build_pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def index(request: Request) -> Response:
        return _redirect(HOME_PATH if _is_logged_in(request) else LOGIN_PATH)

    @router.get(LOGIN_PATH)
    async def login(request: Request) -> Response:
        next_path = safe_next(request.query_params.get("next"))
        if _is_logged_in(request):
            return _redirect(next_path)
        return await render(request, "login.html", {"next_path": next_path})

    @router.get(LOGS_PATH)
    async def logs(request: Request) -> Response:
        if not _is_logged_in(request):
            return _redirect(f"{LOGIN_PATH}?next={LOGS_PATH}")
        context = {"levels": LEVELS, "default_level": "INFO", "default_scope": "plugin"}
        return await render(request, "logs.html", context)

    for path, (template, module) in ENGINE_PAGES.items():
        _add_engine_page(router, path, template, module)

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
