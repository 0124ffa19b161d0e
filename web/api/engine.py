"""REST endpoints of the proactive engine: status, sessions, overrides, journal, config.

Everything goes through ``deps.service`` (a ``core.service.ProactiveService``, or None
when the plugin runs the panel alone). ``/api/status`` always answers so the panel can
render; the other endpoints answer 503 while the engine is missing.

UMOs are path segments that may contain ``:`` and ``/`` (percent-encoded or not): the
routes use ``{umo:path}`` and the action routes are registered before the bare one, so
``/api/sessions/p:FriendMessage:a/b/pause`` pauses ``p:FriendMessage:a/b``. The one
thing that cannot be addressed this way is a session whose id itself ends in
``/override``, ``/trigger``, ... with the bare ``GET /api/sessions/{umo}``.
"""

from __future__ import annotations

import asyncio
import json
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ...core.constants import PLUGIN_ROOT
from ...core.engine.config import merge_override, normalize_kind_dict, validate_override
from ...core.engine.models import SessionState
from ..errors import PanelError
from .checks import refuse_lone_surrogates, umo_kind
from .journal_query import JournalFilterParam, journal_page

SCHEMA_FILE = PLUGIN_ROOT / "_conf_schema.json"
SCAN_CHUNK = 5000  # sessions looked at per loop turn when filtering
MAX_PAGE_SIZE = 200
MAX_JOURNAL_LIMIT = 1000
MAX_QUERY_CHARS = 200
MAX_SQLITE_INT = 2**63 - 1
WEB_ADMIN_NOTE = (
    "web_admin is read-only here: change it in AstrBot's dashboard (plugin config). "
    "/ 管理面板设置只能在 AstrBot 管理面板的插件配置中修改。"
)


# --- response and body shapes (they are the OpenAPI schema) ---------------------------


class ErrorOut(BaseModel):
    """Every error: a code, a readable message, sometimes ``errors`` (one per problem)."""

    model_config = ConfigDict(extra="allow")
    error: str
    message: str
    errors: list[str] | None = None


class SessionView(BaseModel):
    model_config = ConfigDict(extra="allow")
    umo: str
    kind: str
    name: str
    platform: str
    served: bool
    paused: bool
    phase: str
    next_at: float | None
    next_reason: str
    unanswered: int
    max_unanswered: int
    last_user_at: float | None
    last_bot_at: float | None
    last_activity_at: float | None
    sent_total: int
    has_override: bool
    writing: bool


class SessionPage(BaseModel):
    items: list[SessionView]
    total: int
    page: int
    size: int


class OverrideView(BaseModel):
    """``global``: the kind's settings from the plugin config (without ``session_list``);
    ``override``: what this session changes; ``effective``: both merged."""

    model_config = ConfigDict(populate_by_name=True)
    umo: str
    kind: str
    global_: dict[str, Any] = Field(alias="global")
    override: dict[str, Any]
    effective: dict[str, Any]


class Accepted(BaseModel):
    accepted: bool
    umo: str


class JournalItem(BaseModel):
    id: int | None
    at: float
    umo: str
    kind: str
    reason: str
    detail: dict[str, Any]


class JournalPage(BaseModel):
    items: list[JournalItem]
    next_before_id: int | None = Field(
        description="Pass as before_id for the next (older) page; null on the last page."
    )
    total: int | None = Field(
        description="Entries matching the filter; only on the first page (no before_id)."
    )


class NextPlan(BaseModel):
    umo: str
    at: float


class StoreStats(BaseModel):
    model_config = ConfigDict(extra="allow")
    open: bool
    transactions: int = 0
    rows_written: int = 0
    pending: int = 0
    last_error: str | None = None
    path: str = ""


class EngineSummary(BaseModel):
    """What the status and the overview both say about the engine."""

    running: bool
    ready: bool = False
    version: str
    astrbot_version: str
    engine_problem: str | None = None
    sessions_known: int = 0
    sessions_served: int = 0
    planned: int = 0
    writing: int = 0
    queued: int = 0
    capped: int = 0


class StatusOut(EngineSummary):
    model_config = ConfigDict(extra="allow")
    next: list[NextPlan] = []
    counters: dict[str, int] = {}
    started_at: float | None = None
    store: StoreStats | None = None


class WebAdminView(BaseModel):
    enabled: bool
    host: str
    port: int
    allowed_hosts: list[str]
    log_buffer_size: int
    session_hours: int
    password_set: bool = Field(description="A password is set in the config (never shown).")
    read_only: bool = True
    note: str


class ConfigView(BaseModel):
    friend_settings: dict[str, Any]
    group_settings: dict[str, Any]
    engine_settings: dict[str, Any]
    web_admin: WebAdminView


class ConfigUpdate(BaseModel):
    """Partial groups are merged over the current config; ``web_admin`` is refused."""

    # Extra keys reach the handler so that ``web_admin`` gets its own message, but any
    # extra key is refused (400): the schema says so.
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False})
    friend_settings: dict[str, Any] = None  # type: ignore[assignment]
    group_settings: dict[str, Any] = None  # type: ignore[assignment]
    engine_settings: dict[str, Any] = None  # type: ignore[assignment]


class SafeJSONResponse(JSONResponse):
    """Names from IM platforms and texts from models may hold lone surrogates (half an
    emoji), which UTF-8 cannot carry: such a body is sent \\u-escaped, still valid JSON,
    instead of failing with a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


def error_responses(*codes: int, json_only: bool = False) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route (401 and 403 come from the guard).

    "4XX" also keeps FastAPI from documenting a 422 that our handler never sends (400).
    ``json_only`` is for a route whose own answer is not JSON (the CSV export): FastAPI
    documents an error ``model`` in the route's media type, so the schema is spelled out.
    """
    if json_only:
        content = {"application/json": {"schema": ErrorOut.model_json_schema()}}
        return {code: {"content": content} for code in (401, 403, *codes, "4XX")}
    return {code: {"model": ErrorOut} for code in (401, 403, *codes, "4XX")}


# The operations on one session; ``session_links`` points answers that name a session
# at them (OpenAPI links: what a client, or schemathesis's stateful phase, follows).
SESSION_OPERATIONS = (
    "get_session",
    "get_override",
    "put_override",
    "delete_override",
    "trigger_session",
    "session_reschedule",
    "session_pause",
    "session_resume",
    "session_cancel",
)


def session_links(pointer: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """Links from an answer whose JSON names a session at ``pointer`` to every operation
    on that session."""
    umo = {"umo": f"$response.body#{pointer}"}
    links = {name: {"operationId": name, "parameters": umo} for name in SESSION_OPERATIONS}
    return {status: {"links": links}}


SORT_FIELDS = (
    "next_at",
    "last_activity_at",
    "last_user_at",
    "last_bot_at",
    "created_at",
    "unanswered",
    "sent_total",
    "name",
    "umo",
    "kind",
    "phase",
)
TEXT_FIELDS = frozenset({"name", "umo", "kind", "phase"})
SortParam = Literal[
    "next_at",
    "-next_at",
    "last_activity_at",
    "-last_activity_at",
    "last_user_at",
    "-last_user_at",
    "last_bot_at",
    "-last_bot_at",
    "created_at",
    "-created_at",
    "unanswered",
    "-unanswered",
    "sent_total",
    "-sent_total",
    "name",
    "-name",
    "umo",
    "-umo",
    "kind",
    "-kind",
    "phase",
    "-phase",
]


# --- the router ---------------------------------------------------------------------------


def build_engine_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["engine"], default_response_class=SafeJSONResponse)

    @router.get("/status", response_model=StatusOut, responses=error_responses())
    async def status(request: Request) -> dict[str, Any]:
        """Always 200, so the panel can render: ``running: false`` and ``engine_problem``
        say why when there is no engine."""
        deps = request.app.state.deps
        return await status_body(deps, getattr(deps.service, "engine", None))

    @router.get(
        "/sessions",
        response_model=SessionPage,
        responses=error_responses(400, 503) | session_links("/items/0/umo"),
    )
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

    # The suffixed routes come first: ``{umo:path}`` would swallow the suffix otherwise.
    @router.get(
        "/sessions/{umo:path}/override",
        response_model=OverrideView,
        responses=error_responses(400, 503) | session_links("/umo"),
        operation_id="get_override",
    )
    async def get_override(request: Request, umo: str) -> dict[str, Any]:
        engine = require_engine(request)
        return override_view(engine, umo, umo_kind(umo))

    @router.put(
        "/sessions/{umo:path}/override",
        response_model=OverrideView,
        responses=error_responses(400, 409, 413, 503) | session_links("/umo"),
        operation_id="put_override",
    )
    async def put_override(
        request: Request, umo: str, body: Annotated[dict[str, Any], Body()]
    ) -> dict[str, Any]:
        engine = require_engine(request)
        kind = umo_kind(umo)
        refuse_lone_surrogates(body)
        cleaned, errors = validate_override(body, kind)
        if errors:
            raise PanelError(400, "invalid_settings", "; ".join(errors[:5]), errors=errors)
        await engine.set_override(umo, cleaned)
        return override_view(engine, umo, kind)

    @router.delete(
        "/sessions/{umo:path}/override",
        response_model=OverrideView,
        responses=error_responses(400, 503) | session_links("/umo"),
        operation_id="delete_override",
    )
    async def delete_override(request: Request, umo: str) -> dict[str, Any]:
        engine = require_engine(request)
        kind = umo_kind(umo)
        if umo in engine.overrides:  # nothing to reset otherwise: no journal, no session
            await engine.set_override(umo, {})
        return override_view(engine, umo, kind)

    @router.post(
        "/sessions/{umo:path}/trigger",
        status_code=202,
        response_model=Accepted,
        responses=error_responses(400, 409, 503) | session_links("/umo", 202),
        operation_id="trigger_session",
    )
    async def trigger(request: Request, umo: str) -> dict[str, Any]:
        """Queue "send now"; the outcome shows in the journal (and on /ws/events)."""
        engine = require_engine(request)
        umo_kind(umo)
        engine.request_trigger(umo)
        return {"accepted": True, "umo": umo}

    for action, method_name in (
        ("reschedule", "reschedule"),
        ("pause", "pause"),
        ("resume", "resume"),
        ("cancel", "cancel_plan"),
    ):
        _add_action(router, action, method_name)

    @router.get(
        "/sessions/{umo:path}",
        response_model=SessionView,
        responses=error_responses(400, 404, 503) | session_links("/umo"),
        operation_id="get_session",
    )
    async def get_session(request: Request, umo: str) -> dict[str, Any]:
        engine = require_engine(request)
        umo_kind(umo)
        state = engine.sessions.get(umo)
        if state is None:
            raise PanelError(404, "unknown_session", f"no session {umo!r} is known")
        return engine.session_view(state)

    @router.get(
        "/journal",
        response_model=JournalPage,
        responses=error_responses(400, 503) | session_links("/items/0/umo"),
    )
    async def journal(
        request: Request,
        flt: JournalFilterParam,
        before_id: int | None = Query(None, ge=1, le=MAX_SQLITE_INT),
        limit: int = Query(50, ge=1, le=MAX_JOURNAL_LIMIT),
    ) -> dict[str, Any]:
        store = require_service(request).store
        return await journal_page(store, flt, before_id=before_id, limit=limit)

    @router.get("/config", response_model=ConfigView, responses=error_responses(503))
    async def get_config(request: Request) -> dict[str, Any]:
        return config_view_body(request)

    @router.put("/config", response_model=ConfigView, responses=error_responses(400, 413, 503))
    async def put_config(request: Request, body: ConfigUpdate) -> dict[str, Any]:
        service = require_service(request)
        raw = body.model_dump(exclude_unset=True)
        refuse_lone_surrogates(raw)
        try:
            errors = await service.update_config(raw)
        except OSError as exc:
            raise PanelError(503, "save_failed", f"the config could not be saved: {exc}") from None
        if errors:
            raise PanelError(400, "invalid_config", "; ".join(errors[:5]), errors=errors)
        if service.engine is not None:  # open config pages reload it (static/js/config.js)
            service.engine.events.publish({"type": "config"})
        return config_view_body(request)

    @router.get("/config/schema", response_model=dict[str, Any], responses=error_responses(503))
    async def config_schema(request: Request) -> dict[str, Any]:
        """``_conf_schema.json`` as AstrBot shows it, minus the password's default."""
        try:
            return await cached_schema(request)
        except (OSError, ValueError) as exc:
            raise PanelError(
                503, "schema_unavailable", f"{SCHEMA_FILE.name} cannot be read: {exc}"
            ) from None

    return router


async def status_body(deps: Any, engine: Any) -> dict[str, Any]:
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
        out["engine_problem"] = service.problem
    if service is not None:
        out["store"] = {"open": service.store.is_open, **service.store.stats}
    return out


def _add_action(router: APIRouter, action: str, method_name: str) -> None:
    async def act(request: Request, umo: str) -> dict[str, Any]:
        engine = require_engine(request)
        umo_kind(umo)
        state = getattr(engine, method_name)(umo)
        return engine.session_view(state)

    act.__name__ = f"session_{action}"
    act.__doc__ = f"``engine.{method_name}(umo)``; returns the session view."
    router.add_api_route(
        f"/sessions/{{umo:path}}/{action}",
        act,
        methods=["POST"],
        response_model=SessionView,
        responses=error_responses(400, 409, 503) | session_links("/umo"),
        name=f"session_{action}",
        operation_id=f"session_{action}",
    )


# --- helpers ------------------------------------------------------------------------------


def require_service(request: Request) -> Any:
    service = request.app.state.deps.service
    if service is None:
        raise PanelError(503, "engine_unavailable", engine_problem(None))
    return service


def require_engine(request: Request) -> Any:
    service = require_service(request)
    engine = service.engine
    if engine is None:
        raise PanelError(503, "engine_unavailable", engine_problem(service))
    return engine


def engine_problem(service: Any) -> str:
    if service is None:
        return "the proactive engine is not loaded in this panel"
    return service.problem or "the proactive engine is not running (starting or stopped)"


async def filter_sessions(
    engine: Any, q: str | None, kind: str | None, served: bool | None
) -> list[SessionState]:
    """The states that match, looked at in chunks so 100,000 sessions never block the loop."""
    states = list(engine.sessions.values())
    needle = q.strip().casefold() if q and q.strip() else None
    if needle is None and kind is None and served is None:
        return states
    matched: list[SessionState] = []
    for index, state in enumerate(states):
        if index % SCAN_CHUNK == SCAN_CHUNK - 1:
            await asyncio.sleep(0)
        if kind is not None and state.kind != kind:
            continue
        if (
            needle is not None
            and needle not in state.umo.casefold()
            and needle not in state.name.casefold()
        ):
            continue
        if served is not None and engine.is_served(state.umo) != served:
            continue
        matched.append(state)
    return matched


def sorted_sessions(states: list[SessionState], sort: str) -> list[SessionState]:
    """Sorted by one field (``-`` = descending); sessions without a value come last.

    Synchronous on purpose: the values cannot change between the split and the sort.
    The sort reads each key once (C ``attrgetter``) and builds no per-item tuples,
    which keeps 100,000 sessions in the tens of milliseconds.
    """
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in SORT_FIELDS:
        raise PanelError(400, "bad_request", f"sort: unknown field {field!r}")
    get = operator.attrgetter(field)
    present = [state for state in states if get(state) not in (None, "")]
    if len(present) < len(states):
        missing = [state for state in states if get(state) in (None, "")]
    else:
        missing = []
    key = _casefolded(get) if field in TEXT_FIELDS else get
    present.sort(key=key, reverse=descending)
    return present + missing


def _casefolded(get: Callable[[SessionState], str]) -> Callable[[SessionState], str]:
    return lambda state: get(state).casefold()


def override_view(engine: Any, umo: str, kind: str) -> dict[str, Any]:
    settings = engine.settings
    shared = dict(settings.group_dict if kind == "group" else settings.friend_dict)
    shared.pop("session_list", None)
    override = engine.overrides.get(umo) or {}
    effective, _ = normalize_kind_dict(merge_override(shared, override), kind)
    effective.pop("session_list", None)
    return {
        "umo": umo,
        "kind": kind,
        "global": shared,
        "override": override,
        "effective": effective,
    }


def config_view_body(request: Request) -> dict[str, Any]:
    deps = request.app.state.deps
    view = require_service(request).config_view()
    web = deps.settings
    view["web_admin"] = {
        "enabled": web.enabled,
        "host": web.host,
        "port": web.port,
        "allowed_hosts": list(web.allowed_hosts),
        "log_buffer_size": web.log_buffer_size,
        "session_hours": web.session_hours,
        "password_set": bool(web.password),
        "read_only": True,
        "note": WEB_ADMIN_NOTE,
    }
    return view


async def cached_schema(request: Request) -> dict[str, Any]:
    """``read_schema`` once per app (off the loop), shared by the API and the pages.
    Raises ``OSError`` / ``ValueError`` when the file cannot be read; the next call retries."""
    state = request.app.state
    cached = getattr(state, "conf_schema", None)
    if cached is None:
        cached = await asyncio.to_thread(read_schema, SCHEMA_FILE)
        state.conf_schema = cached
    return cached


def read_schema(path: Path) -> dict[str, Any]:
    schema = json.loads(path.read_text(encoding="utf-8-sig"))
    if not isinstance(schema, dict):
        raise ValueError("it is not a JSON object")
    password = schema.get("web_admin", {}).get("items", {}).get("password")
    if isinstance(password, dict):
        password.pop("default", None)
    return schema
