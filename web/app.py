"""``create_app(deps)``: builds the panel's FastAPI app. No module-level app or state:
AstrBot deletes this module on every hot reload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import NoMatchFound

from ..core.constants import PLUGIN_ROOT
from ..core.logs.stream import LogStream
from .auth.guard import PUBLIC_API, PanelGuard
from .auth.host_guard import HostPolicy
from .auth.login_report import LoginFailureReport
from .auth.rate_limit import LoginRateLimiter
from .auth.tokens import COOKIE_NAME, PanelAuth
from .errors import (
    DOMAIN_STATUS,
    PanelError,
    domain_error_handler,
    http_error_handler,
    panel_error_handler,
    validation_error_handler,
)
from .settings import WebAdminSettings
from .ws.connections import ConnectionRegistry

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates

    from ..core.service import ProactiveService

TEMPLATES_DIR = PLUGIN_ROOT / "templates"
STATIC_DIR = PLUGIN_ROOT / "static"


@dataclass
class AppDeps:
    """Everything the routes need, reachable as ``request.app.state.deps``."""

    settings: WebAdminSettings
    auth: PanelAuth
    log_stream: LogStream
    version: str
    astrbot_version: str
    connections: ConnectionRegistry = field(default_factory=ConnectionRegistry)
    rate_limiter: LoginRateLimiter = field(default_factory=LoginRateLimiter)
    login_report: LoginFailureReport = field(default_factory=LoginFailureReport)
    templates: Jinja2Templates | None = None  # built by create_app when not given
    service: ProactiveService | None = None  # the engine's API; None when the panel runs alone

    def __post_init__(self) -> None:
        if not self.login_report.panel_url:
            self.login_report.panel_url = self.settings.url


def create_app(deps: AppDeps) -> FastAPI:
    from .api.engine import build_engine_router
    from .api.export import build_export_router
    from .api.panel import build_api_router
    from .api.stats import build_stats_router
    from .pages.routes import build_pages_router
    from .pages.templating import build_templates
    from .ws.events import build_events_router
    from .ws.logs import build_ws_router

    app = FastAPI(
        title="Proactive Chat admin panel",
        version=deps.version,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    if deps.templates is None:
        deps.templates = build_templates(TEMPLATES_DIR, STATIC_DIR)

    app.state.deps = deps

    app.include_router(build_api_router())
    app.include_router(build_engine_router())
    app.include_router(build_stats_router())
    app.include_router(build_export_router())
    app.include_router(build_ws_router())
    app.include_router(build_events_router())
    app.include_router(build_pages_router())
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_exception_handler(PanelError, panel_error_handler)
    for domain_error in DOMAIN_STATUS:
        app.add_exception_handler(domain_error, domain_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)

    # No CORS: the panel's pages call it from its own origin, which needs none; with
    # none, no other origin's page can read an answer, whatever the Origin check allows.
    # Added last, so it runs first: nothing reaches a route before it.
    app.add_middleware(PanelGuard, auth=deps.auth, policy=HostPolicy(deps.settings))
    document_login(app)
    return app


def create_ready_app(deps: AppDeps) -> FastAPI:
    """``create_app`` plus what would otherwise happen on the first request (the
    middleware stack, the included routers' effective routes): for a caller that builds
    the app in a worker thread and leaves the event loop nothing slow. No middleware can
    be added to the result. (Templates compile in a thread at their first view: see
    ``pages.templating.render``.)"""
    app = create_app(deps)
    app.middleware_stack = app.build_middleware_stack()
    try:
        app.url_path_for("\0")  # no route has this name: every included router is walked
    except NoMatchFound:
        pass
    return app


def document_login(app: FastAPI) -> None:
    """The guard, not a route dependency, enforces the login: state it in the OpenAPI
    schema too. Every ``/api/`` operation but login takes the token as a Bearer header
    or the cookie."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = app.openapi_schema
        if schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": COOKIE_NAME},
            }
            for path, operations in schema.get("paths", {}).items():
                guarded = path.startswith("/api/") and path not in PUBLIC_API
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"cookie": []}] if guarded else []
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
