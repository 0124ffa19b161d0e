"""The shapes of the JSON API: what each route answers and accepts. They are the OpenAPI
schema, so a field renamed here is a change of the public API.

``SafeJSONResponse`` renders them: an answer that carries half an emoji from an IM
platform is sent ``\\u``-escaped instead of failing with a 500.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field


class SafeJSONResponse(JSONResponse):
    """Names from IM platforms and texts from models may hold lone surrogates (half an
    emoji), which UTF-8 cannot carry: such a body is sent \\u-escaped, still valid JSON,
    instead of failing with a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


# --- errors ----------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    """Every error: a code, a readable message, sometimes ``errors`` (one per problem)."""

    model_config = ConfigDict(extra="allow")
    error: str
    message: str
    errors: list[str] | None = None


# --- login and live logs (web/api/login.py, web/api/logs.py) ---------------------------------


class LoginOut(BaseModel):
    token: str
    expires_in: int


class MeOut(BaseModel):
    authenticated: bool
    expires_at: float | None
    via: str


class LogsOut(BaseModel):
    first_seq: int
    next_seq: int
    missed: int
    lines: list[dict[str, Any]]


# --- sessions and overrides (web/api/sessions.py, web/api/overrides.py) ---------------------


class PromiseView(BaseModel):
    """The bot's pending promise: the sentence it said, when the message fires
    (``at``, after quiet hours) and the time it named (``promised_at``)."""

    sentence: str
    at: float
    promised_at: float
    rule: str


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
    promise: PromiseView | None = None


class ServeIn(BaseModel):
    """``PUT /api/sessions/{umo}/served``: serve this chat (put it on its kind's
    ``session_list``) or stop."""

    model_config = ConfigDict(extra="forbid")
    served: bool


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


# --- journal (web/api/journal.py) -------------------------------------------------------------


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


# --- status (web/api/status.py) ---------------------------------------------------------------


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
    waiting_for_reply: int = Field(
        0, description="Sessions with a proactive message not answered yet."
    )


class StatusOut(EngineSummary):
    model_config = ConfigDict(extra="allow")
    next: list[NextPlan] = []
    counters: dict[str, int] = {}
    started_at: float | None = None
    store: StoreStats | None = None


# --- config (web/api/config.py) ---------------------------------------------------------------


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


# --- statistics (web/api/stats.py) ------------------------------------------------------------


class DayOut(BaseModel):
    date: str
    sent: int = 0
    answered: int = 0
    capped: int = 0


class DailyOut(BaseModel):
    zone: str
    days: list[DayOut]


class TimelineItem(BaseModel):
    umo: str
    name: str
    kind: Literal["friend", "group", ""]
    at: float
    href: str


class ProviderOut(BaseModel):
    """AstrBot's default chat model: ``ok`` (with its id and model), ``none`` configured,
    or ``unknown`` (AstrBot could not say; ``detail`` tells why)."""

    state: Literal["ok", "none", "unknown"]
    id: str | None = None
    model: str | None = None
    detail: str | None = None


class MissingNameOut(BaseModel):
    """A model or tool the config names that AstrBot does not have."""

    kind: Literal["provider", "tool"]
    name: str
    where: str  # the config key, e.g. friend_settings.tool_settings.whitelist


class OverviewOut(EngineSummary):
    zone: str
    store_error: str | None = None
    today: DayOut | None = None
    stats_error: str | None = None
    timeline: list[TimelineItem] = Field(default_factory=list)
    provider: ProviderOut
    missing: list[MissingNameOut] = Field(default_factory=list)


class HabitsView(BaseModel):
    """A session's learned habits (``learned``: false while nothing is learned yet, and
    then only ``umo`` and ``learned`` are set). Lists hold 168 values, one per hour of
    the week, Monday 00:00 first, in AstrBot's time zone."""

    umo: str
    learned: bool
    enabled: bool | None = None  # schedule_settings.learn_habits of the session
    enough_history: bool | None = None  # the draw is weighted (7 days, 20 active hours)
    since: float | None = None
    active: list[float] | None = None  # decayed hours in which the user wrote
    sent: list[float] | None = None  # decayed proactive messages sent
    answered: list[float] | None = None  # decayed proactive messages answered
    weights: list[float] | None = None  # the draw's weight per hour (null: not enough history)
    sleep: str = ""  # learned sleep, "01–07"
    answer_delay_seconds: int | None = None
