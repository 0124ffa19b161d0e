"""Daily moments in the engine: which moment comes next for a session, and which fired.

A moment (moment_calendar.py) is a plan with its own reason (``MOMENT``) and prompt.
It takes the place of a random plan that would come later (after a user's message,
after a proactive message, at the end of a group's silence, at a re-plan), never of a
time the user named or a promise the bot made, and only for a served session the bot
has talked with (``last_user_at``) that is not capped: the caps, quiet hours (a moment
whose time comes inside them is skipped, and journaled) and the journal are those of
any plan.

Each session fires a moment at most once per local day, across restarts: what fired
is kept in ``SessionState.moments_fired`` ("<day ordinal>|08:00,22:30", one day), which
the store persists with the session.

Cost: the next moment after "now" is worked out once per set of moments and reused
until it passes (``_upcoming``), from local-day boundaries learned once a day
(``LocalDays``); per session that is a dict lookup and a comparison, and nothing at all
when moments are off.
"""

from __future__ import annotations

from typing import Any

from .base import EngineBase
from .models import MomentSettings, SessionSettings, SessionState
from .moment_calendar import LocalDays, Moment, days_text, next_moment

MOMENT = "moment"  # the plan's reason (next_reason) while a moment is planned
MOMENT_SKIPPED = "moment_skipped"  # the reason of the plan made after a skipped moment
MAX_CACHED = 256  # sets of moments whose next occurrence is remembered

Found = tuple[float, int, Moment]  # (instant, local day ordinal, moment)


class MomentPlans(EngineBase):
    def _moment_days(self) -> LocalDays:
        days = self._local_days
        if days is None or days.tz is not self.timezone:
            days = self._local_days = LocalDays(self.timezone)
        return days

    def _moment_before(
        self, state: SessionState, settings: SessionSettings, now: float, at: float
    ) -> Found | None:
        """The session's next moment after ``now`` if it comes before ``at``."""
        moments = settings.moments
        if not moments.active or state.last_user_at is None:
            return None
        found = self._upcoming(moments, now)
        if found is not None and (found[1], found[2].key) in self._fired(state):
            found = next_moment(moments.moments, now, self._moment_days(), self._fired(state))
        if found is None or found[0] >= at:
            return None
        return found

    def _upcoming(self, moments: MomentSettings, now: float) -> Found | None:
        """The next moment of ``moments`` after ``now``, for any session (cached until
        it passes)."""
        cache: dict[int, tuple[MomentSettings, Found | None]] = self._moment_cache
        cached = cache.get(id(moments))
        if cached is not None and cached[0] is moments:
            found = cached[1]
            if found is not None and found[0] > now:
                return found
        found = next_moment(moments.moments, now, self._moment_days())
        if len(cache) >= MAX_CACHED:
            cache.clear()
        cache[id(moments)] = (moments, found)
        return found

    def _fired(self, state: SessionState) -> frozenset[tuple[int, str]]:
        """(day ordinal, moment key) of what this session fired on its last moment day."""
        text = state.moments_fired
        if not text:
            return frozenset()
        day, _, keys = text.partition("|")
        try:
            ordinal = int(day)
        except ValueError:
            return frozenset()
        return frozenset((ordinal, key) for key in keys.split(",") if key)

    def _mark_fired(self, state: SessionState, ordinal: int, key: str) -> None:
        """Note that this moment fired (or was skipped) on that day; older days are dropped."""
        day, _, keys = state.moments_fired.partition("|")
        if day == str(ordinal) and keys:
            if key not in keys.split(","):
                state.moments_fired = f"{day}|{keys},{key}"
        else:
            state.moments_fired = f"{ordinal}|{key}"

    def _consume_moment(self, state: SessionState) -> Moment | None:
        """The planned moment is being used up (sent, declined or skipped): mark it
        fired and forget the plan; returns it."""
        planned = self._moment_plans.pop(state.umo, None)
        if planned is None:
            return None
        ordinal, moment = planned
        self._mark_fired(state, ordinal, moment.key)
        return moment

    def moment_of(self, umo: str) -> Moment | None:
        """The moment this session's next message is for, if any."""
        planned = self._moment_plans.get(umo)
        return planned[1] if planned else None

    def _recall_moment(self, state: SessionState, settings: SessionSettings) -> None:
        """After a restart: which moment a restored ``MOMENT`` plan is for (the one
        whose time it is on its day), so it gets its own prompt and is marked fired."""
        if state.next_at is None or not settings.moments.active:
            return
        days = self._moment_days()
        day = days.day_of(state.next_at)
        for moment in settings.moments.moments:
            if day.instant(moment.minute, days.tz) == state.next_at:
                self._moment_plans[state.umo] = (day.ordinal, moment)
                return

    def _moment_detail(self, umo: str) -> dict[str, Any]:
        """What the journal says about a planned moment: its time and weekdays."""
        moment = self.moment_of(umo)
        return {"moment": f"{moment.key} | {days_text(moment.weekdays)}"} if moment else {}
