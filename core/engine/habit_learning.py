"""The engine's side of learned habits: learning from messages, drawing plans with them,
loading and showing them.

Learning runs in the message batch (``_after_user_message``), never in the handler:
one local-hour lookup (``LocalHours``, offset cached per local day) and an O(1) profile
update; a profile that changed (the first message of an hour, a send, an answer) is
handed to the store, which takes its bytes (``to_bytes``) at the next flush: a profile
that changed several times between two flushes is serialized once. Only served sessions whose
kind has ``schedule_settings.learn_habits`` on learn, so unserved chats cost nothing.

``_draw_next`` is the one draw of a plan's time: weighted by the habits when the kind
has them on and the session has enough history (habit_draw.py), else uniform as
before; quiet hours are applied last, so they always win. What weighted the draw goes
into the "planned" journal entry (``rule: habits``, the chosen hour's weight, the
learned sleep avoided).

Weighing a profile (``weigh_habits``, about 75 µs over 168 hours) is not per-message
work. Loaded profiles are weighed in the background at start; after that a profile
is re-weighed at most once a day (``REWEIGH_AFTER``), by ``reweigh_habits`` in slices
of ``REWEIGH_SLICE`` profiles ``REWEIGH_PAUSE`` apart, off the message path, and
until then the draw uses the day-old weights: a day is nothing to habits that halve
over four weeks. Only a profile
drawn with before it was ever weighed (it just reached enough history, or the
background has not got to it yet) is weighed on the spot, once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from .base import EngineBase
from .habit_draw import habit_time, habit_weights, has_history, weigh_habits
from .habits import ACTIVE, ANSWERED, SENT, CorruptProfile, HabitProfile
from .models import SessionSettings, SessionState
from .planning import plan_after, random_interval_seconds

HABITS_RULE = "habits"
REWEIGH_AFTER = 86_400.0  # weights a day old are re-weighed (off the message path)
REWEIGH_DELAY = 1.0  # seconds: the profiles that went stale meanwhile go together
REWEIGH_SLICE = 32  # profiles per loop turn (about 2.5 ms)
REWEIGH_PAUSE = 0.02  # seconds between two slices: at most about a tenth of the loop


class LearnedHabits(EngineBase):
    # -- learning ---------------------------------------------------------------------
    def _note_habit_activity(self, umo: str, settings: SessionSettings, now: float) -> None:
        """The user wrote at ``now`` (batch side)."""
        if not settings.learn_habits:
            return
        profile = self.habits.get(umo)
        if profile is None:
            profile = self.habits[umo] = HabitProfile(now)
        if profile.note_active(self.local_hours.hour(now), now):
            self.store.put_habits(umo, profile.to_bytes)

    def _note_habit_sent(self, state: SessionState, settings: SessionSettings, at: float) -> None:
        """A proactive message went out at ``at``."""
        if not settings.learn_habits:
            return
        profile = self.habits.get(state.umo)
        if profile is None:
            profile = self.habits[state.umo] = HabitProfile(at)
        profile.note_sent(self.local_hours.hour(at), at)
        self.store.put_habits(state.umo, profile.to_bytes)

    def _note_habit_answer(self, umo: str, now: float) -> None:
        """The user wrote after proactive messages: the last one was answered."""
        profile = self.habits.get(umo)
        if profile is None or not self.settings_for(umo).learn_habits:
            return
        if profile.note_answered(now):
            self.store.put_habits(umo, profile.to_bytes)

    # -- the draw ---------------------------------------------------------------------
    def _draw_next(
        self,
        state: SessionState,
        settings: SessionSettings,
        now: float,
        extra_seconds: float = 0.0,
    ) -> tuple[float, bool, dict[str, Any]]:
        """``(time, moved out of quiet hours, journal detail)`` of the next plan."""
        schedule = settings.schedule
        profile = self.habits.get(state.umo) if settings.learn_habits else None
        weights = None
        if profile is not None:
            weights = profile.weights
            if weights is None:  # never weighed (or too little history): now, once
                weights = habit_weights(profile, now)
            elif now - weights.made_at >= REWEIGH_AFTER:
                self._reweigh_later(state.umo)  # drawn with the day-old ones meanwhile
        if weights is None:
            at, moved = plan_after(
                now,
                schedule,
                self.timezone,
                self.rng,
                extra_seconds=extra_seconds,
                calendars=self.quiet,
            )
            return at, moved, {}
        low = now + extra_seconds + schedule.min_interval_minutes * 60.0
        high = max(low, now + extra_seconds + schedule.max_interval_minutes * 60.0)
        draw = habit_time(low, high, weights, self.local_hours, self.rng)
        if draw is None:  # a range too long to weigh: uniform, as without habits
            drawn = now + extra_seconds + random_interval_seconds(schedule, self.rng)
            at, moved = self.quiet.shift(drawn, schedule.quiet_hours, self.rng)
            return at, moved, {}
        at, moved = self.quiet.shift(draw.at, schedule.quiet_hours, self.rng)
        detail: dict[str, Any] = {"rule": HABITS_RULE, "habit_weight": round(draw.weight, 3)}
        if draw.sleep:
            detail["sleep_avoided"] = draw.sleep
        return at, moved, detail

    # -- re-weighing, off the message path ---------------------------------------------
    def _reweigh_later(self, umo: str) -> None:
        """Queue a profile to be re-weighed (at most once; bounded by the profiles)."""
        if umo in self._habit_refresh or not self._habit_refresh_live:
            return
        self._habit_refresh[umo] = None
        if self._habit_refresh_timer is None:
            loop = asyncio.get_running_loop()
            self._habit_refresh_timer = loop.call_later(REWEIGH_DELAY, self.reweigh_habits)

    def reweigh_habits(self, limit: int = REWEIGH_SLICE) -> int:
        """Re-weigh up to ``limit`` queued profiles (the rest in the next loop turn);
        returns how many."""
        self._habit_refresh_timer = None
        queued, now, done = self._habit_refresh, self.clock(), 0
        while queued and done < limit:
            umo = next(iter(queued))
            del queued[umo]
            done += 1
            profile = self.habits.get(umo)
            if profile is None:
                continue
            try:
                profile.decay_to(now)
                profile.weights = weigh_habits(profile, now)
            except Exception:  # one profile never stops the others
                logger.exception(
                    "%s Could not re-weigh the learned habits of %s; its plans stay "
                    "uniform until its next message (nothing to do).",
                    LOG_PREFIX,
                    umo,
                )
                profile.weights = None
        if queued and self.running:  # the rest a moment later: the loop has other work
            loop = asyncio.get_running_loop()
            self._habit_refresh_timer = loop.call_later(REWEIGH_PAUSE, self.reweigh_habits, limit)
        return done

    def _stop_reweighing(self) -> None:
        """Terminate: nothing left scheduled (a profile is weighed again when next drawn)."""
        if self._habit_refresh_timer is not None:
            self._habit_refresh_timer.cancel()
            self._habit_refresh_timer = None
        self._habit_refresh.clear()

    # -- loading and showing ----------------------------------------------------------
    async def _load_habits(self) -> None:
        """The stored profiles; a corrupt one is dropped (and learned again), never fatal."""
        stored = await self.store.load_habits()
        dropped = 0
        for umo, blob in stored.items():
            try:
                self.habits[umo] = HabitProfile.from_bytes(blob)
            except CorruptProfile:
                dropped += 1
                continue
            self._reweigh_later(umo)  # weighed in the background, not by a first message
        if dropped:
            logger.warning(
                "%s Dropped %d unreadable learned-habit profiles from the store; those "
                "sessions learn their habits again from their next messages (nothing to do).",
                LOG_PREFIX,
                dropped,
            )

    def habits_view(self, umo: str) -> dict[str, Any] | None:
        """The session's learned habits for the panel (None: nothing learned yet):
        per hour of the week (Monday 00:00 first, local time) the active hours, the
        messages sent and answered, and the draw's weight."""
        profile = self.habits.get(umo)
        if profile is None:
            return None
        now = self.clock()
        profile.decay_to(now)
        weights = profile.weights = weigh_habits(profile, now)  # the page shows today's
        kind = self.sessions[umo].kind if umo in self.sessions else None
        return {
            "enabled": self.settings_for(umo, kind).learn_habits,
            "enough_history": has_history(profile, now),
            "since": profile.started_at,
            "active": profile.row(ACTIVE),
            "sent": profile.row(SENT),
            "answered": profile.row(ANSWERED),
            "weights": [round(w, 3) for w in weights.weights] if weights is not None else None,
            "sleep": weights.sleep if weights is not None else "",
            "answer_delay_seconds": round(profile.delay_mean) if profile.delay_weight else None,
        }
