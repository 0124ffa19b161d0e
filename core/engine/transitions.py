"""How a session moves between phases: planned, waiting for silence, idle, capped.

Every change of a session's plan goes through these few methods, so the state, the
scheduler and the journal never disagree: a planned session has a timer, an idle or
capped one has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..umo import GROUP
from .habit_learning import LearnedHabits
from .models import JournalKind, Phase, SessionSettings, SessionState
from .planning import is_capped

if TYPE_CHECKING:
    from .cues import Cue

_CAN_WAKE = (Phase.IDLE, Phase.CAPPED)
NEWLY_LISTED = "newly_listed"


class Transitions(LearnedHabits):
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
        at, moved, habits = self._draw_next(state, settings, now, extra_seconds)
        self._set_planned(state, at, why, moved=moved, journal=journal, **habits)

    def _set_planned(
        self,
        state: SessionState,
        at: float,
        why: str,
        *,
        moved: bool = False,
        journal: bool = True,
        **detail: Any,
    ) -> None:
        state.phase = Phase.PLANNED
        state.next_at = at
        state.next_reason = why
        self.scheduler.schedule(state.umo, at)
        if moved:
            self.journal(state.umo, JournalKind.QUIET_SHIFTED, "moved out of quiet hours", at=at)
        if journal:
            self.journal(state.umo, JournalKind.PLANNED, why, at=at, **detail)

    def _plan_at_cue(self, state: SessionState, settings: SessionSettings, cue: Cue) -> None:
        """Plan at the time the user named (quiet hours still win), and say so."""
        at, moved = self.quiet.shift(cue.target, settings.schedule.quiet_hours, self.rng)
        self._set_planned(
            state, at, "cue", moved=moved, cue=cue.matched, rule=cue.rule, cue_at=cue.target
        )

    def _start_silence(self, state: SessionState, settings: SessionSettings, now: float) -> None:
        state.phase = Phase.SILENCE
        state.next_at = now + settings.group_idle_trigger_minutes * 60.0
        state.next_reason = "group_silence"
        self.scheduler.schedule(state.umo, state.next_at)

    def _set_idle(
        self, state: SessionState, kind: str | None, reason: str, phase: Phase = Phase.IDLE
    ) -> None:
        state.phase = phase
        state.next_at = None
        state.next_reason = ""
        self.scheduler.cancel(state.umo)
        self._promises.pop(state.umo, None)  # an idle session keeps no promise
        if kind:
            self.journal(state.umo, kind, reason)
        self._touch(state)

    def _start_over(self, state: SessionState, settings: SessionSettings, why: str) -> None:
        """Plan from now as a message would: groups wait for silence, chats plan."""
        if state.kind == GROUP:
            self._start_silence(state, settings, self.clock())
        else:
            self._plan(state, settings, self.clock(), why)

    def _newly_listed(self, state: SessionState) -> None:
        """A session just put on the list that the bot has talked with: planned at once,
        from now (a group waits for silence from now), and said so."""
        self._wake(state, self.settings_for(state.umo, state.kind), NEWLY_LISTED)
        if state.phase == Phase.SILENCE:
            self.journal(state.umo, JournalKind.SILENCE_STARTED, NEWLY_LISTED, until=state.next_at)

    def _wake(self, state: SessionState, settings: SessionSettings, why: str) -> None:
        """An idle or capped session that may speak again (it was switched on, or its
        cap was raised) gets a plan; one already planned keeps it."""
        if state.paused or state.phase not in _CAN_WAKE:
            return
        if is_capped(state.unanswered, settings.schedule):
            return
        self._start_over(state, settings, why)
        self._touch(state)
