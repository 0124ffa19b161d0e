"""A copy of the engine for one session, on a simulated clock, that touches nothing real.

The forward view (forecast.py) runs the engine's own code on this copy: the same
class, settings, overrides and quiet-hours rules, with the session's state, promise
and noted message deep-copied, and ports that do nothing (a store that only collects
the journal, a composer that writes an empty message at once, a platform that accepts
it). Every container the engine holds becomes the copy's own (a dict keeps only this
session's entry, deep-copied), so whatever another part keeps per session (learned
habits, say) flows into the simulation without leaking back. Objects the engine only
reads (settings, the time zone) are shared.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import random
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from .event_hub import EventHub
from .failure_log import FailureLog
from .models import JournalEntry, SessionSettings, SessionState
from .ports import ComposeResult, PreparedRequest, SendResult
from .quiet_calendar import QuietCalendars
from .scheduler import TriggerScheduler

if TYPE_CHECKING:
    from .base import EngineBase

SIMULATED_PROVIDER = "forecast"
# The engine's runtime parts a copy gets fresh, empty (never a deep copy of a task).
_FRESH_EMPTY = ("_deliveries", "_drafts", "_failures", "_effective", "_tasks")


class SimClock:
    """The simulated time: moved forward by the simulation only."""

    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class JournalSink:
    """The copy's store: keeps journal entries in memory, saves nothing."""

    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []

    async def load_sessions(self) -> list[SessionState]:
        return []

    async def load_overrides(self) -> dict[str, dict]:
        return {}

    def put_session(self, state: SessionState) -> None:
        return None

    def append_journal(self, entry: JournalEntry) -> JournalEntry:
        entry.id = len(self.entries) + 1
        self.entries.append(entry)
        return entry

    async def flush(self) -> bool:
        return True

    async def save_override(self, umo: str, data: dict) -> None:
        return None

    async def delete_override(self, umo: str) -> None:
        return None

    def put_habits(self, umo: str, blob: Callable[[], bytes]) -> None:
        return None

    async def load_habits(self) -> dict[str, bytes]:
        return {}

    async def query_journal(
        self, *, umo: str | None = None, kinds: Collection[str] | None = None, limit: int = 100
    ) -> list[JournalEntry]:
        """The simulated entries, newest first (as the store answers)."""
        found = [
            entry
            for entry in reversed(self.entries)
            if (umo is None or entry.umo == umo) and (kinds is None or entry.kind in kinds)
        ]
        return found[:limit]


class SilentComposer:
    """Writes an empty message at once: the simulation is about when, not what."""

    async def compose(self, umo: str, settings: SessionSettings, prompt: str) -> ComposeResult:
        return ComposeResult("", SIMULATED_PROVIDER, None, None, 1)

    async def remember(self, umo: str, conversation_id: str | None, text: str) -> None:
        return None

    async def prepare(self, umo: str, settings: SessionSettings, prompt: str) -> PreparedRequest:
        return PreparedRequest("", [], prompt, [], "", None, None, [])


class AcceptingSender:
    """A platform that takes every message (the view assumes sends work)."""

    def platform_problem(self, umo: str) -> str | None:
        return None

    async def send(
        self,
        umo: str,
        text: str,
        settings: SessionSettings,
        *,
        hurry: asyncio.Event | None,
        pictures: tuple[str, ...] = (),
    ) -> SendResult:
        return SendResult(True, "sent", parts=1)


def shadow_of[E: EngineBase](
    engine: E, umo: str, now: float, seed: int
) -> tuple[E, SimClock, JournalSink]:
    """A copy of ``engine`` for ``umo`` alone, at ``now`` on its own clock, drawing from
    ``random.Random(seed)``; with its planned time (if any) on its own scheduler."""
    shadow = copy.copy(engine)
    for name, value in vars(engine).items():
        setattr(shadow, name, _own(name, value, umo))
    clock, sink = SimClock(now), JournalSink()
    shadow.store, shadow.clock, shadow.rng = sink, clock, random.Random(seed)
    shadow.composer, shadow.sender = SilentComposer(), AcceptingSender()
    shadow.events, shadow.failure_log = EventHub(), FailureLog()
    shadow.quiet = QuietCalendars(engine.timezone)
    shadow.scheduler = TriggerScheduler(shadow._on_due, clock=clock)
    shadow._batch_timer = None
    shadow._habit_refresh, shadow._habit_refresh_timer = {}, None
    shadow._habit_refresh_live = False  # the forecast draws with today's learned habits
    shadow.running = True
    state = shadow.sessions.get(umo)
    if state is not None and state.next_at is not None:
        shadow.scheduler.schedule(umo, state.next_at)
    return shadow, clock, sink


def _own(name: str, value: Any, umo: str) -> Any:
    """The copy's own version of one engine attribute."""
    if name in _FRESH_EMPTY:
        return type(value)()
    if isinstance(value, collections.Counter):
        return collections.Counter()
    if isinstance(value, dict):
        if umo in value:
            return {umo: copy.deepcopy(value[umo])}
        # Keyed by session (sessions, overrides, ...): none for this one. Else a copy.
        return {} if _keyed_by_session(value) else dict(value)
    if isinstance(value, set | list | collections.deque):
        return type(value)()
    if isinstance(value, asyncio.Event):
        fresh = asyncio.Event()
        if value.is_set():
            fresh.set()
        return fresh
    return value


def _keyed_by_session(mapping: dict) -> bool:
    """Whether the keys are UMOs (``platform:Kind:id``), judged by the first one: a
    map of every session is never copied whole (100,000 sessions)."""
    first = next(iter(mapping), None)
    return first is None or (isinstance(first, str) and first.count(":") >= 2)
