"""The proactive-chat engine: who is served, when to speak, and what happened.

All session state lives in memory (``SessionState`` per session) and is persisted by
the ``SessionStore`` in batches; the per-message path is a few dict operations and
one heap push, with no I/O. One ``TriggerScheduler`` holds every plan. Due sessions
go through a small, fixed pool of workers, so a burst of due plans never turns into
a burst of tasks.

Delivery is at most once: a plan stays in the store while the message is being
written (a reload or crash then restores it and it fires again soon), and is marked
consumed, with a flush, right before the message is handed to the platform.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Protocol

from ..adapters.sender import platform_advice
from ..constants import LOG_PREFIX
from ..umo import GROUP, kind_of, parse_umo, platform_of
from .config import effective_settings
from .errors import EngineStopped, InvalidRequest, SessionBusy, SessionPaused
from .event_hub import EventHub
from .failure_log import FailureLog, model_source, platform_source
from .models import (
    PHASE_CAPPED,
    PHASE_IDLE,
    PHASE_PLANNED,
    PHASE_SILENCE,
    JournalEntry,
    PluginSettings,
    SessionSettings,
    SessionState,
)
from .planning import (
    is_capped,
    plan_after,
    retry_delay_seconds,
    shift_out_of_quiet,
    spread_missed,
)
from .prompt_template import describe_elapsed, fill_prompt, format_local_time
from .scheduler import TriggerScheduler

logger = logging.getLogger("astrbot")

WORKERS = 2
SEND_GRACE_SECONDS = 2.0  # how long stop() lets a message already being sent finish
READY_POLL_SECONDS = 0.5
READY_MAX_WAIT_SECONDS = 120.0
RESTORE_CHUNK = 1000  # sessions handled per loop turn at start (keeps the loop free)
SESSION_EVENT_INTERVAL = 0.5
USER_SPOKE = "the user spoke while the message was being written"
STOPPED_BEFORE_SENT = (
    "not sent: the plugin stopped (reload or shutdown) before the message was written; "
    "press send now again"
)
STORE_NOT_SAVED = (
    "not sent: the plugin's store could not save the plan first (see the warning in "
    "the log), and sending without it could send the message twice"
)


class Composer(Protocol):
    async def compose(self, umo: str, settings: SessionSettings, prompt: str) -> Any: ...
    async def remember(self, umo: str, conversation_id: str | None, text: str) -> None: ...


class Sender(Protocol):
    def platform_problem(self, umo: str) -> str | None: ...
    async def send(
        self, umo: str, text: str, settings: SessionSettings, *, hurry: asyncio.Event | None
    ) -> Any: ...


class Store(Protocol):
    async def load_sessions(self) -> list[SessionState]: ...
    async def load_overrides(self) -> dict[str, dict]: ...
    def put_session(self, state: SessionState) -> None: ...
    def append_journal(self, entry: JournalEntry) -> JournalEntry: ...
    async def flush(self) -> bool: ...
    async def save_override(self, umo: str, data: dict) -> None: ...
    async def delete_override(self, umo: str) -> None: ...


@dataclass(slots=True)
class _Delivery:
    fired_at: float
    compose_task: asyncio.Task | None = None
    sending: bool = False
    manual: bool = False
    done: asyncio.Event | None = None
    cancel_reason: str = ""


class ProactiveEngine:
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
    ) -> None:
        self.settings = settings
        self.store = store
        self.composer = composer
        self.sender = sender
        self.clock = clock
        self.rng = rng or random.Random()
        self.timezone = timezone
        self.events = events or EventHub()
        self._is_ready = is_ready
        self._ready = asyncio.Event()
        self.sessions: dict[str, SessionState] = {}
        self.overrides: dict[str, dict] = {}
        self._effective: dict[str, SessionSettings] = {}
        self._failures: dict[str, int] = {}  # failures in a row per session (back-off)
        self.failure_log = FailureLog()
        self._deliveries: dict[str, _Delivery] = {}
        self._due: collections.deque[str] = collections.deque()
        self._due_set: set[str] = set()
        self._manual: set[str] = set()
        self._due_signal = asyncio.Event()
        self._hurry = asyncio.Event()
        self._changed: set[str] = set()
        self.scheduler = TriggerScheduler(self._on_due, clock=clock)
        self._tasks: list[asyncio.Task] = []
        self.started_at: float | None = None
        self.ready_at: float | None = None
        self.running = False
        self.counters: collections.Counter[str] = collections.Counter()

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Load the store; plans are restored once AstrBot's platforms are up."""
        if self.running:
            return
        self.running = True
        self.started_at = self.clock()
        self.overrides = await self.store.load_overrides()
        loaded = await self.store.load_sessions()
        for index, state in enumerate(loaded):
            self.sessions[state.umo] = state
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)
        self._tasks.append(asyncio.create_task(self._restore_when_ready(), name="pc-restore"))
        self._tasks += [
            asyncio.create_task(self._worker(), name=f"pc-worker-{i}") for i in range(WORKERS)
        ]
        self._tasks.append(asyncio.create_task(self._publish_changes(), name="pc-events"))

    def notify_ready(self) -> None:
        """AstrBot's platforms and providers are loaded (``on_platform_loaded``)."""
        self._ready.set()

    async def stop(self) -> None:
        """Stop timers and workers; let a message already going out finish (bounded)."""
        if not self.running:
            return
        self.running = False
        self.scheduler.stop()
        self._hurry.set()
        self._due.clear()
        self._due_set.clear()
        for umo in self._manual:  # accepted "send now" that no worker took yet
            self.journal(umo, "cancelled", STOPPED_BEFORE_SENT)
        self._manual.clear()
        self._due_signal.set()  # idle workers wake up and see running is False
        sending = [d.done for d in self._deliveries.values() if d.sending and d.done]
        for delivery in self._deliveries.values():
            if not delivery.sending and delivery.compose_task is not None:
                delivery.compose_task.cancel()
        if sending:
            waits = [asyncio.ensure_future(done.wait()) for done in sending]
            await asyncio.wait(waits, timeout=SEND_GRACE_SECONDS)
            for waiter in waits:
                waiter.cancel()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        self.events.close()

    # -- settings --------------------------------------------------------------------
    async def apply_settings(self, settings: PluginSettings) -> None:
        """New config, applied live: cached settings dropped, plans of sessions that
        are no longer served are cancelled, newly listed ones get auto-trigger.
        Chunked: 100,000 sessions must not block the loop."""
        self.settings = settings
        self._effective.clear()
        now = self.clock()
        stopped: list[SessionState] = []
        for index, (umo, state) in enumerate(list(self.sessions.items())):
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)
            if not self.is_served(umo):
                self._abort_writing(umo, "switched off while the message was being written")
                if state.phase in (PHASE_PLANNED, PHASE_SILENCE):
                    stopped.append(state)
            elif state.phase == PHASE_CAPPED:
                self._wake(state, self.settings_for(umo, state.kind), "cap raised")
        few = len(stopped) <= 20
        for state in stopped:
            self._set_idle(state, "disabled" if few else None, "the session is no longer served")
        if not few:
            self.journal("", "disabled", f"{len(stopped)} sessions are no longer served")
        if self._ready.is_set() and self.ready_at is not None:
            await self._auto_trigger(now)

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
        if not settings.enable:
            return False
        override = self.overrides.get(umo)
        if override and "enable" in override:
            return True
        listed = self.settings.group_sessions if kind == GROUP else self.settings.friend_sessions
        return listed.contains(umo, umo.split(":", 2)[2])

    # -- the per-message path --------------------------------------------------------
    def on_user_message(self, umo: str, name: str | None = None) -> None:
        """Someone (not the bot) wrote in this session. O(log n), no I/O."""
        kind = kind_of(umo)
        if kind is None:
            return
        state = self.sessions.get(umo)
        settings = self.settings_for(umo, kind)
        if state is None:
            if not self._served(umo, kind, settings):
                return
            state = self._new_state(umo, kind)
        now = self.clock()
        if name and name != state.name:
            state.name = name
        state.last_user_at = now
        state.last_activity_at = now
        self._failures.pop(umo, None)
        self.failure_log.forget(umo)
        self._abort_writing(umo, USER_SPOKE)  # the user spoke first: do not send
        if state.unanswered:
            self.journal(umo, "answered", f"replied after {state.unanswered} message(s)")
            state.unanswered = 0
        if state.paused or not self._served(umo, kind, settings):
            self._touch(state)
            return
        if kind == GROUP:
            self._start_silence(state, settings, now)
        else:
            self._plan(state, settings, now, "user_message")
        self._touch(state)

    def on_bot_message(self, umo: str) -> None:
        """The bot replied in this session (AstrBot's pipeline): groups restart the
        silence; private chats only note the time."""
        state = self.sessions.get(umo)
        if state is None:
            return
        now = self.clock()
        state.last_bot_at = now
        state.last_activity_at = now
        if (
            state.kind == GROUP
            and state.phase in (PHASE_SILENCE, PHASE_PLANNED)
            and not state.paused
        ):
            self._start_silence(state, self.settings_for(umo, GROUP), now)
        self._touch(state)

    # -- planning --------------------------------------------------------------------
    def _new_state(self, umo: str, kind: str) -> SessionState:
        state = SessionState(umo=umo, kind=kind, created_at=self.clock())
        self.sessions[umo] = state
        return state

    def _touch(self, state: SessionState) -> None:
        self.store.put_session(state)
        if self.events.has_subscribers:
            self._changed.add(state.umo)

    def _plan(
        self,
        state: SessionState,
        settings: SessionSettings,
        now: float,
        why: str,
        *,
        extra_seconds: float = 0.0,
        journal: bool = True,
    ) -> None:
        at, moved = plan_after(
            now, settings.schedule, self.timezone, self.rng, extra_seconds=extra_seconds
        )
        self._set_planned(state, at, why, moved=moved, journal=journal)

    def _set_planned(
        self, state: SessionState, at: float, why: str, *, moved: bool = False, journal: bool = True
    ) -> None:
        state.phase = PHASE_PLANNED
        state.next_at = at
        state.next_reason = why
        self.scheduler.schedule(state.umo, at)
        if moved:
            self.journal(state.umo, "quiet_shifted", "moved out of quiet hours", at=at)
        if journal:
            self.journal(state.umo, "planned", why, at=at)

    def _start_silence(self, state: SessionState, settings: SessionSettings, now: float) -> None:
        state.phase = PHASE_SILENCE
        state.next_at = now + settings.group_idle_trigger_minutes * 60.0
        state.next_reason = "group_silence"
        self.scheduler.schedule(state.umo, state.next_at)

    def _set_idle(
        self, state: SessionState, kind: str | None, reason: str, phase: str = PHASE_IDLE
    ) -> None:
        state.phase = phase
        state.next_at = None
        state.next_reason = ""
        self.scheduler.cancel(state.umo)
        if kind:
            self.journal(state.umo, kind, reason)
        self._touch(state)

    def _start_over(self, state: SessionState, settings: SessionSettings, why: str) -> None:
        """Plan from now as a message would: groups wait for silence, chats plan."""
        if state.kind == GROUP:
            self._start_silence(state, settings, self.clock())
        else:
            self._plan(state, settings, self.clock(), why)

    def _wake(self, state: SessionState, settings: SessionSettings, why: str) -> None:
        """An idle or capped session that may speak again (it was switched on, or its
        cap was raised) gets a plan; one already planned keeps it."""
        if state.paused or state.phase not in (PHASE_IDLE, PHASE_CAPPED):
            return
        if is_capped(state.unanswered, settings.schedule):
            return
        self._start_over(state, settings, why)
        self._touch(state)

    # -- firing ----------------------------------------------------------------------
    def _on_due(self, umo: str) -> None:
        state = self.sessions.get(umo)
        if state is None:
            return
        now = self.clock()
        if umo in self._deliveries:
            # A message for this session is underway; it plans what comes next itself.
            # Keep this plan alive a minute in case that one fails early.
            state.next_at = now + 60.0
            self.scheduler.schedule(umo, state.next_at)
            return
        if state.phase == PHASE_SILENCE:
            self._plan(state, self.settings_for(umo, state.kind), now, "group_silence")
            self._touch(state)
            return
        if state.phase != PHASE_PLANNED or umo in self._due_set:
            return
        self._due.append(umo)
        self._due_set.add(umo)
        self._due_signal.set()

    async def _worker(self) -> None:
        while self.running:
            while not self._due:
                self._due_signal.clear()
                await self._due_signal.wait()
            umo = self._due.popleft()
            self._due_set.discard(umo)
            manual = umo in self._manual
            self._manual.discard(umo)
            if not manual and not self._still_due(umo):
                continue  # the user spoke, or the plan was moved or cancelled meanwhile
            try:
                await self.deliver(umo, manual=manual)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s Delivery to %s failed unexpectedly", LOG_PREFIX, umo)

    def _still_due(self, umo: str) -> bool:
        state = self.sessions.get(umo)
        return (
            state is not None
            and state.phase == PHASE_PLANNED
            and state.next_at is not None
            and state.next_at <= self.clock()
        )

    async def deliver(self, umo: str, *, manual: bool = False) -> str:
        """Write and send one message now. Returns the journal kind of the outcome."""
        state = self.sessions.get(umo)
        if not self.running or state is None or umo in self._deliveries:
            return "skipped"
        settings = self.settings_for(umo, state.kind)
        now = self.clock()
        if not manual:
            if state.paused or not self._served(umo, state.kind, settings):
                self._set_idle(state, "disabled", "not served or paused when the time came")
                return "disabled"
            if is_capped(state.unanswered, settings.schedule):
                self._set_idle(state, "capped", "cap reached", PHASE_CAPPED)
                return "capped"
            at, moved = shift_out_of_quiet(
                now, settings.schedule.quiet_hours, self.timezone, self.rng
            )
            if moved:
                self._set_planned(state, max(at, now + 60.0), "quiet_hours", moved=True)
                self._touch(state)
                return "quiet_shifted"
        delivery = _Delivery(fired_at=now, manual=manual, done=asyncio.Event())
        problem = self.sender.platform_problem(umo)
        if problem is not None:
            return self._failed(
                state,
                settings,
                "platform_skipped",
                problem,
                delivery,
                source=platform_source(umo),
                advice=platform_advice(umo),
            )
        self.journal(umo, "fired", "manual trigger" if manual else state.next_reason or "planned")
        self._deliveries[umo] = delivery
        try:
            return await self._compose_and_send(state, delivery)
        finally:
            if self._deliveries.get(umo) is delivery:
                del self._deliveries[umo]
            delivery.done.set()

    def _abort_writing(self, umo: str, reason: str) -> None:
        """Stop a message still being written for this session (never one being sent)."""
        delivery = self._deliveries.get(umo)
        if delivery is not None and not delivery.sending and delivery.compose_task is not None:
            delivery.cancel_reason = reason
            delivery.compose_task.cancel()

    async def _compose_and_send(self, state: SessionState, delivery: _Delivery) -> str:
        from ..adapters.composer import ComposeError

        umo = state.umo
        settings = self.settings_for(umo, state.kind)
        prompt = self._prompt(state, settings)
        delivery.compose_task = asyncio.ensure_future(self.composer.compose(umo, settings, prompt))
        try:
            result = await delivery.compose_task
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self.running or (task is not None and task.cancelling()):
                # The engine is stopping: a plan stays for the next start, a manual
                # "send now" has none, so say it was not sent.
                if delivery.manual:
                    self.journal(umo, "cancelled", STOPPED_BEFORE_SENT)
                raise
            self.journal(umo, "cancelled", delivery.cancel_reason or "cancelled while writing")
            return "cancelled"
        except ComposeError as exc:
            return self._failed(
                state,
                settings,
                exc.kind,
                exc.reason,
                delivery,
                source=model_source(exc.provider_id),
                advice=exc.advice,
            )
        except Exception as exc:  # a provider or AstrBot raising something unexpected
            reason = f"{type(exc).__name__}: {exc}"[:300]
            return self._failed(
                state,
                settings,
                "llm_failed",
                reason,
                delivery,
                source=model_source(""),
                advice="this looks like a bug; please report it with this log",
                exc_info=exc,
            )
        # Things may have changed while the model was writing.
        settings = self.settings_for(umo, state.kind)
        if (state.last_user_at or 0) > delivery.fired_at:
            self.journal(umo, "cancelled", USER_SPOKE)
            return "cancelled"
        if not delivery.manual and (state.paused or not self._served(umo, state.kind, settings)):
            self.journal(umo, "cancelled", "paused or switched off while it was being written")
            return "cancelled"
        # The message is going out. First consume this plan and write down the next one,
        # durably: a reload or crash during the send then never sends it twice, and
        # never leaves the session without a plan.
        delivery.sending = True
        state.unanswered += 1
        after = self._plan_after_send(state, settings, self.clock())
        self._touch(state)
        if not await self.store.flush():
            state.unanswered -= 1
            # The store has logged why, with what to do, once: journal and retry only.
            return self._failed(
                state, settings, "send_failed", STORE_NOT_SAVED, delivery, log=False
            )
        outcome = await self.sender.send(umo, result.text, settings, hurry=self._hurry)
        now = self.clock()
        user_spoke = (state.last_user_at or 0) > delivery.fired_at
        if not outcome.ok:
            if not user_spoke:
                state.unanswered = max(0, state.unanswered - 1)
            return self._failed(
                state,
                settings,
                outcome.kind,
                outcome.reason,
                delivery,
                source=platform_source(umo),
                advice=outcome.advice,
            )
        self._failures.pop(umo, None)
        self.failure_log.worked(result.provider_id, umo)
        state.last_bot_at = now
        state.last_activity_at = now
        state.sent_total += 1
        self.counters["sent"] += 1
        self.journal(
            umo,
            "sent",
            f"sent ({outcome.parts} part(s){', voice' if outcome.tts else ''})",
            text=result.text[:2000],
            provider=result.provider_id,
            persona=result.persona_id,
            unanswered=state.unanswered,
        )
        if not user_spoke:  # else the user's own message already planned what comes next
            self._journal_next(state, after)
        self._touch(state)
        # The platform has it: the session is free for the next trigger.
        del self._deliveries[umo]
        delivery.done.set()
        await self.composer.remember(umo, result.conversation_id, result.text)
        return "sent"

    def _plan_after_send(self, state: SessionState, settings: SessionSettings, now: float) -> str:
        """Set (without journaling) what follows the message being sent; returns what
        it is: "idle", "capped", "silence", "planned" or "planned_quiet"."""
        self.scheduler.cancel(state.umo)
        state.next_at = None
        state.next_reason = ""
        if state.paused or not self._served(state.umo, state.kind, settings):
            state.phase = PHASE_IDLE
            return "idle"
        if is_capped(state.unanswered, settings.schedule):
            state.phase = PHASE_CAPPED
            return "capped"
        if state.kind == GROUP:
            self._start_silence(state, settings, now)
            return "silence"
        at, moved = plan_after(now, settings.schedule, self.timezone, self.rng)
        state.phase = PHASE_PLANNED
        state.next_at = at
        state.next_reason = "after_proactive"
        self.scheduler.schedule(state.umo, at)
        return "planned_quiet" if moved else "planned"

    def _journal_next(self, state: SessionState, after: str) -> None:
        if after == "capped":
            self.journal(
                state.umo,
                "capped",
                f"{state.unanswered} message(s) unanswered: waiting for a reply",
            )
        elif after.startswith("planned") and state.next_at is not None:
            if after == "planned_quiet":
                self.journal(
                    state.umo, "quiet_shifted", "moved out of quiet hours", at=state.next_at
                )
            self.journal(state.umo, "planned", "after_proactive", at=state.next_at)

    def _failed(
        self,
        state: SessionState,
        settings: SessionSettings,
        kind: str,
        reason: str,
        delivery: _Delivery,
        *,
        source: str = "",
        advice: str = "",
        log: bool = True,
        exc_info: BaseException | None = None,
    ) -> str:
        """Journal a failure and re-plan with back-off (never a tight loop); log it once
        per cause (``source``: what failed). Not re-planned: a manual "send now" for a
        session that is paused or not served, and a session whose user spoke meanwhile
        (their message planned what comes next)."""
        self.counters[kind] += 1
        self.journal(state.umo, kind, reason)
        user_spoke = (state.last_user_at or 0) > delivery.fired_at
        unserved = state.paused or not self._served(state.umo, state.kind, settings)
        retry = not (user_spoke or (delivery.manual and unserved))
        now = self.clock()
        at, moved, failures = now, False, 0
        if retry:
            failures = self._failures.get(state.umo, 0) + 1
            self._failures[state.umo] = failures
            delay = retry_delay_seconds(failures, settings.schedule)
            at, moved = shift_out_of_quiet(
                now + delay, settings.schedule.quiet_hours, self.timezone, self.rng
            )
        if log:
            self.failure_log.failed(
                kind,
                source,
                state.umo,
                reason,
                advice,
                now=now,
                retry_in=at - now if retry else None,
                exc_info=exc_info,
            )
        if not retry:
            if unserved and state.phase in (PHASE_PLANNED, PHASE_SILENCE) and not user_spoke:
                self._set_idle(state, None, "")
            self._touch(state)
            return kind
        self._set_planned(state, at, "retry", moved=moved, journal=False)
        self.journal(state.umo, "retry", f"retry #{failures} after {kind}", at=at)
        self._touch(state)
        return kind

    def _prompt(self, state: SessionState, settings: SessionSettings) -> str:
        now = self.clock()
        last = state.last_user_at or state.last_activity_at
        values = {
            "unanswered_count": state.unanswered,
            "current_time": format_local_time(now, self.timezone),
            "time_since_last_chat": describe_elapsed(now - last if last else None),
            "session_name": state.name or state.umo.split(":", 2)[2],
        }
        return fill_prompt(settings.proactive_prompt, values)

    # -- restore and auto-trigger ----------------------------------------------------
    async def _restore_when_ready(self) -> None:
        waited = 0.0
        while not self._ready.is_set() and waited < READY_MAX_WAIT_SECONDS:
            if self._is_ready is None or self._is_ready():
                break
            try:
                await asyncio.wait_for(self._ready.wait(), READY_POLL_SECONDS)
            except TimeoutError:
                waited += READY_POLL_SECONDS
        self._ready.set()
        await self._restore()
        self.ready_at = self.clock()
        await self._auto_trigger(self.ready_at)
        self.scheduler.start()

    async def _restore(self) -> None:
        now = self.clock()
        window = self.settings.engine.missed_window_minutes * 60.0
        missed: list[SessionState] = []
        restored = replanned = 0
        for index, state in enumerate(list(self.sessions.values())):
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)
            if state.next_at is None or state.phase not in (PHASE_PLANNED, PHASE_SILENCE):
                continue
            if state.next_at > now:
                self.scheduler.schedule(state.umo, state.next_at)
                restored += 1
            elif state.phase == PHASE_SILENCE:  # the silence ended while we were away
                self._plan(state, self.settings_for(state.umo, state.kind), now, "group_silence")
                self._touch(state)
                replanned += 1
            elif now - state.next_at <= window:
                missed.append(state)
            else:
                settings = self.settings_for(state.umo, state.kind)
                self._plan(state, settings, now, "missed_replanned", journal=False)
                self.journal(
                    state.umo,
                    "missed",
                    "missed long ago while the plugin was not running: re-planned",
                    at=state.next_at,
                )
                self._touch(state)
                replanned += 1
        missed.sort(key=lambda s: s.next_at or 0.0)
        spread = spread_missed(now, len(missed), self.rng)
        for index, (state, at) in enumerate(zip(missed, spread, strict=True)):
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)
            state.next_at = at
            self.scheduler.schedule(state.umo, at)
            self.journal(
                state.umo,
                "missed",
                "missed while the plugin was not running (restart or reload): sending soon",
                at=at,
            )
            self._touch(state)
        if restored or missed or replanned:
            self.journal(
                "",
                "restored",
                f"{restored} plan(s) restored, {len(missed)} missed to be sent soon, "
                f"{replanned} re-planned",
            )
            logger.info(
                "%s Restored %d plan(s); %d missed while down will be sent soon, %d re-planned.",
                LOG_PREFIX,
                restored,
                len(missed),
                replanned,
            )

    async def _auto_trigger(self, now: float) -> None:
        """Plan once for listed sessions that stayed silent since start. Only kinds
        with auto-trigger on are walked (plus sessions with an override), in chunks."""
        settings = self.settings
        walks = [
            (kind, listed.umos)
            for kind, kind_settings, listed in (
                (GROUP, settings.group, settings.group_sessions),
                ("friend", settings.friend, settings.friend_sessions),
            )
            if kind_settings.auto_trigger_enabled
        ]
        for kind, umos in walks:
            for index, umo in enumerate(umos):
                self._auto_trigger_one(umo, kind, now)
                if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                    await asyncio.sleep(0)
        for umo in list(self.overrides):
            if kind := kind_of(umo):
                self._auto_trigger_one(umo, kind, now)

    def _auto_trigger_one(self, umo: str, kind: str, now: float) -> None:
        settings = self.settings_for(umo, kind)
        if not settings.auto_trigger_enabled or not self._served(umo, kind, settings):
            return
        state = self.sessions.get(umo)
        if state is not None and (state.phase != PHASE_IDLE or state.paused or state.next_at):
            return
        if (
            state is not None
            and state.last_activity_at
            and state.last_activity_at > (self.started_at or 0)
        ):
            return
        state = state or self._new_state(umo, kind)
        at = now + settings.auto_trigger_after_minutes * 60.0
        at, moved = shift_out_of_quiet(at, settings.schedule.quiet_hours, self.timezone, self.rng)
        self._set_planned(state, at, "auto_trigger", moved=moved, journal=False)
        self.journal(
            umo,
            "auto_trigger",
            f"no activity since start: planned in {settings.auto_trigger_after_minutes} min",
            at=at,
        )
        self._touch(state)

    # -- journal and events ----------------------------------------------------------
    def journal(self, umo: str, kind: str, reason: str, **detail: Any) -> JournalEntry:
        entry = self.store.append_journal(JournalEntry(self.clock(), umo, kind, reason, detail))
        if self.events.has_subscribers:
            self.events.publish({"type": "journal", "entry": journal_dict(entry)})
        return entry

    async def _publish_changes(self) -> None:
        while True:
            await asyncio.sleep(SESSION_EVENT_INTERVAL)
            if not self._changed:
                continue
            changed, self._changed = self._changed, set()
            if not self.events.has_subscribers:
                continue
            for umo in list(changed)[:200]:
                state = self.sessions.get(umo)
                if state is not None:
                    self.events.publish({"type": "session", "session": self.session_view(state)})
            if len(changed) > 200:
                self.events.publish({"type": "sessions_changed", "count": len(changed)})

    # -- admin actions ---------------------------------------------------------------
    def _require(self, umo: str) -> SessionState:
        try:
            parsed = parse_umo(umo)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from exc
        state = self.sessions.get(umo)
        if state is None:
            state = self._new_state(umo, parsed.kind)
        return state

    def request_trigger(self, umo: str) -> None:
        """Queue "send now" for the workers (returns at once; the journal tells the
        outcome). Raises EngineError for a bad UMO or a message already underway."""
        if not self.running:
            raise EngineStopped("the engine is not running")
        self._require(umo)
        if umo in self._deliveries or umo in self._manual:
            raise SessionBusy("a message for this session is already being written")
        self.journal(umo, "manual", "send now")
        self._manual.add(umo)
        if umo not in self._due_set:
            self._due.appendleft(umo)
            self._due_set.add(umo)
        self._due_signal.set()

    def reschedule(self, umo: str) -> SessionState:
        state = self._require(umo)
        if state.paused:
            raise SessionPaused("this session is paused: resume it first")
        settings = self.settings_for(umo, state.kind)
        self.journal(umo, "manual", "re-plan")
        self._plan(state, settings, self.clock(), "manual")
        self._touch(state)
        return state

    def plan_at(self, umo: str, at: float) -> SessionState:
        """Move this session's next message to ``at`` (admin action; quiet hours are
        the admin's call here, so they are not applied)."""
        if at != at or at in (float("inf"), float("-inf")):
            raise InvalidRequest("the time must be a number of seconds since 1970")
        state = self._require(umo)
        if state.paused:
            raise SessionPaused("this session is paused: resume it first")
        self.journal(umo, "manual", "moved", at=at)
        self._set_planned(state, max(at, self.clock()), "manual", journal=False)
        self._touch(state)
        return state

    def pause(self, umo: str) -> SessionState:
        state = self._require(umo)
        state.paused = True
        self.journal(umo, "manual", "paused")
        self._abort_writing(umo, "paused while the message was being written")
        self._set_idle(state, None, "")
        return state

    def resume(self, umo: str) -> SessionState:
        state = self._require(umo)
        state.paused = False
        self.journal(umo, "manual", "resumed")
        settings = self.settings_for(umo, state.kind)
        if self._served(umo, state.kind, settings) and not is_capped(
            state.unanswered, settings.schedule
        ):
            self._start_over(state, settings, "resumed")
        self._touch(state)
        return state

    def cancel_plan(self, umo: str) -> SessionState:
        state = self._require(umo)
        self.journal(umo, "manual", "plan cancelled")
        self._abort_writing(umo, "the plan was cancelled while the message was being written")
        self._set_idle(state, None, "")
        return state

    async def set_override(self, umo: str, data: dict) -> None:
        state = self._require(umo)
        if data:
            await self.store.save_override(umo, data)
            self.overrides[umo] = data
        else:
            await self.store.delete_override(umo)
            self.overrides.pop(umo, None)
        self._effective.pop(umo, None)
        self.journal(
            umo, "override", "session settings changed" if data else "session settings reset"
        )
        settings = self.settings_for(umo, state.kind)
        if not self._served(umo, state.kind, settings):
            self._abort_writing(umo, "switched off while the message was being written")
            if state.phase in (PHASE_PLANNED, PHASE_SILENCE):
                self._set_idle(state, "disabled", "the session is no longer served")
        else:
            self._wake(state, settings, "enabled")
        self._touch(state)

    async def set_enabled(self, umo: str, enabled: bool) -> None:
        """``/proactive on|off``: an override of ``enable`` for this session only."""
        override = dict(self.overrides.get(umo) or {})
        override["enable"] = enabled
        await self.set_override(umo, override)

    # -- views -----------------------------------------------------------------------
    def session_view(self, state: SessionState) -> dict[str, Any]:
        settings = self.settings_for(state.umo, state.kind)
        return {
            "umo": state.umo,
            "kind": state.kind,
            "name": state.name,
            "platform": platform_of(state.umo),
            "served": self._served(state.umo, state.kind, settings),
            "paused": state.paused,
            "phase": state.phase,
            "next_at": state.next_at,
            "next_reason": state.next_reason,
            "unanswered": state.unanswered,
            "max_unanswered": settings.schedule.max_unanswered_times,
            "last_user_at": state.last_user_at,
            "last_bot_at": state.last_bot_at,
            "last_activity_at": state.last_activity_at,
            "sent_total": state.sent_total,
            "has_override": bool(self.overrides.get(state.umo)),
            "writing": state.umo in self._deliveries,
        }

    async def status(self) -> dict[str, Any]:
        served = 0
        phases: collections.Counter[str] = collections.Counter()
        for index, (umo, state) in enumerate(list(self.sessions.items())):
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)  # 100,000 sessions must not block the loop
            if self._served(umo, state.kind, self.settings_for(umo, state.kind)):
                served += 1
            phases[state.phase] += 1
        return {
            "running": self.running,
            "ready": self._ready.is_set() and self.ready_at is not None,
            "sessions_known": len(self.sessions),
            "sessions_served": served,
            "planned": phases[PHASE_PLANNED],
            "waiting_for_silence": phases[PHASE_SILENCE],
            "writing": len(self._deliveries),
            "queued": len(self._due),
            "capped": phases[PHASE_CAPPED],
            "next": [{"umo": k, "at": w} for w, k in self.scheduler.upcoming(10)],
            "counters": dict(self.counters),
            "started_at": self.started_at,
        }


def journal_dict(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "umo": entry.umo,
        "kind": entry.kind,
        "reason": entry.reason,
        "detail": entry.detail,
    }
