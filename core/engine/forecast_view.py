"""Reading a simulated journal back as the forward view: when the session speaks, and
for each gap, why it does not speak sooner.

The reasons are the engine's own words, read off the entries its code journaled while
simulated (forecast.py): ``interval`` (the drawn wait), ``quiet_hours`` (moved out of
them), ``silence`` (a group waits until it is quiet), ``cue``/``promise`` (a time the
user named or the bot promised), ``learned_sleep``/``habits`` (a plan whose journal
detail says habits shaped it), and for the stretch after the last message
``capped`` (nobody answered), ``idle``, ``paused``, ``not_served``, ``beyond`` (the
next plan is past the horizon) or ``truncated`` (more plans than the view shows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import JournalEntry, JournalKind, Phase, SessionSettings, SessionState

LONG_GAP_SECONDS = 3 * 3600.0  # a gap at least this long is explained on the pages
ASSUMPTIONS = ("nobody_answers", "sends_work", "seeded")
PLAN_REASONS_OF_THEIR_OWN = ("cue", "promise")


@dataclass(slots=True)
class _Segment:
    """What led to the next message since the previous one."""

    why: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    moved: bool = False
    silence: bool = False

    def reasons(self) -> list[str]:
        found = ["silence"] if self.silence else []
        if self.why in PLAN_REASONS_OF_THEIR_OWN:
            found.append(self.why)
        found += _habit_reasons(self.detail)
        if self.moved or self.why == "quiet_hours":
            found.append("quiet_hours")
        return found or ["interval"]


def _habit_reasons(detail: dict[str, Any]) -> list[str]:
    """Whatever the planner journals about learned habits: a rule or detail naming
    sleep is ``learned_sleep``, a rule ``habits`` is ``habits``."""
    words = " ".join(str(v) for v in detail.values()).lower()
    if "sleep" in words:
        return ["learned_sleep"]
    if str(detail.get("rule", "")).startswith("habit"):
        return ["habits"]
    return []


def summarize(
    before: SessionState,
    after: SessionState,
    entries: list[JournalEntry],
    settings: SessionSettings,
    *,
    now: float,
    end: float,
    served: bool,
    truncated: bool,
) -> dict[str, Any]:
    """The view of one session: its messages, the gaps between them and why."""
    segment = _first_segment(before)
    speaks: list[dict[str, Any]] = []
    capped_at: float | None = None
    for entry in entries:
        if entry.kind == JournalKind.PLANNED:
            segment.why, segment.detail = entry.reason, dict(entry.detail)
            segment.silence = segment.silence or entry.reason == "group_silence"
        elif entry.kind == JournalKind.QUIET_SHIFTED:
            segment.moved = True
        elif entry.kind == JournalKind.SENT:
            speaks.append(_speak(entry.at, segment))
            segment = _Segment()
        elif entry.kind == JournalKind.CAPPED:
            capped_at = entry.at
    tail = _tail_reasons(after, segment, served, truncated, capped_at)
    schedule = settings.schedule
    return {
        "umo": before.umo,
        "name": before.name,
        "kind": before.kind,
        "phase": before.phase,
        "served": served,
        "paused": before.paused,
        "from": now,
        "to": end,
        "speaks": speaks,
        "gaps": _gaps(now, end, speaks, tail),
        "capped_at": capped_at,
        "next_after": after.next_at if after.next_at is not None and after.next_at > end else None,
        "truncated": truncated,
        "assumptions": list(ASSUMPTIONS),
        "interval_minutes": [schedule.min_interval_minutes, schedule.max_interval_minutes],
        "quiet_hours": str(schedule.quiet_hours) if schedule.quiet_hours.enabled else "",
        "max_unanswered": schedule.max_unanswered_times,
    }


def _first_segment(state: SessionState) -> _Segment:
    """The plan the session has now, as the real engine made it."""
    if state.phase == Phase.SILENCE:
        return _Segment(why=state.next_reason, silence=True)
    return _Segment(why=state.next_reason if state.phase == Phase.PLANNED else "")


def _speak(at: float, segment: _Segment) -> dict[str, Any]:
    rule = segment.detail.get("rule")
    return {
        "at": at,
        "why": segment.why or "planned",
        "reasons": segment.reasons(),
        "rule": rule if isinstance(rule, str) else None,
    }


def _tail_reasons(
    after: SessionState,
    segment: _Segment,
    served: bool,
    truncated: bool,
    capped_at: float | None,
) -> list[str]:
    """Why nothing more is sent before the horizon."""
    if truncated:
        return ["truncated"]
    if after.paused:
        return ["paused"]
    if not served:
        return ["not_served"]
    if capped_at is not None or after.phase == Phase.CAPPED:
        return ["capped"]
    if after.phase in (Phase.PLANNED, Phase.SILENCE) and after.next_at is not None:
        return ["beyond", *segment.reasons()]
    return ["idle"]


def _gaps(
    now: float, end: float, speaks: list[dict[str, Any]], tail: list[str]
) -> list[dict[str, Any]]:
    """Every stretch without a message: before each one (its reasons), and after the
    last until the horizon (``tail``)."""
    gaps: list[dict[str, Any]] = []
    start = now
    for speak in speaks:
        gaps.append(_gap(start, speak["at"], speak["reasons"]))
        start = speak["at"]
    if end > start:
        gaps.append(_gap(start, end, tail))
    return gaps


def _gap(start: float, stop: float, reasons: list[str]) -> dict[str, Any]:
    length = max(0.0, stop - start)
    return {
        "from": start,
        "to": stop,
        "hours": round(length / 3600.0, 2),
        "reasons": list(reasons),
        "long": length >= LONG_GAP_SECONDS,
    }
