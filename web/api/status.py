"""``GET /api/status``: what the engine is doing, and why it is not running when it is not.

The body is also the ``hello`` of ``/ws/events`` and the base of the overview
(web/api/stats.py), so the three never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request

from .access import app_deps, current_engine, engine_problem

if TYPE_CHECKING:
    from ...core.engine.engine import ProactiveEngine
    from ..app import AppDeps


async def status(request: Request) -> dict[str, Any]:
    """Always 200, so the panel can render: ``running: false`` and ``engine_problem``
    say why when there is no engine."""
    deps = app_deps(request)
    return await status_body(deps, current_engine(deps))


async def status_body(deps: AppDeps, engine: ProactiveEngine | None) -> dict[str, Any]:
    """``GET /api/status`` (and the ``hello`` of ``/ws/events``)."""
    service = deps.service
    out: dict[str, Any] = {
        "running": False,
        "version": deps.version,
        "astrbot_version": deps.astrbot_version,
        "engine_problem": engine_problem(service),
    }
    if engine is not None:
        out |= await engine.status()
        out["engine_problem"] = service.problem if service is not None else None
    if service is not None:
        out["store"] = {"open": service.store.is_open, **service.store.stats}
    return out
