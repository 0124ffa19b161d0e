"""What an admin can do to one session: send now, re-plan, move, pause, resume,
cancel, cancel the bot's promise, and per-session settings.

Each action is journaled (kind ``manual`` or ``override``) before it takes effect.
A bad UMO raises ``InvalidRequest``; the other refusals are the domain errors of
``errors.py``, which the web layer maps to status codes.
"""

from __future__ import annotations

from ..umo import parse_umo
from .chat_context import forget_talk
from .delivery import SWITCHED_OFF
from .due_queue import DueQueue
from .errors import (
    EngineStopped,
    InvalidRequest,
    NothingToCancel,
    SessionBusy,
    SessionPaused,
)
from .models import TIMED_PHASES, JournalKind, Phase, SessionState
from .planning import is_capped
from .promises import PROMISE

PROMISE_CANCELLED = "promise_cancelled"  # the reason of the plan drawn after it


class AdminActions(DueQueue):
    def _require(self, umo: str) -> SessionState:
        try:
            parsed = parse_umo(umo)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from exc
        state = self.sessions.get(umo)
        if state is None:
            state = self._new_state(umo, parsed.kind)
        self._apply_pending_for(umo)  # act on the session as its last message left it
        return state

    def request_trigger(self, umo: str) -> None:
        """Queue "send now" for the workers (returns at once; the journal tells the
        outcome). Raises EngineError for a bad UMO or a message already underway."""
        if not self.running:
            raise EngineStopped("the engine is not running")
        self._require(umo)
        if umo in self._deliveries or umo in self._manual:
            raise SessionBusy("a message for this session is already being written")
        self.journal(umo, JournalKind.MANUAL, "send now")
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
        self.journal(umo, JournalKind.MANUAL, "re-plan")
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
        self.journal(umo, JournalKind.MANUAL, "moved", at=at)
        self._set_planned(state, max(at, self.clock()), "manual", journal=False)
        self._touch(state)
        return state

    def pause(self, umo: str) -> SessionState:
        state = self._require(umo)
        state.paused = True
        self.journal(umo, JournalKind.MANUAL, "paused")
        self._abort_writing(umo, "paused while the message was being written")
        self._set_idle(state, None, "")
        return state

    def resume(self, umo: str) -> SessionState:
        state = self._require(umo)
        state.paused = False
        self.journal(umo, JournalKind.MANUAL, "resumed")
        settings = self.settings_for(umo, state.kind)
        if self._served(umo, state.kind, settings) and not is_capped(
            state.unanswered, settings.schedule
        ):
            self._start_over(state, settings, "resumed")
        self._touch(state)
        return state

    def cancel_plan(self, umo: str) -> SessionState:
        state = self._require(umo)
        self.journal(umo, JournalKind.MANUAL, "plan cancelled")
        self._abort_writing(umo, "the plan was cancelled while the message was being written")
        self._set_idle(state, None, "")
        return state

    def cancel_promise(self, umo: str) -> SessionState:
        """Drop the bot's pending promise; the plan is drawn again as after a message
        (journaled ``manual`` with the sentence, then ``planned`` with the reason).
        Raises NothingToCancel when no promise is pending, SessionBusy while the
        promised message is being written."""
        state = self._require(umo)
        pending = self._promises.get(umo)
        if pending is None:
            raise NothingToCancel("this session has no pending promise to cancel")
        if umo in self._deliveries:
            raise SessionBusy("the promised message is being written: cancel the plan instead")
        del self._promises[umo]
        at, cue = pending
        self.journal(umo, JournalKind.MANUAL, "promise cancelled", sentence=cue.sentence, at=at)
        if state.next_reason == PROMISE and state.phase == Phase.PLANNED:
            settings = self.settings_for(umo, state.kind)
            if state.paused or not self._served(umo, state.kind, settings):
                self._set_idle(state, None, "")
            elif is_capped(state.unanswered, settings.schedule):
                self._set_idle(state, None, "", Phase.CAPPED)
            else:
                self._start_over(state, settings, PROMISE_CANCELLED)
                if state.phase == Phase.SILENCE:
                    self.journal(
                        umo, JournalKind.SILENCE_STARTED, PROMISE_CANCELLED, until=state.next_at
                    )
        self._touch(state)
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
            umo,
            JournalKind.OVERRIDE,
            "session settings changed" if data else "session settings reset",
        )
        settings = self.settings_for(umo, state.kind)
        if not self._served(umo, state.kind, settings):
            self._abort_writing(umo, SWITCHED_OFF)
            forget_talk(state)  # what the chat said is kept only while served
            if state.phase in TIMED_PHASES:
                self._set_idle(state, JournalKind.DISABLED, "the session is no longer served")
        else:
            self._wake(state, settings, "enabled")
        self._touch(state)

    async def set_enabled(self, umo: str, enabled: bool) -> None:
        """``/proactive on|off``: an override of ``enable`` for this session only."""
        override = dict(self.overrides.get(umo) or {})
        override["enable"] = enabled
        await self.set_override(umo, override)
