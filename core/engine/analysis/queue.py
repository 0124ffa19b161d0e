"""The bounded queue of questions for the analysis model, off the message path.

One waiting question per session (a newer message replaces it: only the last one
matters), at most ``limit`` sessions waiting (more are refused, so a flood of chats
cannot grow memory), and at most one question per session in flight: a session being
asked is skipped until its answer came. ``put`` is O(1) and never awaits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..models import SessionSettings

MAX_WAITING = 1000


@dataclass(frozen=True, slots=True)
class AnalysisJob:
    """One user message to read: ``at`` is its time (the answer is dropped if the
    session heard a newer one meanwhile)."""

    umo: str
    text: str
    at: float
    settings: SessionSettings


class AnalysisQueue:
    def __init__(self, limit: int = MAX_WAITING) -> None:
        self.limit = limit
        self._waiting: dict[str, AnalysisJob] = {}
        self._busy: set[str] = set()
        self._signal = asyncio.Event()

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, job: AnalysisJob) -> bool:
        """Queue ``job`` (replacing its session's waiting one); False when full."""
        if job.umo not in self._waiting and len(self._waiting) >= self.limit:
            return False
        self._waiting.pop(job.umo, None)  # re-inserted last: the queue stays in time order
        self._waiting[job.umo] = job
        self._signal.set()
        return True

    async def take(self) -> AnalysisJob:
        """The oldest waiting job of a session not in flight; marks it in flight."""
        while True:
            for umo, job in self._waiting.items():
                if umo not in self._busy:
                    del self._waiting[umo]
                    self._busy.add(umo)
                    return job
            self._signal.clear()
            await self._signal.wait()

    def done(self, umo: str) -> None:
        """The session's question was answered (or failed): its next one may go."""
        self._busy.discard(umo)
        if self._waiting:
            self._signal.set()

    def clear(self) -> None:
        self._waiting.clear()
        self._busy.clear()
