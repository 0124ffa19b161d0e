"""The forward view: when a session will speak in the next days, and why not between.

It is a simulation of the engine's own code, not a second implementation: a copy of
the engine for the session (shadow.py) on a simulated clock runs the same steps as
the real one (the scheduler's ``run_due``, the workers' ``_work_one``, ``deliver``,
the planning, quiet hours, cap and group silence) and the copy's journal is read
back (forecast_view.py). Assumptions, which the API and pages state: nobody answers
(so the unanswered cap is reached), every message is written and sent, and the
random draws come from a generator seeded by the session id, so the view is stable
between refreshes and is one likely future, not the future.

Bounded: at most ``MAX_STEPS`` plans per session, ``MAX_DAYS`` days; the view of all
sessions is paged and yields to the loop between sessions and while it walks them.
"""

from __future__ import annotations

import asyncio
import heapq
import zlib
from typing import Any

from ..umo import parse_umo
from .base import RESTORE_CHUNK
from .due_queue import DueQueue
from .errors import InvalidRequest, SessionNotFound
from .forecast_view import summarize
from .models import TIMED_PHASES
from .owner_log import SIMULATING
from .shadow import shadow_of

DAY = 86_400.0
MAX_DAYS = 14
MAX_STEPS = 80  # plans simulated per session (a session with no cap and short intervals)
MAX_PAGE_SIZE = 50


def forecast_seed(umo: str) -> int:
    """The same draws on every refresh for this session (crc32: stable across runs,
    unlike ``hash``)."""
    return zlib.crc32(umo.encode("utf-8"))


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidRequest(f"days must be 1 to {MAX_DAYS}, not {days}")
    return days


class Forecasts(DueQueue):
    async def forecast(self, umo: str, days: int = 7) -> dict[str, Any]:
        """One session's next ``days`` days (see the module's assumptions)."""
        check_days(days)
        try:
            parse_umo(umo)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from exc
        if umo not in self.sessions:
            raise SessionNotFound(f"no session {umo!r} is known")
        return await simulate(self, umo, days)

    async def forecast_all(self, days: int = 7, page: int = 1, size: int = 20) -> dict[str, Any]:
        """The served sessions' next ``days`` days, soonest plan first, ``size`` per
        page (at most ``MAX_PAGE_SIZE``): the walk over every session is chunked, and
        only the page's sessions are simulated, one per loop turn."""
        check_days(days)
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidRequest(f"page must be 1 or more and size 1 to {MAX_PAGE_SIZE}")
        start = (page - 1) * size
        total, soonest = await self._soonest_served(start + size)
        items = []
        for _, umo in soonest[start:]:
            if umo in self.sessions:
                items.append(await simulate(self, umo, days))
            await asyncio.sleep(0)
        return {"items": items, "total": total, "page": page, "size": size, "days": days}

    async def _soonest_served(self, count: int) -> tuple[int, list[tuple[float, str]]]:
        """(how many sessions are served, the ``count`` soonest of them as (next planned
        time or +inf, umo), soonest first). A bounded heap filled a chunk per loop turn:
        100,000 sessions never block the loop, nor get sorted in one go."""
        served = 0
        heap: list[tuple[float, str]] = []  # the soonest so far, as a max-heap (negated)
        for index, (umo, state) in enumerate(list(self.sessions.items())):
            if index % RESTORE_CHUNK == RESTORE_CHUNK - 1:
                await asyncio.sleep(0)
            if not self._served(umo, state.kind, self.settings_for(umo, state.kind)):
                continue
            served += 1
            at = state.next_at if state.next_at is not None else float("inf")
            entry = (-at, umo)
            if len(heap) < count:
                heapq.heappush(heap, entry)
            elif entry > heap[0]:
                heapq.heapreplace(heap, entry)
        # The heap's own order (ties: larger umo first), so the pages never overlap.
        return served, [(-negated, umo) for negated, umo in sorted(heap, reverse=True)]


async def simulate(engine: DueQueue, umo: str, days: int) -> dict[str, Any]:
    """Run the engine's code for ``umo`` over ``days`` days on a copy, nobody answering."""
    now = engine.clock()
    end = now + days * DAY
    shadow, clock, sink = shadow_of(engine, umo, now, forecast_seed(umo))
    token = SIMULATING.set(True)
    truncated = False
    try:
        shadow._apply_pending_for(umo)  # the plan the last message makes, as on the loop
        for _ in range(MAX_STEPS):
            state = shadow.sessions[umo]
            if state.phase not in TIMED_PHASES or state.next_at is None or state.next_at > end:
                break
            clock.now = max(clock.now, state.next_at)
            shadow.scheduler.run_due()  # the timer's step: _on_due
            while shadow._due:
                await shadow._work_one(shadow._due.popleft())  # the worker's step
        else:
            truncated = True
    finally:
        SIMULATING.reset(token)
        shadow.scheduler.stop()
    final = shadow.sessions[umo]
    settings = engine.settings_for(umo, final.kind)
    served = engine._served(umo, final.kind, settings)
    return summarize(
        engine.sessions[umo],
        final,
        sink.entries,
        settings,
        now=now,
        end=end,
        served=served,
        truncated=truncated,
    )
