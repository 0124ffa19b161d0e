"""Plans brought back at start, and auto-trigger for sessions that stayed silent.

Restoring waits until AstrBot's platforms are up (bounded), then reschedules every
stored plan: one still ahead keeps its time, one missed by less than
``missed_window_minutes`` is sent soon (spread, never a burst), an older one is
re-planned. Walks over all sessions yield to the loop every ``RESTORE_CHUNK``.
A plan kept for the bot's promise gets its sentence back from the journal
(promises.py), so the model is still told what it promised.
"""

from __future__ import annotations

import asyncio

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from ..umo import FRIEND, GROUP, kind_of
from .base import RESTORE_CHUNK
from .models import TIMED_PHASES, JournalKind, Phase, SessionState
from .moments import MOMENT
from .planning import spread_missed
from .promises import PROMISE, recovered_promise
from .transitions import Transitions

READY_POLL_SECONDS = 0.5
READY_MAX_WAIT_SECONDS = 120.0


class Restoring(Transitions):
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
        promised: list[SessionState] = []
        restored = replanned = 0
        for index, state in enumerate(list(self.sessions.values())):
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)
            if state.next_at is None or state.phase not in TIMED_PHASES:
                continue
            if state.next_reason == MOMENT:  # which moment, before its time may change
                self._recall_moment(state, self.settings_for(state.umo, state.kind))
            if state.next_reason == PROMISE:
                promised.append(state)
            if state.next_at > now:
                self.scheduler.schedule(state.umo, state.next_at)
                self._moment_instead(state, self.settings_for(state.umo, state.kind))
                restored += 1
            elif state.phase == Phase.SILENCE:  # the silence ended while we were away
                self._plan(state, self.settings_for(state.umo, state.kind), now, "group_silence")
                self._touch(state)
                replanned += 1
            elif now - state.next_at <= window:
                missed.append(state)
            else:
                self._replan_missed(state, now)
                replanned += 1
        await self._send_missed_soon(missed, now)
        await self._recover_promises(promised)
        if restored or missed or replanned:
            self.journal(
                "",
                JournalKind.RESTORED,
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

    async def _recover_promises(self, promised: list[SessionState]) -> None:
        """The promises the stored plans keep, read back from the journal (a missed
        one sent soon keeps its promise; one re-planned lost it)."""
        for state in promised:
            if state.next_reason != PROMISE or state.next_at is None:
                continue
            try:
                cue = await recovered_promise(self.store, state.umo)
            except Exception as exc:
                logger.warning(
                    "%s Could not read the bot's promises back from the journal (%s): "
                    "their plans still fire, without the sentence.",
                    LOG_PREFIX,
                    exc,
                )
                return
            if cue is not None:
                self._promises[state.umo] = (state.next_at, cue)

    def _replan_missed(self, state: SessionState, now: float) -> None:
        """A plan missed long ago: too late to send now, so plan afresh."""
        settings = self.settings_for(state.umo, state.kind)
        self._plan(state, settings, now, "missed_replanned", journal=False)
        self.journal(
            state.umo,
            JournalKind.MISSED,
            "missed long ago while the plugin was not running: re-planned",
            at=state.next_at,
        )
        self._touch(state)

    async def _send_missed_soon(self, missed: list[SessionState], now: float) -> None:
        """Plans missed recently go out soon, oldest first, spread over a few minutes."""
        missed.sort(key=lambda s: s.next_at or 0.0)
        spread = spread_missed(now, len(missed), self.rng)
        for index, (state, at) in enumerate(zip(missed, spread, strict=True)):
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)
            state.next_at = at
            self.scheduler.schedule(state.umo, at)
            self.journal(
                state.umo,
                JournalKind.MISSED,
                "missed while the plugin was not running (restart or reload): sending soon",
                at=at,
            )
            self._touch(state)

    async def _auto_trigger(self, now: float) -> None:
        """Plan once for listed sessions that stayed silent since start. Only kinds
        with auto-trigger on are walked (plus sessions with an override), in chunks."""
        settings = self.settings
        walks = [
            (kind, listed.umos)
            for kind, kind_settings, listed in (
                (GROUP, settings.group, settings.group_sessions),
                (FRIEND, settings.friend, settings.friend_sessions),
            )
            if kind_settings.auto_trigger_enabled
        ]
        for kind, umos in walks:
            for index, umo in enumerate(umos):
                self._auto_trigger_one(umo, kind, now)
                if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                    await asyncio.sleep(0)
        for umo in list(self.overrides):
            if override_kind := kind_of(umo):
                self._auto_trigger_one(umo, override_kind, now)

    def _auto_trigger_one(self, umo: str, kind: str, now: float) -> None:
        settings = self.settings_for(umo, kind)
        if not settings.auto_trigger_enabled or not self._served(umo, kind, settings):
            return
        state = self.sessions.get(umo)
        if state is not None and (state.phase != Phase.IDLE or state.paused or state.next_at):
            return
        if (
            state is not None
            and state.last_activity_at
            and state.last_activity_at > (self.started_at or 0)
        ):
            return
        state = state or self._new_state(umo, kind)
        at = now + settings.auto_trigger_after_minutes * 60.0
        at, moved = self.quiet.shift(at, settings.schedule.quiet_hours, self.rng)
        self._set_planned(state, at, "auto_trigger", moved=moved, journal=False)
        self.journal(
            umo,
            JournalKind.AUTO_TRIGGER,
            f"no activity since start: planned in {settings.auto_trigger_after_minutes} min",
            at=at,
        )
        self._touch(state)
