"""The sessions endpoints: the list, one session, and what can be done to it (trigger,
reschedule, pause, resume, cancel, cancel the bot's promise). Their paths and OpenAPI entries are in the route
table, web/api/engine.py.

Each action names the engine method it calls, and answers the session's view after it;
the engine's domain errors (unknown session, busy, paused) become 404/409 in web/errors.py.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Query, Request

from ..errors import PanelError
from .access import require_engine
from .checks import umo_kind
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


async def cancel_session_promise(request: Request, umo: str) -> dict[str, Any]:
    """``engine.cancel_promise(umo)``: the plan is drawn again; returns the session view."""
    engine = require_engine(request)
    umo_kind(umo)
    return engine.session_view(engine.cancel_promise(umo))
