"""The sessions endpoints: the list, one session, and what can be done to it (trigger,
reschedule, pause, resume, cancel, serve, cancel the bot's promise). Their paths and OpenAPI
entries are in the route table, web/api/engine.py.

Each action names the engine method it calls, and answers the session's view after it;
the engine's domain errors (unknown session, busy, paused) become 404/409 in web/errors.py.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Query, Request

from ..errors import PanelError
from .access import require_engine, require_service
from .checks import umo_kind
from .models import ServeIn
from .session_filter import MAX_QUERY_CHARS, SortParam, filter_sessions, sorted_sessions

MAX_PAGE_SIZE = 200


async def list_sessions(
    request: Request,
    q: str | None = Query(None, max_length=MAX_QUERY_CHARS, description="in umo or name"),
    kind: Literal["friend", "group"] | None = None,
    served: bool | None = None,
    page: int = Query(1, ge=1, le=1_000_000),
    size: int = Query(50, ge=1, le=MAX_PAGE_SIZE),
    sort: SortParam = "next_at",
) -> dict[str, Any]:
    engine = require_engine(request)
    matched = await filter_sessions(engine, q, kind, served)
    ordered = sorted_sessions(matched, sort)
    start = (page - 1) * size
    items = [engine.session_view(state) for state in ordered[start : start + size]]
    return {"items": items, "total": len(matched), "page": page, "size": size}


async def get_session(request: Request, umo: str) -> dict[str, Any]:
    engine = require_engine(request)
    umo_kind(umo)
    state = engine.sessions.get(umo)
    if state is None:
        raise PanelError(404, "unknown_session", f"no session {umo!r} is known")
    return engine.session_view(state)


async def trigger(request: Request, umo: str) -> dict[str, Any]:
    """Queue "send now"; the outcome shows in the journal (and on /ws/events)."""
    engine = require_engine(request)
    umo_kind(umo)
    engine.request_trigger(umo)
    return {"accepted": True, "umo": umo}


async def reschedule_session(request: Request, umo: str) -> dict[str, Any]:
    """``engine.reschedule(umo)``; returns the session view."""
    engine = require_engine(request)
    umo_kind(umo)
    return engine.session_view(engine.reschedule(umo))


async def pause_session(request: Request, umo: str) -> dict[str, Any]:
    """``engine.pause(umo)``; returns the session view."""
    engine = require_engine(request)
    umo_kind(umo)
    return engine.session_view(engine.pause(umo))


async def resume_session(request: Request, umo: str) -> dict[str, Any]:
    """``engine.resume(umo)``; returns the session view."""
    engine = require_engine(request)
    umo_kind(umo)
    return engine.session_view(engine.resume(umo))


async def cancel_session_plan(request: Request, umo: str) -> dict[str, Any]:
    """``engine.cancel_plan(umo)``; returns the session view."""
    engine = require_engine(request)
    umo_kind(umo)
    return engine.session_view(engine.cancel_plan(umo))


async def serve_session(request: Request, umo: str, body: ServeIn) -> dict[str, Any]:
    """The Serve switch: ``service.set_served`` puts the chat on its kind's
    ``session_list`` or takes it off (saved through AstrBot's config, applied at once);
    returns the session view, with its plan or why there is none."""
    service = require_service(request)
    engine = require_engine(request)
    umo_kind(umo)
    if umo not in engine.sessions:
        raise PanelError(404, "unknown_session", f"no session {umo!r} is known")
    try:
        outcome = await service.set_served(umo, body.served)
    except OSError as exc:
        raise PanelError(503, "save_failed", f"the config could not be saved: {exc}") from None
    if outcome.refused == "kind_off":
        group = engine.session_view(engine.sessions[umo])["serve"]["group"]
        raise PanelError(
            409,
            "kind_off",
            f"this kind of chat is switched off ({group}.enable): turn it on in Config",
        )
    if outcome.errors:
        errors = list(outcome.errors)
        raise PanelError(400, "invalid_config", "; ".join(errors[:5]), errors=errors)
    engine.events.publish({"type": "config"})  # open Config pages show the new list
    return engine.session_view(engine.sessions[umo])


async def cancel_session_promise(request: Request, umo: str) -> dict[str, Any]:
    """``engine.cancel_promise(umo)``: the plan is drawn again; returns the session view."""
    engine = require_engine(request)
    umo_kind(umo)
    return engine.session_view(engine.cancel_promise(umo))
