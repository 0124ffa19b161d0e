"""The admin panel inside a real AstrBot core: hot reloads, leaks, bounded terminate,
a busy port, address changes, disable and enable, a half-failed cleanup."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import time

import httpx
import psutil
import pytest

from harness.panel_probes import healthz, login
from harness.ports import free_port, listeners, port_refuses
from harness.probes import HealthProber, LogFollowers
from harness.waiting import async_wait_for

pytestmark = pytest.mark.host

PASSWORD = "Harness-Passw0rd-42"


def panel_port(host) -> int:
    return int(host.plugin_config()["web_admin"]["port"])


def plugin_tasks() -> list[str]:
    return sorted(
        t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("proactive-chat")
    )


async def test_fifty_reloads_with_ten_clients_lose_nothing(host):
    port = panel_port(host)
    token = await login(port, PASSWORD)
    prober = await asyncio.to_thread(HealthProber(port).start)
    followers = await asyncio.to_thread(LogFollowers(port, token, clients=10).start)
    broker = host.log_broker
    process = psutil.Process()
    baseline: dict = {}
    durations = []
    try:
        for index in range(50):
            began = time.perf_counter()
            assert await host.reload_plugin() == (True, None)
            durations.append(time.perf_counter() - began)
            assert await healthz(port) == 200, f"panel down after reload {index + 1}"
            logging.getLogger("astrbot").info("[ProactiveChat] test line after reload %d", index)
            if index == 4:
                await asyncio.sleep(0.3)
                baseline = {
                    "fds": process.num_fds(),
                    "subscribers": len(broker.subscribers),
                    "tasks": len(asyncio.all_tasks()),
                }
        await asyncio.sleep(0.5)
        fds, subscribers = process.num_fds(), len(broker.subscribers)
        tasks = len(asyncio.all_tasks())
    finally:
        probe = await asyncio.to_thread(prober.stop)
        follow = await asyncio.to_thread(followers.stop)

    assert probe["refused"] == 0 and probe["failed"] == 0, probe
    for client in follow["clients"]:
        assert client["duplicates"] == 0 and client["missed"] == 0, client
        assert client["reconnects"] >= 50, client
    assert subscribers == baseline["subscribers"], (subscribers, baseline)
    assert fds <= baseline["fds"] + 4, (fds, baseline)
    assert tasks <= baseline["tasks"] + 2, (tasks, baseline)
    assert plugin_tasks() == ["proactive-chat-admin:" + str(port), "proactive-chat-log-pump"]
    assert listeners(port) == 1
    assert max(durations) < 3.0, durations


async def test_terminate_is_bounded_with_clients_that_never_read(host):
    port = panel_port(host)
    token = await login(port, PASSWORD)
    stalled = []
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        sock.sendall(
            (
                f"GET /ws/logs?scope=all&token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        stalled.append(sock)
    half_open = socket.create_connection(("127.0.0.1", port))
    half_open.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
    logger = logging.getLogger("astrbot")
    for n in range(3000):  # fill the stalled clients' buffers
        logger.info("[ProactiveChat] filler line %d %s", n, "x" * 200)
        if n % 200 == 0:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)

    instance = host.plugin_instance()
    began = time.perf_counter()
    await instance.terminate()
    took = time.perf_counter() - began
    for sock in [*stalled, half_open]:
        sock.close()
    assert took < 3.0, f"terminate took {took:.2f} s"
    assert plugin_tasks() == [], plugin_tasks()
    # The plugin comes back on its port after that.
    assert await host.reload_plugin() == (True, None)
    assert await healthz(port) == 200


async def test_busy_port_keeps_astrbot_and_comes_up_when_freed(host_factory):
    port = free_port()
    stranger = socket.socket()
    stranger.bind(("127.0.0.1", port))
    stranger.listen()
    config = {"web_admin": {"port": port, "password": PASSWORD}}
    try:
        async with host_factory(plugin_config=config) as host:
            assert host.metadata().activated
            server = host.plugin_instance().panel.server
            assert server.state == "waiting_for_port"
            # Long enough for the back-off to reach its cap: the worst case for recovery.
            await asyncio.sleep(8.0)
            busy_lines = host.logs.select(contains=f"port {port}")
            assert len(busy_lines) == 1, [r.getMessage() for r in busy_lines]
            assert "web_admin.port" in busy_lines[0].getMessage()
            assert host.metadata().activated
            stranger.close()
            freed = time.monotonic()
            await async_wait_for(lambda: not port_refuses(port), timeout=8, interval=0.05)
            took = time.monotonic() - freed
            assert await healthz(port) == 200
            assert took < 5.0, f"panel came back {took:.1f} s after the port was freed"
    finally:
        stranger.close()


async def test_address_change_frees_the_old_port_at_once(host):
    old_port = panel_port(host)
    new_port = free_port()
    assert await host.set_plugin_config({"web_admin": {"port": new_port, "password": PASSWORD}})
    assert await healthz(new_port) == 200
    assert port_refuses(old_port), "the old port should be closed when the address changes"


async def test_disable_frees_port_and_enable_restores_it(host):
    port = panel_port(host)
    await host.turn_off()
    await async_wait_for(lambda: port_refuses(port), timeout=7, interval=0.1)
    with socket.socket() as stranger:  # really free: another program can take it
        stranger.bind(("127.0.0.1", port))
    await host.turn_on()
    await async_wait_for(lambda: not port_refuses(port), timeout=5, interval=0.05)
    assert await healthz(port) == 200


async def test_login_survives_reload(host):
    port = panel_port(host)
    token = await login(port, PASSWORD)
    assert await host.reload_plugin() == (True, None)
    async with httpx.AsyncClient(timeout=5) as client:
        me = await client.get(
            f"http://127.0.0.1:{port}/api/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.status_code == 200, me.text
        # A changed password ends every login.
        changed = {"web_admin": {"port": port, "password": "Another-Passw0rd-7"}}
        assert await host.set_plugin_config(changed)
        me = await client.get(
            f"http://127.0.0.1:{port}/api/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert me.status_code == 401


async def test_half_failed_cleanup_is_finished_by_the_next_instance(host):
    """An old instance whose terminate() failed must not keep serving stale state."""
    port = panel_port(host)
    old = host.plugin_instance()
    old_server = old.panel.server

    async def broken_terminate() -> None:
        raise RuntimeError("simulated failure half-way through cleanup")

    old.terminate = broken_terminate
    mark = host.logs.mark()
    assert await host.reload_plugin() == (True, None)
    new_server = host.plugin_instance().panel.server
    assert new_server is not old_server
    assert old_server.state == "stopped"
    assert new_server.state == "running"
    assert await healthz(port) == 200
    assert host.logs.select(since=mark, contains="earlier admin server was still running")
    assert listeners(port) == 1


async def test_hundred_reloads_leak_nothing(host):
    """Tasks, sockets, file descriptors, LogBroker subscriptions: flat across 100 reloads."""
    port = panel_port(host)
    broker = host.log_broker
    process = psutil.Process()

    def snapshot() -> dict:
        return {
            "fds": process.num_fds(),
            "tcp": len(process.net_connections(kind="tcp")),
            "subscribers": len(broker.subscribers),
            "tasks": len(asyncio.all_tasks()),
            "plugin_tasks": plugin_tasks(),
        }

    for _ in range(5):
        assert await host.reload_plugin() == (True, None)
    await asyncio.sleep(0.3)
    before = snapshot()
    for _ in range(100):
        assert await host.reload_plugin() == (True, None)
    assert await healthz(port) == 200
    await asyncio.sleep(0.3)
    after = snapshot()
    assert after["plugin_tasks"] == before["plugin_tasks"], (before, after)
    assert after["subscribers"] == before["subscribers"], (before, after)
    assert after["tasks"] <= before["tasks"] + 1, (before, after)
    assert after["fds"] <= before["fds"] + 3, (before, after)
    assert after["tcp"] <= before["tcp"] + 2, (before, after)
    assert listeners(port) == 1
    # The dashboard page's two routes are replaced at each reload, never piled up.
    ours = [r for r, *_ in host.context.registered_web_apis if r.startswith("/astrbot_plugin_")]
    assert len(ours) == 2, ours
    # Old instances' modules are released: one of each of our classes lives, not 106.
    # AstrBot logs its plugin metadata object itself (``logger.info(metadata)``), and
    # the harness and pytest keep log records: freeze those records to text first.
    for record in [o for o in gc.get_objects() if isinstance(o, logging.LogRecord)]:
        record.msg, record.args = record.getMessage(), ()
    gc.collect()
    names = (
        "AdminPanel",
        "PanelError",
        "LogFilter",
        "LogRing",
        "WebAdminServer",
        "DashboardBridge",  # the dashboard page's routes, which AstrBot never removes
    )
    alive = {name: 0 for name in names}
    for obj in gc.get_objects():
        if (
            isinstance(obj, type)
            and obj.__name__ in alive
            and obj.__module__.startswith("data.plugins.")  # not the unit tests' copy
        ):
            alive[obj.__name__] += 1
    assert alive == dict.fromkeys(names, 1), alive


async def test_wrong_password_throttle_survives_reload(host):
    port = panel_port(host)
    async with httpx.AsyncClient(timeout=10) as client:
        url = f"http://127.0.0.1:{port}/api/login"
        codes = [
            (await client.post(url, json={"password": f"wrong-{n}"})).status_code for n in range(5)
        ]
        assert codes == [401, 401, 401, 401, 429], codes
        assert await host.reload_plugin() == (True, None)
        again = await client.post(url, json={"password": PASSWORD})
        assert again.status_code == 429, "a reload must not reset the throttle"
        assert int(again.headers["retry-after"]) > 0
