"""The shapes of the "see it before it happens" answers: the preview of a session's
request, a draft, and the forward view (web/api/foresight.py). Part of the OpenAPI
schema like web/api/models.py."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class PreviewMessage(BaseModel):
    role: str
    content: Any  # text; a persona's dialogs may carry AstrBot's richer parts


class PreviewProblem(BaseModel):
    kind: str
    reason: str
    advice: str


class PreviewOut(BaseModel):
    """The messages the model would get now, in order (system, history, prompt), and
    which models and tools would be used. Secret-looking values are masked."""

    model_config = ConfigDict(extra="allow")
    umo: str
    at: float
    prompt: str
    messages: list[PreviewMessage]
    providers: list[str]
    model: str
    persona: str | None
    conversation_id: str | None
    tools: list[str]
    missing: list[str]
    problem: PreviewProblem | None


class DraftOut(BaseModel):
    """One message written and not sent (journaled as ``draft``); ``ok`` false with
    ``reason`` (and ``advice``) when none could be written."""

    umo: str
    ok: bool
    text: str
    declined: bool
    provider: str
    model: str
    persona: str | None
    pictures: int
    reason: str | None
    advice: str | None


class ForecastSpeak(BaseModel):
    at: float
    why: str  # the plan's reason (the journal's words)
    reasons: list[str]  # why not sooner: interval, quiet_hours, silence, cue, ...
    rule: str | None


class SessionForecast(BaseModel):
    """One likely future of a session (seeded draws), assuming nobody answers."""

    model_config = ConfigDict(extra="allow")
    umo: str
    name: str
    kind: str
    phase: str
    served: bool
    paused: bool
    to: float
    speaks: list[ForecastSpeak]
    gaps: list[dict[str, Any]]  # {from, to, hours, reasons, long}; the last runs to ``to``
    capped_at: float | None
    next_after: float | None
    truncated: bool
    assumptions: list[str]
    interval_minutes: list[int]
    quiet_hours: str
    max_unanswered: int


class ForecastPage(BaseModel):
    items: list[SessionForecast]
    total: int
    page: int
    size: int
    days: int
