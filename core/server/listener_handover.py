"""Binding the panel's listening socket, and handing it to the next plugin instance.

uvicorn closes the sockets it is given when it stops. We give it a ``dup()`` and
keep the original: the kernel keeps the port bound and listening, connections that
arrive during a reload wait in the backlog, and the next instance serves them from
the same socket. A parked socket that nobody claims within ``linger`` seconds is
closed, so disabling or uninstalling the plugin frees the port.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

from ..constants import LOG_PREFIX
from ..plugin_log import logger

ListenerKey = tuple[str, int]
LISTEN_BACKLOG = 2048
DEFAULT_LINGER_SECONDS = 5.0


async def open_listener(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port``; raises ``OSError`` (never ``SystemExit``)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    if not infos:
        raise OSError(f"cannot resolve {host!r}")
    family, socktype, proto, _, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        if sys.platform == "win32":
            # On Windows SO_REUSEADDR would let another program steal the port.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:
            # Lets us rebind over TIME_WAIT leftovers; never two listeners (no SO_REUSEPORT).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host in ("::", ""):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(LISTEN_BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def is_open(sock: socket.socket) -> bool:
    return sock.fileno() != -1


class ListenerHandover:
    """The parking place for listening sockets, kept in the process stash."""

    def __init__(self, stash: dict[str, Any], linger: float = DEFAULT_LINGER_SECONDS) -> None:
        self._parked: dict[ListenerKey, dict[str, Any]] = stash.setdefault("parked_listeners", {})
        self._linger = linger

    def parked_keys(self) -> list[ListenerKey]:
        return list(self._parked)

    def claim(self, key: ListenerKey) -> socket.socket | None:
        """Take the parked socket for ``key``, if one is still open."""
        entry = self._parked.pop(key, None)
        if entry is None:
            return None
        timer = entry.get("timer")
        if timer is not None:
            timer.cancel()
        sock = entry.get("sock")
        if isinstance(sock, socket.socket) and is_open(sock):
            return sock
        return None

    def park(self, key: ListenerKey, sock: socket.socket) -> None:
        """Keep ``sock`` listening for the next instance; close it if unclaimed."""
        self.discard(key)
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self._linger, _close_if_unclaimed, self._parked, key, sock)
        self._parked[key] = {"sock": sock, "timer": timer}

    def discard(self, key: ListenerKey) -> None:
        entry = self._parked.pop(key, None)
        if entry is not None:
            _close_entry(entry)

    def discard_all_except(self, keep: ListenerKey | None) -> list[ListenerKey]:
        """Close every parked socket but ``keep`` (the address changed)."""
        closed = [key for key in self._parked if key != keep]
        for key in closed:
            self.discard(key)
        return closed


def _close_entry(entry: dict[str, Any]) -> None:
    timer = entry.get("timer")
    if timer is not None:
        timer.cancel()
    sock = entry.get("sock")
    if isinstance(sock, socket.socket):
        sock.close()


def _close_if_unclaimed(
    parked: dict[ListenerKey, dict[str, Any]], key: ListenerKey, sock: socket.socket
) -> None:
    # Module-level on purpose: it may run after AstrBot purged this module.
    entry = parked.get(key)
    if entry is not None and entry.get("sock") is sock:
        del parked[key]
        sock.close()
        logger.info("%s Port %s:%s released (no plugin instance claimed it).", LOG_PREFIX, *key)
