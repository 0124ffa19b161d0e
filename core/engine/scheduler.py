"""One timer for every session: a heap of planned times with lazy deletion.

Scheduling is O(log n) and cancelling O(1); there is never more than one pending
``loop.call_later`` handle, whatever the number of sessions. Times are wall clock
(they are persisted and survive restarts); the timer sleeps at most ``max_sleep``
seconds at a time so a clock jump is noticed.

Re-planning leaves the old entry in the heap (lazy deletion). When stale entries
outnumber live ones the heap is rebuilt; with a running loop that happens in a
background task a slice at a time, so a heap of 100,000 plans never blocks the loop.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable

from ..constants import LOG_PREFIX
from ..plugin_log import logger

TICK_LIMIT = 1000  # due keys handed out per timer callback; the rest on the next turn
COMPACT_SLICE = 4000  # heap entries handled per loop turn while compacting

Entry = tuple[float, int, str]


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
        self._heap: list[Entry] = []
        self._live: dict[str, tuple[float, int]] = {}
        self._seq = itertools.count()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._compacting: asyncio.Task | None = None
        self._pushed_while_compacting: list[Entry] = []
        self.fired = 0
        self.compactions = 0

    # -- plan ------------------------------------------------------------------------
    def schedule(self, key: str, when: float) -> None:
        """Plan ``key`` at ``when`` (replacing an earlier plan for it)."""
        entry = (when, next(self._seq), key)
        self._live[key] = entry[:2]
        heapq.heappush(self._heap, entry)
        if self._compacting is not None:
            self._pushed_while_compacting.append(entry)
        elif len(self._heap) > 2 * len(self._live) + 1024:
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
        """The next ``limit`` plans, earliest first, read off the heap's top levels
        (O((limit + stale) log limit), not a scan of every plan)."""
        heap, live = self._heap, self._live
        found: list[tuple[float, str]] = []
        frontier: list[tuple[Entry, int]] = [(heap[0], 0)] if heap else []
        while frontier and len(found) < limit:
            (when, seq, key), index = heapq.heappop(frontier)
            if live.get(key) == (when, seq):
                found.append((when, key))
            for child in (2 * index + 1, 2 * index + 2):
                if child < len(heap):
                    heapq.heappush(frontier, (heap[child], child))
        return found

    def pop_due(self, now: float, limit: int | None = None) -> list[str]:
        """Remove and return keys planned at or before ``now``, earliest first (at most
        ``limit`` of them)."""
        due: list[str] = []
        heap, live = self._heap, self._live
        while heap and heap[0][0] <= now and (limit is None or len(due) < limit):
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
        if self._compacting is not None:
            self._compacting.cancel()
            self._compacting = None
            self._pushed_while_compacting = []

    def run_due(self, limit: int | None = None) -> int:
        """Hand due keys to ``on_due`` now (at most ``limit``); returns how many. The
        timer calls this; tests with a fake clock call it after moving the clock."""
        due = self.pop_due(self._clock(), limit)
        for key in due:
            self.fired += 1
            try:
                self._on_due(key)
            except Exception:
                logger.exception("%s Scheduler callback failed for %s", LOG_PREFIX, key)
        return len(due)

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

    def _tick(self) -> None:
        self._handle = None
        self._armed_for = None
        self.run_due(TICK_LIMIT)
        if self._loop is not None:
            self._arm()

    # -- compaction --------------------------------------------------------------------
    def _compact(self) -> None:
        self.compactions += 1
        if self._loop is None:  # no loop to share: rebuild at once
            self._heap = [(w, s, k) for k, (w, s) in self._live.items()]
            heapq.heapify(self._heap)
            return
        self._pushed_while_compacting = []
        self._compacting = self._loop.create_task(self._compact_in_slices(), name="pc-compact")

    async def _compact_in_slices(self) -> None:
        """Build a fresh heap from the live plans a slice per loop turn, then swap it in.
        Plans made meanwhile are added to both heaps; entries that went stale meanwhile
        are dropped lazily like any other."""
        try:
            snapshot = list(self._live.items())
            fresh: list[Entry] = []
            for start in range(0, len(snapshot), COMPACT_SLICE):
                for key, (when, seq) in snapshot[start : start + COMPACT_SLICE]:
                    heapq.heappush(fresh, (when, seq, key))
                await asyncio.sleep(0)
            del snapshot
            for entry in self._pushed_while_compacting:
                heapq.heappush(fresh, entry)
            old, self._heap = self._heap, fresh
            self._pushed_while_compacting = []
            self._compacting = None
            while old:  # free the old entries a slice at a time too
                del old[-COMPACT_SLICE:]
                await asyncio.sleep(0)
        except Exception:
            logger.exception("%s Scheduler compaction failed; continuing", LOG_PREFIX)
        finally:
            if self._compacting is asyncio.current_task():
                self._compacting = None
                self._pushed_while_compacting = []
