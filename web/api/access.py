"""How a route reaches the proactive service and its engine: through
``request.app.state.deps.service`` (a ``core.service.ProactiveService``, or None when the
plugin runs the panel alone) and that service's ``engine`` (None while it is starting,
stopped or failed).

``app_deps`` is the one place that reads ``app.state.deps``, so every route sees it
typed. ``require_*`` raise ``PanelError`` 503 with the reason when the part is missing;
``current_*`` return None instead, for the pages and sockets that render anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request
from starlette.requests import HTTPConnection

from ..errors import PanelError

if TYPE_CHECKING:
    from ...core.engine.engine import ProactiveEngine
    from ...core.service import ProactiveService
    from ..app import AppDeps


def app_deps(connection: HTTPConnection) -> AppDeps:
    """What ``create_app`` was given (a request's or a WebSocket's app)."""
    return connection.app.state.deps


def current_service(deps: AppDeps) -> ProactiveService | None:
    return getattr(deps, "service", None)


def current_engine(deps: AppDeps) -> ProactiveEngine | None:
    """The running engine, or None (no service, or the service has no engine now)."""
    service = current_service(deps)
    return service.engine if service is not None else None


def engine_problem(service: ProactiveService | None) -> str:
    """Why there is no engine, in the words the panel shows (web/reasons.py knows them)."""
    if service is None:
        return "the proactive engine is not loaded in this panel"
    return service.problem or "the proactive engine is not running (starting or stopped)"


def require_service(request: Request) -> ProactiveService:
    service = app_deps(request).service
    if service is None:
        raise PanelError(503, "engine_unavailable", engine_problem(None))
    return service


def require_engine(request: Request) -> ProactiveEngine:
    service = require_service(request)
    engine = service.engine
    if engine is None:
        raise PanelError(503, "engine_unavailable", engine_problem(service))
    return engine


def running_engine(deps: AppDeps) -> tuple[ProactiveEngine | None, str | None]:
    """``(engine, None)``, or ``(None, why there is none)`` for a page's banner."""
    engine = current_engine(deps)
    return (engine, None) if engine is not None else (None, engine_problem(current_service(deps)))
