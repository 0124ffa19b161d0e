"""TCP ports on 127.0.0.1 as the tests see them: one to use, one to serve on, and the
checks that lifecycle tests make (refused, free to bind, how many listen here).

No HTTP in here (see panel_probes.py for ``/healthz`` and the panel's login).
"""

from __future__ import annotations

import errno
import socket

import psutil


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_socket(backlog: int = 64) -> socket.socket:
    """A socket listening on a free port of 127.0.0.1, for a server to ``serve(sockets=)``
    on: no race between picking the port and binding it. The caller closes it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    return sock


def port_refuses(port: int) -> bool:
    """Nothing listens on 127.0.0.1:port: a connect is refused at once."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED


def port_bindable(port: int) -> bool:
    """Another program could listen on 127.0.0.1:port now (bound and closed at once).

    With SO_REUSEADDR, as servers set it: connections of the old listener left in
    TIME_WAIT do not count, a socket still listening does."""
    with socket.socket() as stranger:
        stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            stranger.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_is_free(port: int) -> bool:
    """Nobody listens on the port and anybody could take it."""
    return port_refuses(port) and port_bindable(port)


def listeners(port: int, pid: int | None = None) -> int:
    """How many sockets of this process (or ``pid``) listen on ``port``."""
    return sum(
        1
        for c in psutil.Process(pid).net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
    )
