"""Due plans, queued for a small, fixed pool of workers.

The scheduler calls ``_on_due`` when a plan's time comes; the session joins one queue
(once, however often it is due) and ``WORKERS`` tasks take from it, so a burst of due
plans never turns into a burst of tasks. A "send now" jumps the queue.
"""

from __future__ import annotations

import asyncio

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from .delivery import Deliveries
from .models import Phase


class DueQueue(Deliveries):
    def _on_due(self, umo: str) -> None:
        state = self.sessions.get(umo)
        if state is None:
            return
        if self._apply_pending_for(umo):
            return  # the user spoke after this plan was made: the new plan stands
        now = self.clock()
        if umo in self._deliveries:
            # A message for this session is underway; it plans what comes next itself.
            # Keep this plan alive a minute in case that one fails early.
            state.next_at = now + 60.0
            self.scheduler.schedule(umo, state.next_at)
            return
        if state.phase == Phase.SILENCE:
            self._plan(state, self.settings_for(umo, state.kind), now, "group_silence")
            self._touch(state)
            return
        if state.phase != Phase.PLANNED or umo in self._due_set:
            return
        self._due.append(umo)
        self._due_set.add(umo)
        self._due_signal.set()

    async def _worker(self) -> None:
        while self.running:
            while not self._due:
                self._due_signal.clear()
                await self._due_signal.wait()
            await self._work_one(self._due.popleft())

    async def _work_one(self, umo: str) -> None:
        """One session off the queue: delivered if it is still due (the forward view in
        forecast.py drives this same step)."""
        self._due_set.discard(umo)
        manual = umo in self._manual
        self._manual.discard(umo)
        if not manual and not self._still_due(umo):
            return  # the user spoke, or the plan was moved or cancelled meanwhile
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
            and state.phase == Phase.PLANNED
            and state.next_at is not None
            and state.next_at <= self.clock()
        )
