"""The analysis model's hard budget: at most N calls in any hour, for the whole engine.

A sliding window of call times (bounded by the limit itself); ``take`` is O(1)
amortized. The limit is read at each call, so a config change applies at once.
"""

from __future__ import annotations

from collections import deque

HOUR = 3600.0


class HourlyBudget:
    def __init__(self) -> None:
        self._calls: deque[float] = deque()

    def take(self, now: float, limit: int) -> bool:
        """Count one call at ``now`` if fewer than ``limit`` were made in the last hour."""
        calls = self._calls
        while calls and calls[0] <= now - HOUR:
            calls.popleft()
        if len(calls) >= limit:
            return False
        calls.append(now)
        return True

    def used(self, now: float) -> int:
        return sum(1 for at in self._calls if at > now - HOUR)
