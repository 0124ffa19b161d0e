"""The proactive-chat engine: who is served, when to speak, and what happened.

All session state lives in memory (``SessionState`` per session) and is persisted by
the ``SessionStore`` in batches; the per-message path is a few dict operations and
one heap push, with no I/O. One ``TriggerScheduler`` holds every plan. Due sessions
go through a small, fixed pool of workers, so a burst of due plans never turns into
a burst of tasks.

Delivery is at most once: a plan stays in the store while the message is being
written (a reload or crash then restores it and it fires again soon), and is marked
consumed, with a flush, right before the message is handed to the platform.

``ProactiveEngine`` is composed here from the parts of ``core/engine/``: state and
lookups (``base``), phase changes (``transitions``), back-off (``retries``), one
message (``delivery``), the workers (``due_queue``), start-up (``restore``), admin
actions (``admin``), views (``views``), the per-message path (``messages``, hot:
every message in every chat) and the chat's recent messages (``chat_context``). This module keeps the lifecycle and live settings.
"""

from __future__ import annotations

import asyncio

from .admin import AdminActions
from .base import RESTORE_CHUNK, journal_dict
from .chat_context import ChatContext, forget_talk
from .delivery import STOPPED_BEFORE_SENT, SWITCHED_OFF
from .forecast import Forecasts
from .messages import Messages
from .models import TIMED_PHASES, JournalKind, Phase, PluginSettings, SessionState
from .preview import Previews
from .restore import Restoring
from .views import Views

__all__ = ["ProactiveEngine", "journal_dict"]

WORKERS = 2
SEND_GRACE_SECONDS = 2.0  # how long stop() lets a message already being sent finish


class ProactiveEngine(AdminActions, Messages, Restoring, Views, ChatContext, Previews, Forecasts):
    """The engine: build it with its ports (see ``EngineBase``), then ``start()``,
    ``notify_ready()`` once AstrBot's platforms are up, and ``stop()``."""

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
        await self._load_habits()
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
        self.apply_pending_messages()  # their plans are kept for the next start
        self.running = False
        self.scheduler.stop()
        self._stop_reweighing()
        self._hurry.set()
        self._due.clear()
        self._due_set.clear()
        for umo in self._manual:  # accepted "send now" that no worker took yet
            self.journal(umo, JournalKind.CANCELLED, STOPPED_BEFORE_SENT)
        self._manual.clear()
        self._due_signal.set()  # idle workers wake up and see running is False
        sending = [d.done for d in self._deliveries.values() if d.sending]
        for delivery in self._deliveries.values():
            if not delivery.sending and delivery.compose_task is not None:
                delivery.compose_task.cancel()
        self._cancel_drafts()
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
        are no longer served are cancelled, newly listed ones the bot has talked with get
        a plan at once (others get auto-trigger). Chunked: 100,000 sessions must not
        block the loop."""
        self.apply_pending_messages()  # judged by the settings they came under
        before = self.settings
        self.settings = settings
        self._effective.clear()
        now = self.clock()
        stopped: list[SessionState] = []
        for index, (umo, state) in enumerate(list(self.sessions.items())):
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)
            if not self.is_served(umo):
                self._abort_writing(umo, SWITCHED_OFF)
                if forget_talk(state):  # what the chat said is kept only while served
                    self._touch(state)
                if state.phase in TIMED_PHASES:
                    stopped.append(state)
            elif state.phase == Phase.CAPPED:
                self._wake(state, self.settings_for(umo, state.kind), "cap raised")
            elif state.phase == Phase.IDLE and state.last_user_at:
                if not self._served_under(before, umo, state.kind):
                    self._newly_listed(state)
            elif state.phase in TIMED_PHASES:
                self._moment_instead(state, self.settings_for(umo, state.kind))
        few = len(stopped) <= 20
        for state in stopped:
            reason = "the session is no longer served"
            self._set_idle(state, JournalKind.DISABLED if few else None, reason)
        if not few:
            self.journal("", JournalKind.DISABLED, f"{len(stopped)} sessions are no longer served")
        if self._ready.is_set() and self.ready_at is not None:
            await self._auto_trigger(now)
