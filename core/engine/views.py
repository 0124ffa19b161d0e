"""What the outside sees of the engine: one session as a dict, the status, and the
live session events.

Views only read. ``status`` walks every session in chunks (100,000 sessions must
not block the loop); session events are batched every ``SESSION_EVENT_INTERVAL``
and capped per batch, so a burst of messages never floods the panel.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

from ..umo import kind_of, platform_of
from .base import RESTORE_CHUNK, EngineBase
from .models import Phase, SessionState
from .promises import promise_view
from .serving import serve_state, why_no_plan

SESSION_EVENT_INTERVAL = 0.5
SESSION_EVENTS_PER_BATCH = 200  # more changes than this are announced as one count


class Views(EngineBase):
    def session_view(self, state: SessionState) -> dict[str, Any]:
        settings = self.settings_for(state.umo, state.kind)
        served = self._served(state.umo, state.kind, settings)
        return {
            "umo": state.umo,
            "kind": state.kind,
            "name": state.name,
            "platform": platform_of(state.umo),
            "served": served,
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
            "serve": serve_state(self, state.umo, state.kind),
            "why_no_plan": why_no_plan(self, state, served),
            "promise": promise_view(*pending)
            if (pending := self._promises.get(state.umo))
            else None,
        }

    def serve_state(self, umo: str) -> dict[str, Any] | None:
        """Why ``umo`` is served or not (``core/engine/serving.py``); None: not a chat."""
        kind = kind_of(umo)
        return serve_state(self, umo, kind) if kind is not None else None

    async def status(self) -> dict[str, Any]:
        served = waiting_for_reply = 0
        phases: collections.Counter[str] = collections.Counter()
        for index, (umo, state) in enumerate(list(self.sessions.items())):
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)  # 100,000 sessions must not block the loop
            if self._served(umo, state.kind, self.settings_for(umo, state.kind)):
                served += 1
            phases[state.phase] += 1
            waiting_for_reply += state.unanswered > 0
        return {
            "running": self.running,
            "ready": self._ready.is_set() and self.ready_at is not None,
            "sessions_known": len(self.sessions),
            "sessions_served": served,
            "planned": phases[Phase.PLANNED],
            "waiting_for_silence": phases[Phase.SILENCE],
            "writing": len(self._deliveries),
            "queued": len(self._due),
            "capped": phases[Phase.CAPPED],
            "waiting_for_reply": waiting_for_reply,  # a proactive message not answered yet
            "next": [{"umo": k, "at": w} for w, k in self.scheduler.upcoming(10)],
            "counters": dict(self.counters),
            "started_at": self.started_at,
        }

    async def _publish_changes(self) -> None:
        while True:
            await asyncio.sleep(SESSION_EVENT_INTERVAL)
            if not self._changed:
                continue
            changed, self._changed = self._changed, set()
            if not self.events.has_subscribers:
                continue
            for umo in list(changed)[:SESSION_EVENTS_PER_BATCH]:
                state = self.sessions.get(umo)
                if state is not None:
                    self.events.publish({"type": "session", "session": self.session_view(state)})
            if len(changed) > SESSION_EVENTS_PER_BATCH:
                self.events.publish({"type": "sessions_changed", "count": len(changed)})
