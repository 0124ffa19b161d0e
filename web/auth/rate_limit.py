"""Wrong-password throttling: per machine, and a ceiling across all of them.

Guarantees: an attempt is counted before its password is read or checked
(``reserve``), so concurrent attempts cannot slip past the count; every loopback
address (127.0.0.0/8, ::1) is one client, and an IPv6 client is its /64 (one
machine, one count); over ``max_total_failures`` per ``window`` from all other
clients together, every client but loopback waits, so the owner can always log in
from the machine itself. Memory is bounded.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict, deque
from collections.abc import Callable

LOOPBACK = "loopback"
MAX_TOTAL_FAILURES = 30  # per window, from all clients but loopback together


def client_key(host: str | None) -> str:
    """The name a client is counted under: one per machine, as far as an address tells."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return LOOPBACK
    if isinstance(address, ipaddress.IPv6Address):
        # One machine easily holds a whole /64: counting single addresses would not bound it.
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class LoginRateLimiter:
    """At most ``max_failures`` wrong passwords per ``window`` seconds per client, and
    at most ``max_total_failures`` from all non-loopback clients together.

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
        max_total_failures: int = MAX_TOTAL_FAILURES,
        total_storage: deque[float] | None = None,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_clients = max_clients
        self.max_total_failures = max_total_failures
        self._clock = clock
        # Pass a dict kept in the process stash and a hot reload does not reset the count.
        self._failures: OrderedDict[str, deque[float]] = (
            storage if storage is not None else OrderedDict()
        )
        self._total: deque[float] = (
            total_storage if total_storage is not None else deque(maxlen=max_total_failures)
        )

    def retry_after(self, client: str) -> float:
        """Seconds this client must wait before trying again; 0 when it may try."""
        wait = self._wait(self._failures.get(client), self.max_failures)
        if client != LOOPBACK:
            wait = max(wait, self.ceiling_wait())
        return wait

    def ceiling_wait(self) -> float:
        """Seconds until the ceiling across all clients lets another try; 0 when it does."""
        return self._wait(self._total, self.max_total_failures)

    def reserve(self, client: str) -> float:
        """Count an attempt as failed before it is checked; the wait instead if it may
        not try now (nothing counted then). ``record_success`` takes it back."""
        wait = self.retry_after(client)
        if wait == 0:
            self.record_failure(client)
        return wait

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
        if client != LOOPBACK:
            self._total.append(self._clock())

    def record_success(self, client: str) -> None:
        if self._failures.pop(client, None) is not None and client != LOOPBACK and self._total:
            self._total.pop()  # the attempt reserved as failed was not one

    def _wait(self, failures: deque[float] | None, limit: int) -> float:
        if failures is None or len(failures) < limit:
            return 0.0
        wait = self.window - (self._clock() - failures[-limit])
        return wait if wait > 0 else 0.0
