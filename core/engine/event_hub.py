"""Fan-out of engine events (journal entries, session changes) to panel clients.

Each subscriber has a bounded queue; a subscriber that falls behind loses events and
is told so once (``{"type": "gap"}``), so one slow browser can never grow memory or
slow the engine down.
"""

from __future__ import annotations

import asyncio
from typing import Any

QUEUE_SIZE = 500


class Subscription:
    def __init__(self, hub: EventHub, size: int) -> None:
        self._hub = hub
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(size)
        self.dropped = 0

    def put(self, event: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    async def get(self) -> dict[str, Any]:
        if self.dropped:
            dropped, self.dropped = self.dropped, 0
            return {"type": "gap", "dropped": dropped}
        return await self.queue.get()

    def close(self) -> None:
        self._hub.unsubscribe(self)


class EventHub:
    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._subscribers: set[Subscription] = set()
        self._queue_size = queue_size
        self.closed = False

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subscribers)

    def subscribe(self) -> Subscription:
        sub = Subscription(self, self._queue_size)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def publish(self, event: dict[str, Any]) -> None:
        for sub in self._subscribers:
            sub.put(event)

    def close(self) -> None:
        """Tell every subscriber the engine stopped (the panel closes their sockets)."""
        self.closed = True
        for sub in list(self._subscribers):
            sub.put({"type": "closed"})
