"""One timer for every session: a heap of planned times with lazy deletion.

Scheduling and cancelling are O(log n) / O(1); there is never more than one
pending ``loop.call_later`` handle, whatever the number of sessions. Times are wall
clock (they are persisted and survive restarts); the timer sleeps at most
``max_sleep`` seconds at a time so a clock jump is noticed.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable, Iterator

from .constants import LOG_PREFIX

logger = logging.getLogger("astrbot")


class TriggerScheduler:
    def __init__(
        self,
        on_due: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.time,
        max_sleep: float = 30.0,
    ) -> None:
        self._on_due = on_due
        self._clock = clock
        self._max_sleep = max_sleep
        self._heap: list[tuple[float, int, str]] = []
        self._live: dict[str, tuple[float, int]] = {}
        self._seq = itertools.count()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.fired = 0

    # -- plan ------------------------------------------------------------------------
    def schedule(self, key: str, when: float) -> None:
        """Plan ``key`` at ``when`` (replacing an earlier plan for it)."""
        seq = next(self._seq)
        self._live[key] = (when, seq)
        heapq.heappush(self._heap, (when, seq, key))
        if len(self._heap) > 2 * len(self._live) + 1024:
            self._compact()
        if self._loop is not None and (self._armed_for is None or when < self._armed_for):
            self._arm()

    def cancel(self, key: str) -> bool:
        return self._live.pop(key, None) is not None

    def when(self, key: str) -> float | None:
        entry = self._live.get(key)
        return entry[0] if entry else None

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, key: object) -> bool:
        return key in self._live

    def upcoming(self, limit: int) -> list[tuple[float, str]]:
        """The next ``limit`` plans, earliest first (O(n log limit))."""
        return heapq.nsmallest(limit, ((w, k) for k, (w, _s) in self._live.items()))

    def items(self) -> Iterator[tuple[str, float]]:
        return ((k, w) for k, (w, _s) in self._live.items())

    def pop_due(self, now: float) -> list[str]:
        """Remove and return every key planned at or before ``now``, earliest first."""
        due: list[str] = []
        heap, live = self._heap, self._live
        while heap and heap[0][0] <= now:
            when, seq, key = heapq.heappop(heap)
            if live.get(key) == (when, seq):
                del live[key]
                due.append(key)
        return due

    # -- timer -----------------------------------------------------------------------
    def start(self) -> None:
        """Arm the timer on the running loop; due keys are handed to ``on_due``."""
        self._loop = asyncio.get_running_loop()
        self._arm()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._armed_for = None
        self._loop = None

    def _arm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._armed_for = None
        head = self._head()
        if head is None or self._loop is None:
            return
        delay = max(0.0, min(head - self._clock(), self._max_sleep))
        self._armed_for = head
        self._handle = self._loop.call_later(delay, self._tick)

    def _head(self) -> float | None:
        heap, live = self._heap, self._live
        while heap:
            when, seq, key = heap[0]
            if live.get(key) == (when, seq):
                return when
            heapq.heappop(heap)  # stale: cancelled or re-planned
        return None

    def run_due(self) -> int:
        """Hand every due key to ``on_due`` now; returns how many (the timer calls this;
        tests with a fake clock call it after moving the clock)."""
        due = self.pop_due(self._clock())
        for key in due:
            self.fired += 1
            try:
                self._on_due(key)
            except Exception:
                logger.exception("%s Scheduler callback failed for %s", LOG_PREFIX, key)
        return len(due)

    def _tick(self) -> None:
        self._handle = None
        self._armed_for = None
        self.run_due()
        if self._loop is not None:
            self._arm()

    def _compact(self) -> None:
        self._heap = [(w, s, k) for k, (w, s) in self._live.items()]
        heapq.heapify(self._heap)
