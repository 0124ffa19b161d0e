"""The route table of the panel's own API: health, login and logout, who is logged in,
a snapshot of the live-log buffer. Endpoints live in login.py and logs.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from . import login, logs
from .models import LoginOut, LogsOut, MeOut
from .openapi import LOGIN_BODY, error_responses


async def healthz() -> dict[str, Any]:
    """For probes: answers without a login and says nothing about the engine."""
    return {"status": "ok"}


def build_api_router() -> APIRouter:
    """The panel's routes, in matching order; laid out by hand (``fmt: off``)."""
    router = APIRouter()
    route, e = router.add_api_route, error_responses
    # fmt: off
    route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    route("/api/login", login.login, methods=["POST"],
          response_model=LoginOut, responses=e(400, 429), openapi_extra={"requestBody": LOGIN_BODY})
    route("/api/logout", login.logout, methods=["POST"], status_code=204, responses=e())
    route("/api/me", login.me, methods=["GET"], response_model=MeOut, responses=e())
    route("/api/logs", logs.logs_snapshot, methods=["GET"],
          response_model=LogsOut, responses=e(400))
    # fmt: on
    return router
