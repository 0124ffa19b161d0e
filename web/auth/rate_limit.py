"""Wrong-password throttling, per client address."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class LoginRateLimiter:
    """At most ``max_failures`` wrong passwords per ``window`` seconds per client.

    Memory is bounded: at most ``max_clients`` addresses are remembered, the least
    recently seen are forgotten first.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 60.0,
        max_clients: int = 4096,
        clock: Callable[[], float] = time.monotonic,
        storage: OrderedDict[str, deque[float]] | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        # Pass a dict kept in the process stash and a hot reload does not reset the count.
        self._failures: OrderedDict[str, deque[float]] = (
            storage if storage is not None else OrderedDict()
        )

    def retry_after(self, client: str) -> float:
        """Seconds this client must wait before trying again; 0 when it may try."""
        failures = self._failures.get(client)
        if failures is None or len(failures) < self.max_failures:
            return 0.0
        wait = self.window - (self._clock() - failures[0])
        return wait if wait > 0 else 0.0

    def record_failure(self, client: str) -> None:
        failures = self._failures.get(client)
        if failures is None:
            failures = deque(maxlen=self.max_failures)
            self._failures[client] = failures
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(client)
        failures.append(self._clock())

    def record_success(self, client: str) -> None:
        self._failures.pop(client, None)
