"""The port checks (harness/ports.py) that lifecycle tests lean on: each must be able to
say both yes and no, or a "port freed" assertion would prove nothing."""

from __future__ import annotations

from harness.ports import free_port, listeners, listening_socket, port_is_free, port_refuses


def test_a_listening_port_is_not_refused_nor_free_and_is_counted() -> None:
    with listening_socket() as sock:
        port = sock.getsockname()[1]
        assert not port_refuses(port)
        assert not port_is_free(port)
        assert listeners(port) == 1


def test_a_closed_port_is_refused_and_free() -> None:
    port = free_port()
    assert port_refuses(port)
    assert port_is_free(port)
    assert listeners(port) == 0
