"""The engine's state, and the lookups every part of it uses.

``EngineBase`` holds what one ``ProactiveEngine`` owns (sessions, overrides, the due
queue, messages underway, the scheduler) and answers the questions asked on every
path: which settings apply to a session, whether it is served, and what goes into
the journal. The other parts (``transitions``, ``retries``, ``delivery``,
``due_queue``, ``restore``, ``admin``, ``views``) are mixins over this base, composed
in ``engine.py``; none of them keeps state of its own.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from collections.abc import Callable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from ..umo import GROUP, kind_of, session_id_of
from .analysis.budget import HourlyBudget
from .analysis.queue import AnalysisQueue
from .config import effective_settings
from .event_hub import EventHub
from .failure_log import FailureLog
from .habits import HabitProfile
from .local_hours import LocalHours
from .models import JournalEntry, PluginSettings, SessionSettings, SessionState
from .ports import Analyst, Composer, Sender, Store
from .quiet_calendar import QuietCalendars
from .scheduler import TriggerScheduler

if TYPE_CHECKING:
    from .cues import Cue
    from .delivery import InFlight
    from .models import MomentSettings
    from .moment_calendar import LocalDays, Moment

RESTORE_CHUNK = 1000  # sessions handled per loop turn in long walks (keeps the loop free)


class EngineBase:
    def __init__(
        self,
        *,
        settings: PluginSettings,
        store: Store,
        composer: Composer,
        sender: Sender,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        timezone: tzinfo | None = None,
        is_ready: Callable[[], bool] | None = None,
        events: EventHub | None = None,
        analyst: Analyst | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.composer = composer
        self.sender = sender
        self.clock = clock
        self.rng = rng or random.Random()
        self.timezone = timezone
        self.quiet = QuietCalendars(timezone)  # quiet hours in O(1) on the message path
        self.events = events or EventHub()
        self._is_ready = is_ready
        self._ready = asyncio.Event()
        self.sessions: dict[str, SessionState] = {}
        self.overrides: dict[str, dict] = {}
        self._effective: dict[str, SessionSettings] = {}
        self._failures: dict[str, int] = {}  # failures in a row per session (back-off)
        self.failure_log = FailureLog()
        self._deliveries: dict[str, InFlight] = {}
        self._due: collections.deque[str] = collections.deque()
        self._due_set: set[str] = set()
        self._manual: set[str] = set()
        self._due_signal = asyncio.Event()
        self._hurry = asyncio.Event()
        self._changed: set[str] = set()
        # Messages noted by the handler, planned in the next batch (messages.py).
        self._pending_messages: dict[str, tuple[float, str]] = {}  # umo -> (time, text)
        self._batch_timer: asyncio.TimerHandle | None = None
        self._init_timing_state(analyst)
        self.scheduler = TriggerScheduler(self._on_due, clock=clock)
        self._tasks: list[asyncio.Task] = []
        self.started_at: float | None = None
        self.ready_at: float | None = None
        self.running = False
        self.counters: collections.Counter[str] = collections.Counter()
        # Learned habits per session (habit_learning.py), and local hours for them.
        self.habits: dict[str, HabitProfile] = {}
        self.local_hours = LocalHours(timezone)
        self._habit_detail: dict[str, dict[str, Any]] = {}  # the next "planned" entry's
        # Profiles whose weights are a day old, re-weighed off the message path.
        self._habit_refresh: dict[str, None] = {}
        self._habit_refresh_timer: asyncio.TimerHandle | None = None
        self._habit_refresh_live = True  # False on a forecast's copy: it keeps today's

    def _init_timing_state(self, analyst: Analyst | None) -> None:
        """What the timing features keep per session: promises, moments, the analysis
        model's queue and budget, drafts."""
        # The bot's pending promise per session: (planned time, the promise) (promises.py).
        self._promises: dict[str, tuple[float, Cue]] = {}
        # Daily moments (moments.py): the planned moment per session (day ordinal, moment),
        # the next moment per set of moments, and the zone's local days.
        self._moment_plans: dict[str, tuple[int, Moment]] = {}
        self._moment_cache: dict[int, tuple[MomentSettings, tuple[float, int, Moment] | None]] = {}
        self._local_days: LocalDays | None = None
        # The analysis model's questions, budget and workers (analysed.py).
        self.analyst = analyst
        self._analysis = AnalysisQueue()
        self._analysis_budget = HourlyBudget()
        self._analysis_warned: set[str] = set()
        self._analysis_workers: list[asyncio.Task] = []
        # Drafts being written, one per session at most (preview.py).
        self._drafts: dict[str, asyncio.Task] = {}

    def _on_due(self, umo: str) -> None:
        """The scheduler's callback: a plan's time came (``DueQueue`` answers it)."""
        raise NotImplementedError

    def _apply_pending_for(self, umo: str) -> bool:
        """Plan after this session's noted message now (``Messages`` answers it)."""
        raise NotImplementedError

    # -- settings --------------------------------------------------------------------
    def settings_for(self, umo: str, kind: str | None = None) -> SessionSettings:
        kind = kind or kind_of(umo) or "friend"
        override = self.overrides.get(umo)
        if not override:
            return self.settings.group if kind == GROUP else self.settings.friend
        cached = self._effective.get(umo)
        if cached is None:
            cached = effective_settings(self.settings, kind, override)
            self._effective[umo] = cached
        return cached

    def is_served(self, umo: str) -> bool:
        kind = kind_of(umo)
        if kind is None:
            return False
        return self._served(umo, kind, self.settings_for(umo, kind))

    def _served(self, umo: str, kind: str, settings: SessionSettings) -> bool:
        return self._listed_and_on(self.settings, umo, kind, settings)

    def _served_under(self, settings: PluginSettings, umo: str, kind: str) -> bool:
        """Whether ``umo`` is served under ``settings`` (another config than the one in
        effect) with the overrides in effect."""
        override = self.overrides.get(umo)
        if override:
            session = effective_settings(settings, kind, override)
        else:
            session = settings.group if kind == GROUP else settings.friend
        return self._listed_and_on(settings, umo, kind, session)

    def _listed_and_on(
        self, plugin: PluginSettings, umo: str, kind: str, session: SessionSettings
    ) -> bool:
        """Served: the kind is on and the chat is listed (or an old per-chat switch)."""
        if not session.enable:
            return False
        override = self.overrides.get(umo)
        if override and "enable" in override:
            return True
        listed = plugin.group_sessions if kind == GROUP else plugin.friend_sessions
        return listed.contains(umo, session_id_of(umo))

    # -- session records -------------------------------------------------------------
    def _new_state(self, umo: str, kind: str) -> SessionState:
        state = SessionState(umo=umo, kind=kind, created_at=self.clock())
        self.sessions[umo] = state
        return state

    def _touch(self, state: SessionState) -> None:
        self.store.put_session(state)
        if self.events.has_subscribers:
            self._changed.add(state.umo)

    # -- journal ---------------------------------------------------------------------
    def journal(self, umo: str, kind: str, reason: str, **detail: Any) -> JournalEntry:
        entry = self.store.append_journal(JournalEntry(self.clock(), umo, kind, reason, detail))
        if self.events.has_subscribers:
            self.events.publish({"type": "journal", "entry": journal_dict(entry)})
        return entry


def journal_dict(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "umo": entry.umo,
        "kind": entry.kind,
        "reason": entry.reason,
        "detail": entry.detail,
    }
