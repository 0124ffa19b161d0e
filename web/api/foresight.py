"""See it before it happens: a session's request preview, a draft, and the forward
view of one session or of all served ones. Paths and OpenAPI entries are in the route
table, web/api/engine.py; the work is the engine's (core/engine/preview.py,
core/engine/forecast.py).

The preview shows persona and chat history to the logged-in admin; values that look
like secrets (``api_key=...``, tokens, the panel's password) are masked in it, as in
the live logs.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request

from ...core.logs.redaction import Redactor
from .access import app_deps, require_engine
from .checks import umo_kind

MAX_DAYS = 14  # the engine's bound too (core/engine/forecast.py)
MAX_PAGE_SIZE = 50


def _redactor(request: Request) -> Redactor:
    redactor = Redactor()
    settings = getattr(app_deps(request), "settings", None)
    redactor.add_secret(getattr(settings, "password", "") or "")
    return redactor


def _masked(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, list):
        return [_masked(item, redactor) for item in value]
    if isinstance(value, dict):
        return {key: _masked(item, redactor) for key, item in value.items()}
    return value


async def session_preview(request: Request, umo: str) -> dict[str, Any]:
    """``engine.preview(umo)``: the messages the model would get now (nothing sent)."""
    engine = require_engine(request)
    umo_kind(umo)
    view = await engine.preview(umo)
    redactor = _redactor(request)
    view["prompt"] = redactor.redact(view["prompt"])
    view["messages"] = _masked(view["messages"], redactor)
    return view


async def session_draft(request: Request, umo: str) -> dict[str, Any]:
    """``engine.draft(umo)``: one message written and not sent; waits for the model
    (bounded by its time-out)."""
    engine = require_engine(request)
    umo_kind(umo)
    return await engine.draft(umo)


async def session_forecast(
    request: Request, umo: str, days: int = Query(7, ge=1, le=MAX_DAYS)
) -> dict[str, Any]:
    """``engine.forecast(umo, days)``: one likely future, nobody answering."""
    engine = require_engine(request)
    umo_kind(umo)
    return await engine.forecast(umo, days)


async def all_forecast(
    request: Request,
    days: int = Query(7, ge=1, le=MAX_DAYS),
    page: int = Query(1, ge=1, le=1_000_000),
    size: int = Query(20, ge=1, le=MAX_PAGE_SIZE),
) -> dict[str, Any]:
    """``engine.forecast_all``: the served sessions, soonest plan first, a page at a time."""
    engine = require_engine(request)
    return await engine.forecast_all(days, page, size)
