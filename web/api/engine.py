"""The route table of the engine's REST API: status, sessions, overrides, actions,
journal, config. Each route is one ``add_api_route`` line below, in matching order; its
endpoint is a named function in the module of its topic (status.py, sessions.py,
overrides.py, journal.py, config.py).

Everything goes through ``deps.service`` (a ``core.service.ProactiveService``, or None
when the plugin runs the panel alone). ``/api/status`` always answers so the panel can
render; the other endpoints answer 503 while the engine is missing.

UMOs are path segments that may contain ``:`` and ``/`` (percent-encoded or not): the
routes use ``{umo:path}`` and the action routes are registered before the bare one, so
``/api/sessions/p:FriendMessage:a/b/pause`` pauses ``p:FriendMessage:a/b``. The one
thing that cannot be addressed this way is a session whose id itself ends in
``/override``, ``/trigger``, ``/served``, ... with the bare ``GET /api/sessions/{umo}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from . import config, foresight, habits, journal, overrides, sessions, status
from .foresight_models import DraftOut, ForecastPage, PreviewOut, SessionForecast
from .models import (
    Accepted,
    ConfigView,
    HabitsView,
    JournalPage,
    OverrideView,
    SafeJSONResponse,
    SessionPage,
    SessionView,
    StatusOut,
)
from .openapi import error_responses, session_links

UMO = "/sessions/{umo:path}"  # one session; its id may hold ``/`` and ``:``


def build_engine_router() -> APIRouter:
    """The engine API, one route per entry, in matching order (the first match wins).

    Laid out by hand (``fmt: off``): it is the table a reader scans for a URL."""
    router = APIRouter(prefix="/api", tags=["engine"], default_response_class=SafeJSONResponse)
    route, e = router.add_api_route, error_responses
    get, post, put, delete = ["GET"], ["POST"], ["PUT"], ["DELETE"]
    one = session_links("/umo")  # the answer names a session: link to what can be done to it
    many = session_links("/items/0/umo")
    # fmt: off
    route("/status", status.status, methods=get,
          response_model=StatusOut, responses=e())
    route("/sessions", sessions.list_sessions, methods=get,
          response_model=SessionPage, responses=e(400, 503) | many)
    # The suffixed routes come first: ``{umo:path}`` would swallow the suffix otherwise.
    route(f"{UMO}/override", overrides.get_override, methods=get, operation_id="get_override",
          response_model=OverrideView, responses=e(400, 503) | one)
    route(f"{UMO}/override", overrides.put_override, methods=put, operation_id="put_override",
          response_model=OverrideView, responses=e(400, 409, 413, 503) | one)
    route(f"{UMO}/override", overrides.delete_override, methods=delete,
          operation_id="delete_override",
          response_model=OverrideView, responses=e(400, 503) | one)
    route(f"{UMO}/trigger", sessions.trigger, methods=post, operation_id="trigger_session",
          status_code=202, response_model=Accepted,
          responses=e(400, 409, 503) | session_links("/umo", 202))
    route(f"{UMO}/reschedule", sessions.reschedule_session, methods=post,
          name="session_reschedule", operation_id="session_reschedule",
          response_model=SessionView, responses=e(400, 409, 503) | one)
    route(f"{UMO}/pause", sessions.pause_session, methods=post,
          name="session_pause", operation_id="session_pause",
          response_model=SessionView, responses=e(400, 409, 503) | one)
    route(f"{UMO}/resume", sessions.resume_session, methods=post,
          name="session_resume", operation_id="session_resume",
          response_model=SessionView, responses=e(400, 409, 503) | one)
    route(f"{UMO}/promise/cancel", sessions.cancel_session_promise, methods=post,
          name="session_promise_cancel", operation_id="session_promise_cancel",
          response_model=SessionView, responses=e(400, 409, 503) | one)
    route(f"{UMO}/cancel", sessions.cancel_session_plan, methods=post,
          name="session_cancel", operation_id="session_cancel",
          response_model=SessionView, responses=e(400, 409, 503) | one)
    route(f"{UMO}/habits", habits.get_habits, methods=get, operation_id="get_session_habits",
          response_model=HabitsView, responses=e(400, 404, 503) | one)
    route(f"{UMO}/served", sessions.serve_session, methods=put, operation_id="serve_session",
          response_model=SessionView, responses=e(400, 404, 409, 503) | one)
    _foresight_routes(router, one, many)  # also suffixed: before the bare session route
    route(UMO, sessions.get_session, methods=get, operation_id="get_session",
          response_model=SessionView, responses=e(400, 404, 503) | one)

    route("/journal", journal.journal, methods=get,
          response_model=JournalPage, responses=e(400, 503) | many)

    route("/config", config.get_config, methods=get,
          response_model=ConfigView, responses=e(503))
    route("/config", config.put_config, methods=put,
          response_model=ConfigView, responses=e(400, 413, 503))
    route("/config/schema", config.config_schema, methods=get,
          response_model=dict[str, Any], responses=e(503))
    # fmt: on
    return router


def _foresight_routes(router: APIRouter, one: dict, many: dict) -> None:
    """See it before it happens (web/api/foresight.py): preview, draft, forward view."""
    route, e, get, post = router.add_api_route, error_responses, ["GET"], ["POST"]
    # fmt: off
    route(f"{UMO}/preview", foresight.session_preview, methods=get,
          operation_id="session_preview",
          response_model=PreviewOut, responses=e(400, 404, 503) | one)
    route(f"{UMO}/draft", foresight.session_draft, methods=post, operation_id="session_draft",
          response_model=DraftOut, responses=e(400, 404, 409, 503) | one)
    route(f"{UMO}/forecast", foresight.session_forecast, methods=get,
          operation_id="session_forecast",
          response_model=SessionForecast, responses=e(400, 404, 503) | one)
    route("/forecast", foresight.all_forecast, methods=get,
          response_model=ForecastPage, responses=e(400, 503) | many)
    # fmt: on
