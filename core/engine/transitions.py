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
from .moments import MOMENT, Found, MomentPlans
from .planning import is_capped

if TYPE_CHECKING:
    from .cues import Cue

_CAN_WAKE = (Phase.IDLE, Phase.CAPPED)
NEWLY_LISTED = "newly_listed"
MOMENT_REMOVED = "moment_removed"  # a planned moment was switched off or removed
# Plans drawn at random (or waiting for a group's silence): a daily moment that comes
# first takes their place. A time the user named, a promise, a retry, an admin's "move
# to" and a moment itself keep theirs.
RANDOM_REASONS = frozenset(
    {
        "user_message",
        "after_proactive",
        "after_declined",
        "group_silence",
        NEWLY_LISTED,
        "cap raised",
        "missed_replanned",
        "resumed",
        "enabled",
        "moment_skipped",
        MOMENT_REMOVED,
    }
)


class Transitions(MomentPlans, LearnedHabits):
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
        moment = self._moment_before(state, settings, now, at)
        if moment is not None:
            self._plan_moment(state, moment, journal=journal)
        else:
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
        if why != MOMENT:
            self._moment_plans.pop(state.umo, None)
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

    def _plan_moment(self, state: SessionState, found: Found, *, journal: bool = True) -> None:
        """Plan a daily moment (moments.py). The same moment at the same time again (a
        message while it waits) is kept without a new journal line."""
        at, ordinal, moment = found
        same = (
            state.phase == Phase.PLANNED
            and state.next_reason == MOMENT
            and state.next_at == at
            and self._moment_plans.get(state.umo) == (ordinal, moment)
        )
        self._moment_plans[state.umo] = (ordinal, moment)
        detail = self._moment_detail(state.umo)
        self._set_planned(state, at, MOMENT, journal=journal and not same, **detail)

    def _moment_instead(self, state: SessionState, settings: SessionSettings) -> None:
        """A stored or live plan drawn at random: a daily moment that comes first takes
        its place (after a restart, or when moments were switched on)."""
        if state.paused or state.next_at is None:
            return
        if state.phase == Phase.PLANNED and state.next_reason == MOMENT:
            if state.umo not in self._moment_plans:
                self._recall_moment(state, settings)
            planned = self._moment_plans.get(state.umo)
            if planned is None or planned[1] not in settings.moments.moments:
                self._start_over(state, settings, MOMENT_REMOVED)  # switched off or removed
                self._touch(state)
            return
        if state.next_reason not in RANDOM_REASONS and state.phase != Phase.SILENCE:
            return
        found = self._moment_before(state, settings, self.clock(), state.next_at)
        if found is not None:
            self._plan_moment(state, found)
            self._touch(state)

    def _start_silence(self, state: SessionState, settings: SessionSettings, now: float) -> None:
        found = self._moment_before(
            state, settings, now, now + settings.group_idle_trigger_minutes * 60.0
        )
        if found is not None:  # the moment comes before the silence would end
            self._plan_moment(state, found)
            return
        self._moment_plans.pop(state.umo, None)
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
        self._moment_plans.pop(state.umo, None)
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
