"""Statistics for the overview page: messages per day and what the status cards show.

Per-day numbers come from the store's durable counters (``SessionStore.daily_totals``),
not from the journal, which is pruned by age and by count. Days are AstrBot's days
(its ``timezone`` setting, else the server's local zone).

``overview_body`` is both ``GET /api/stats/overview`` and the context of the overview
page (web/pages/overview.py), so the first render and the live refresh never differ.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request

from ...core.store.session_store import StoreUnavailable
from ...core.umo import kind_of
from ..timefmt import panel_timezone, zone_label
from .access import app_deps, current_engine, current_service, require_engine, require_service
from .models import DailyOut, OverviewOut, SafeJSONResponse
from .openapi import error_responses
from .status import status_body

if TYPE_CHECKING:
    from ...core.engine.engine import ProactiveEngine
    from ...core.service import ProactiveService
    from ...core.store.session_store import SessionStore
    from ..app import AppDeps

DAILY_KINDS = ("sent", "answered", "capped")
DEFAULT_DAYS = 30
MAX_DAYS = 400  # the store keeps its counters about this long
MAX_TEXT = 200
PROVIDER_LOOKUP_SECONDS = 2.0  # provider ids and model names from AstrBot's config, shown in a card


# --- the routes -------------------------------------------------------------------------------


async def daily(
    request: Request,
    days: int = Query(DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="days, ending today"),
) -> dict[str, Any]:
    """Sent, answered and caps reached per day in AstrBot's zone, oldest first, ending
    today, zero-filled."""
    engine = require_engine(request)
    series = await daily_series(require_service(request).store, engine, days)
    return {"zone": zone_label(engine.timezone), "days": series}


async def overview(request: Request) -> dict[str, Any]:
    """The overview page's cards and timeline (what its script refreshes)."""
    require_engine(request)
    return await overview_body(app_deps(request))


def build_stats_router() -> APIRouter:
    """The statistics routes, in matching order."""
    router = APIRouter(prefix="/api/stats", tags=["stats"], default_response_class=SafeJSONResponse)
    router.add_api_route(
        "/daily",
        daily,
        methods=["GET"],
        response_model=DailyOut,
        responses=error_responses(400, 503),
    )
    router.add_api_route(
        "/overview",
        overview,
        methods=["GET"],
        response_model=OverviewOut,
        responses=error_responses(503),
    )
    return router


# --- gathering (the page uses the same functions) ------------------------------------------


def day_keys(today: date, days: int) -> list[str]:
    """``days`` ISO dates ending with ``today``, oldest first."""
    return [(today - timedelta(days=back)).isoformat() for back in range(days - 1, -1, -1)]


def local_midnight(day: date, tz: tzinfo | None) -> float:
    """The Unix time at which ``day`` starts in ``tz`` (None: the server's zone)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


async def daily_series(
    store: SessionStore, engine: ProactiveEngine, days: int
) -> list[dict[str, Any]]:
    """``[{date, sent, answered, capped}]`` for the last ``days`` days in the engine's zone,
    oldest first, zero-filled. Raises ``StoreUnavailable``."""
    tz = engine.timezone
    now = engine.clock()
    today = datetime.fromtimestamp(now, tz).date()
    first = today - timedelta(days=days - 1)
    totals = await store.daily_totals(
        since=local_midnight(first, tz),
        until=local_midnight(today + timedelta(days=1), tz),
        tz=tz,
    )
    series = []
    for key in day_keys(today, days):
        counted = totals.get(key, {})
        series.append({"date": key, **{kind: int(counted.get(kind, 0)) for kind in DAILY_KINDS}})
    return series


async def chat_provider(service: ProactiveService | None) -> dict[str, Any]:
    """AstrBot's default chat model (``ProviderOut``); never raises and never waits long:
    a broken provider must not break the page."""
    out: dict[str, Any] = {"state": "unknown", "id": None, "model": None, "detail": None}
    getter = getattr(getattr(service, "context", None), "get_using_provider_async", None)
    if not callable(getter):
        return out | {"detail": "AstrBot's context is not available here"}
    try:
        async with asyncio.timeout(PROVIDER_LOOKUP_SECONDS):
            provider = await getter(umo=None)
    except TimeoutError:
        return out | {"detail": "AstrBot did not answer which chat model is in use"}
    except Exception as exc:  # AstrBot raises ValueError for a provider of the wrong type
        return out | {"detail": _text(exc) or type(exc).__name__}
    if provider is None:
        return out | {"state": "none"}
    try:
        provider_id = _text(provider.meta().id)
    except Exception:  # meta() raises for a provider type that is not registered
        try:
            provider_id = _text(provider.provider_config.get("id"))
        except Exception:
            provider_id = ""
    try:
        model = _text(provider.get_model())
    except Exception:
        model = ""
    return out | {"state": "ok", "id": provider_id or None, "model": model or None}


def _text(value: Any) -> str:
    try:
        text = "" if value is None else str(value)
    except Exception:
        return ""
    return text[:MAX_TEXT]


def timeline(engine: ProactiveEngine, upcoming: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The next planned messages (``status()["next"]``) with the sessions' names."""
    items = []
    for plan in upcoming:
        umo = str(plan.get("umo", ""))
        state = engine.sessions.get(umo)
        items.append(
            {
                "umo": umo,
                "name": (state.name if state is not None else "") or "",
                "kind": (state.kind if state is not None else None) or kind_of(umo) or "",
                "at": float(plan.get("at") or 0.0),
                "href": f"/session?umo={quote(umo, safe='')}",
            }
        )
    return items


async def overview_body(deps: AppDeps, *, chart_days: int = 0) -> dict[str, Any]:
    """What the overview shows; with ``chart_days``, also ``days`` (the chart's series,
    None when it cannot be read). Always answers: without an engine, ``running`` is
    false and ``engine_problem`` says why."""
    service = current_service(deps)
    engine = current_engine(deps)
    status = await status_body(deps, engine)
    store = status.get("store") or {}
    out: dict[str, Any] = {
        key: status.get(key, default)
        for key, default in (
            ("running", False),
            ("ready", False),
            ("engine_problem", None),
            ("version", ""),
            ("astrbot_version", ""),
            ("sessions_known", 0),
            ("sessions_served", 0),
            ("planned", 0),
            ("writing", 0),
            ("queued", 0),
            ("capped", 0),
            ("waiting_for_reply", 0),
        )
    }
    out["zone"] = zone_label(panel_timezone(deps))
    out["store_error"] = store.get("last_error") or None
    out["today"] = None
    out["stats_error"] = None
    out["timeline"] = []
    out["provider"] = await chat_provider(service)
    # models and tools the config names that do not exist (a warning)
    missing = getattr(service, "missing_names", None)
    out["missing"] = missing() if callable(missing) else []
    if chart_days:
        out["days"] = None
    if service is None or engine is None:
        out["running"] = False
        return out
    out["timeline"] = timeline(engine, status.get("next") or [])
    try:
        series = await daily_series(service.store, engine, max(1, chart_days))
    except StoreUnavailable as exc:
        out["stats_error"] = str(exc)
        return out
    out["today"] = series[-1]
    if chart_days:
        out["days"] = series
    return out
