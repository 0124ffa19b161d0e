"""A failed proactive message: journaled, logged once per cause, re-planned with back-off.

Back-off grows with the failures in a row of that session (``retry_delay_seconds``)
and lands outside quiet hours, so a broken model or platform never turns into a
tight loop. Any message from the user resets the count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import TIMED_PHASES, JournalKind, SessionSettings, SessionState
from .planning import retry_delay_seconds
from .transitions import Transitions

if TYPE_CHECKING:
    from .delivery import InFlight


class Retries(Transitions):
    def _failed(
        self,
        state: SessionState,
        settings: SessionSettings,
        kind: str,
        reason: str,
        delivery: InFlight,
        *,
        source: str = "",
        advice: str = "",
        log: bool = True,
        exc_info: BaseException | None = None,
        detail: dict | None = None,
    ) -> str:
        """Journal a failure and re-plan with back-off (never a tight loop); log it once
        per cause (``source``: what failed). Not re-planned: a manual "send now" for a
        session that is paused or not served, and a session whose user spoke meanwhile
        (their message planned what comes next). Returns ``kind``."""
        self.counters[kind] += 1
        self.journal(state.umo, kind, reason, **(detail or {}))
        user_spoke = (state.last_user_at or 0) > delivery.fired_at
        unserved = state.paused or not self._served(state.umo, state.kind, settings)
        retry = not (user_spoke or (delivery.manual and unserved))
        now = self.clock()
        at, moved, failures = now, False, 0
        if retry:
            failures = self._failures.get(state.umo, 0) + 1
            self._failures[state.umo] = failures
            delay = retry_delay_seconds(failures, settings.schedule)
            at, moved = self.quiet.shift(now + delay, settings.schedule.quiet_hours, self.rng)
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
            if unserved and state.phase in TIMED_PHASES and not user_spoke:
                self._set_idle(state, None, "")
            self._touch(state)
            return kind
        self._set_planned(state, at, "retry", moved=moved, journal=False)
        self.journal(state.umo, JournalKind.RETRY, f"retry #{failures} after {kind}", at=at)
        self._touch(state)
        return kind
