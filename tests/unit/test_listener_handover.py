"""``open_listener`` and ``ListenerHandover``: real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import errno
import socket

import pytest

from proactive_chat.core.server.listener_handover import (
    ListenerHandover,
    is_open,
    open_listener,
)


@pytest.fixture
async def listener(free_port):
    port = free_port()
    sock = await open_listener("127.0.0.1", port)
    yield sock, port
    sock.close()


def connect(port: int) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=2)
    return client


async def accept(sock: socket.socket) -> socket.socket:
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(2):
        conn, _ = await loop.sock_accept(sock)
    return conn


# --- open_listener ------------------------------------------------------------------


async def test_open_listener_binds_and_listens(listener):
    sock, port = listener
    assert sock.getsockname() == ("127.0.0.1", port)
    assert sock.family == socket.AF_INET
    assert sock.type == socket.SOCK_STREAM
    assert sock.getblocking() is False
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0
    if hasattr(socket, "SO_REUSEPORT"):
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
    client = connect(port)
    conn = await accept(sock)
    client.sendall(b"ping")
    assert conn.recv(4) == b"ping"
    conn.close()
    client.close()


async def test_second_bind_to_same_port_is_refused(listener):
    _, port = listener
    with pytest.raises(OSError) as caught:
        await open_listener("127.0.0.1", port)
    assert caught.value.errno == errno.EADDRINUSE


async def test_bind_to_all_interfaces_conflicts_with_loopback_listener(listener):
    _, port = listener
    with pytest.raises(OSError) as caught:
        await open_listener("0.0.0.0", port)
    assert caught.value.errno == errno.EADDRINUSE


async def test_ipv6_loopback(free_port):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    port = free_port()
    try:
        sock = await open_listener("::1", port)
    except OSError as exc:
        pytest.skip(f"IPv6 loopback unavailable: {exc}")
    try:
        assert sock.family == socket.AF_INET6
        assert sock.getsockname()[:2] == ("::1", port)
    finally:
        sock.close()


async def test_unresolvable_host_raises_oserror():
    with pytest.raises(OSError):
        await open_listener("no-such-host.invalid", 4100)


# --- ListenerHandover ---------------------------------------------------------------


async def test_park_then_claim_returns_same_socket_and_cancels_timer(listener):
    sock, port = listener
    stash: dict = {}
    handover = ListenerHandover(stash, linger=0.2)
    key = ("127.0.0.1", port)
    handover.park(key, sock)
    assert handover.parked_keys() == [key]
    timer = stash["parked_listeners"][key]["timer"]
    claimed = handover.claim(key)
    assert claimed is sock
    assert timer.cancelled()
    assert handover.parked_keys() == []
    await asyncio.sleep(0.35)  # past the linger: the claimed socket stays open
    assert is_open(sock)
    assert handover.claim(key) is None


async def test_claim_from_a_new_handover_on_the_same_stash(listener):
    # A hot reload: the next instance builds its own ListenerHandover on the stash.
    sock, port = listener
    stash: dict = {}
    ListenerHandover(stash, linger=0.2).park(("127.0.0.1", port), sock)
    assert ListenerHandover(stash, linger=0.2).claim(("127.0.0.1", port)) is sock


async def test_unclaimed_socket_is_closed_after_linger_and_port_is_free(listener):
    sock, port = listener
    handover = ListenerHandover({}, linger=0.2)
    handover.park(("127.0.0.1", port), sock)
    await asyncio.sleep(0.05)
    assert is_open(sock)
    await asyncio.sleep(0.3)
    assert sock.fileno() == -1
    assert handover.parked_keys() == []
    again = await open_listener("127.0.0.1", port)
    again.close()


async def test_claim_of_closed_parked_socket_returns_none(listener):
    sock, port = listener
    handover = ListenerHandover({}, linger=5)
    handover.park(("127.0.0.1", port), sock)
    sock.close()
    assert handover.claim(("127.0.0.1", port)) is None
    assert handover.parked_keys() == []


async def test_claim_unknown_key_is_none():
    assert ListenerHandover({}, linger=0.2).claim(("127.0.0.1", 1)) is None


async def test_park_twice_closes_the_first_socket(free_port):
    handover = ListenerHandover({}, linger=5)
    key = ("127.0.0.1", 0)
    first = await open_listener("127.0.0.1", free_port())
    second = await open_listener("127.0.0.1", free_port())
    try:
        handover.park(key, first)
        handover.park(key, second)
        assert first.fileno() == -1
        assert handover.claim(key) is second
    finally:
        first.close()
        second.close()


async def test_discard_all_except(free_port):
    handover = ListenerHandover({}, linger=5)
    socks = {}
    for _ in range(3):
        port = free_port()
        socks[("127.0.0.1", port)] = await open_listener("127.0.0.1", port)
    keys = list(socks)
    try:
        for key, sock in socks.items():
            handover.park(key, sock)
        closed = handover.discard_all_except(keys[1])
        assert sorted(closed) == sorted([keys[0], keys[2]])
        assert handover.parked_keys() == [keys[1]]
        assert socks[keys[0]].fileno() == -1
        assert socks[keys[2]].fileno() == -1
        assert is_open(socks[keys[1]])
        assert handover.discard_all_except(None) == [keys[1]]
        assert socks[keys[1]].fileno() == -1
        assert handover.parked_keys() == []
    finally:
        for sock in socks.values():
            sock.close()


async def test_discard_cancels_the_timer(listener):
    sock, port = listener
    stash: dict = {}
    handover = ListenerHandover(stash, linger=5)
    handover.park(("127.0.0.1", port), sock)
    timer = stash["parked_listeners"][("127.0.0.1", port)]["timer"]
    handover.discard(("127.0.0.1", port))
    assert timer.cancelled()
    assert sock.fileno() == -1
    handover.discard(("127.0.0.1", port))  # twice: harmless


async def test_late_timer_does_not_close_a_reparked_socket(free_port):
    # The old timer fires for a key that now holds another socket: leave it alone.
    from proactive_chat.core.server.listener_handover import _close_if_unclaimed

    stash: dict = {}
    handover = ListenerHandover(stash, linger=5)
    key = ("127.0.0.1", 1)
    old = await open_listener("127.0.0.1", free_port())
    new = await open_listener("127.0.0.1", free_port())
    try:
        handover.park(key, new)
        _close_if_unclaimed(stash["parked_listeners"], key, old)
        assert is_open(new)
        assert handover.parked_keys() == [key]
    finally:
        handover.discard_all_except(None)
        old.close()
        new.close()


async def test_parked_socket_keeps_accepting_into_the_backlog(listener):
    sock, port = listener
    handover = ListenerHandover({}, linger=2)
    key = ("127.0.0.1", port)
    # uvicorn is given a dup(); closing the dup leaves the original listening.
    served = sock.dup()
    served.close()
    handover.park(key, sock)
    client = connect(port)  # nobody serves right now: waits in the backlog
    client.sendall(b"during reload")
    await asyncio.sleep(0.05)
    claimed = handover.claim(key)
    assert claimed is sock
    conn = await accept(claimed)
    try:
        conn.settimeout(2)
        assert conn.recv(64) == b"during reload"
    finally:
        conn.close()
        client.close()
