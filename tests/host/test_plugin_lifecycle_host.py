"""Update, disable, enable and uninstall inside a real AstrBot core, counted exactly:
the plugin's asyncio tasks, loop timers, threads, LogBroker subscriptions, listening
sockets and open files, after each step.

The update is AstrBot's own ``PluginManager.update_plugin`` with a download URL on a
local market (``harness.plugin_market``), then one more ``reload``: what the
dashboard's Update button does. The plugin in the root is a COPY for this test (the
update and the uninstall delete the folder); the link to the repo is put back after.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import httpx
import psutil
import pytest
import websockets

from harness.panel_probes import login
from harness.plugin_market import LocalPluginMarket
from harness.ports import free_port, listeners, port_is_free
from harness.roots import (
    PLUGIN_NAME,
    place_plugin,
    plugin_config_path,
    plugin_data_dir,
)
from harness.waiting import async_wait_for

pytestmark = pytest.mark.host

PASSWORD = "Lifecycle-Host-Passw0rd-3"
UMO = "lifecycle:FriendMessage:user-1"
STORE_THREAD_PREFIX = "proactive-store"  # core/store/session_store.py THREAD_NAME
STASH_MODULE = "_astrbot_plugin_proactive_chat_stash"  # core/constants.py
# Timers an instance leaves on purpose when it stops: the parked listener and the
# live-log history wait this long for the next instance, then they go.
HANDOVER_TIMERS = {"_close_if_unclaimed", "_drop_unclaimed_history"}
HANDOVER_SECONDS = 10.0 + 1.0  # panel.py HISTORY_LINGER_SECONDS, and a margin
PORT_FREE_SECONDS = 8.0  # core/server/listener_handover.py: 5 s linger
CLOSE_RELOADING = 1012  # web/ws/connections.py: what an open page gets when the panel stops
ONE_SHOT_TASKS = {"pc-restore", "pc-compact"}  # end by themselves after a start


def _ours(code_file: str) -> bool:
    parts = Path(code_file).parts
    return PLUGIN_NAME in parts or "uvicorn" in parts


def our_tasks(*, lasting: bool = False) -> list[str]:
    """Names of live tasks running plugin or uvicorn code, or named by the plugin
    (with ``lasting``, without the one-shot start-up tasks)."""
    found = []
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        name = task.get_name()
        if (code is not None and _ours(code.co_filename)) or name.startswith(("pc-", "proactive-")):
            found.append(name if not name.startswith("Task-") else code.co_qualname)
    return sorted(n for n in found if not (lasting and n in ONE_SHOT_TASKS))


def our_timers() -> list[str]:
    """Callbacks of plugin code scheduled on the loop (``call_later``)."""
    loop = asyncio.get_running_loop()
    found = []
    for handle in getattr(loop, "_scheduled", []):  # asyncio's timer heap
        if handle.cancelled():
            continue
        callback = getattr(handle, "_callback", None)
        func = getattr(callback, "__func__", callback)
        code = getattr(func, "__code__", None)
        if code is not None and _ours(code.co_filename):
            found.append(code.co_name)
    return sorted(found)


def store_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(STORE_THREAD_PREFIX)]


def held_files(folder: Path) -> list[str]:
    prefix = str(folder)
    opened = [f.path for f in psutil.Process().open_files() if f.path.startswith(prefix)]
    maps = Path(f"/proc/{os.getpid()}/maps").read_text(encoding="utf-8", errors="replace")
    return sorted(set(opened) | {ln.split()[-1] for ln in maps.splitlines() if prefix in ln})


def uvicorn_filters() -> list[str]:
    return [
        type(f).__name__
        for name in ("uvicorn.error", "uvicorn.access", "uvicorn.asgi")
        for f in logging.getLogger(name).filters
    ]


def alive_plugin_modules() -> list[str]:
    """Plugin modules still in memory once AstrBot's own reference is gone: AstrBot
    purges ``sys.modules`` but leaves the package as an attribute of ``data.plugins``
    (until that name is imported again). Anything else holding them is a leak of ours
    (a timer, a task, the stash). Log records keeping objects are frozen to text."""
    package = sys.modules.get("data.plugins")
    if package is not None:
        package.__dict__.pop(PLUGIN_NAME, None)
    for record in [o for o in gc.get_objects() if isinstance(o, logging.LogRecord)]:
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
    gc.collect()
    prefix = f"data.plugins.{PLUGIN_NAME}"
    return sorted(
        o.__name__
        for o in gc.get_objects()
        if isinstance(o, ModuleType) and o.__name__.startswith(prefix)
    )


async def panel_plan(port: int) -> float:
    """Serve UMO from the panel (an override), returns its planned time."""
    headers = {"Authorization": f"Bearer {await login(port, PASSWORD)}"}
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10
    ) as client:
        r = await client.put(f"/api/sessions/{UMO}/override", json={"enable": True})
        assert r.status_code == 200, r.text
        r = await client.get(f"/api/sessions/{UMO}")
        return r.json()["next_at"]


@contextlib.asynccontextmanager
async def open_panel_page(port: int):
    """What an open panel page holds: the live-log and the event WebSocket."""
    token = await login(port, PASSWORD)
    origin = {"Origin": f"http://127.0.0.1:{port}"}
    async with contextlib.AsyncExitStack() as stack:
        sockets = [
            await stack.enter_async_context(
                websockets.connect(
                    f"ws://127.0.0.1:{port}/ws/{kind}?token={token}", additional_headers=origin
                )
            )
            for kind in ("logs", "events")
        ]
        for socket in sockets:
            assert '"hello"' in await asyncio.wait_for(socket.recv(), 5)
        yield sockets


async def closed_for_reload(sockets) -> None:
    for socket in sockets:
        await asyncio.wait_for(socket.wait_closed(), 5)
        assert socket.close_code == CLOSE_RELOADING, socket.close_code


async def settle(predicate, what, within: float = 5.0) -> None:
    await async_wait_for(predicate, within, 0.05, what)


@pytest.fixture
def plugin_copy(inprocess_root: Path, plugin_src: Path):
    """The root's plugin as a copy for one test; the link to the repo comes back after."""
    folder = place_plugin(inprocess_root, plugin_src, copy=True)
    yield folder
    place_plugin(inprocess_root, plugin_src)


async def test_update_disable_enable_uninstall_leave_nothing_running(
    host_factory, inprocess_root, plugin_copy, tmp_path
):
    port = free_port()
    data_dir = plugin_data_dir(inprocess_root)
    config_file = plugin_config_path(inprocess_root)
    async with host_factory({"web_admin": {"port": port, "password": PASSWORD}}) as host:
        broker = host.log_broker
        plan = await panel_plan(port)
        running = our_tasks(lasting=True)
        expected = {"pc-worker-0", "proactive-store-flush", f"proactive-chat-admin:{port}"}
        assert expected <= set(running), running
        assert len(store_threads()) == 1
        subscribers = len(broker.subscribers)

        async def same_as_running() -> None:
            await settle(
                lambda: our_tasks(lasting=True) == running,
                lambda: f"tasks {our_tasks()} != {running}",
            )
            assert len(store_threads()) == 1, store_threads()
            assert listeners(port) == 1
            assert len(broker.subscribers) == subscribers
            assert host.plugin_instance().service.engine.sessions[UMO].next_at == plan

        def leftovers() -> str:
            return (
                f"left: tasks {our_tasks()}, threads {store_threads()}, timers {our_timers()}, "
                f"broker subscribers {len(broker.subscribers)}, files {held_files(data_dir)}"
            )

        def nothing_left(timers_allowed: set[str]) -> bool:
            return (
                our_tasks() == []
                and store_threads() == []
                and set(our_timers()) <= timers_allowed
                and len(broker.subscribers) == subscribers - 1  # our live-log stream
                and held_files(data_dir) == []
            )

        # -- update: AstrBot downloads, replaces the folder, reloads; then reloads again
        with LocalPluginMarket(plugin_copy, tmp_path / "market", version="9.9.9") as market:
            await asyncio.wait_for(
                host.plugin_manager.update_plugin(PLUGIN_NAME, download_url=market.zip_url), 60
            )
            assert await host.reload_plugin() == (True, None)
        assert market.requested == ["/plugin.zip"]
        assert host.metadata().version == "9.9.9"
        await same_as_running()

        # -- disable with the panel open: everything stops, the port is handed back
        async with open_panel_page(port) as sockets:
            await host.turn_off()
            await closed_for_reload(sockets)
        await settle(lambda: nothing_left(HANDOVER_TIMERS), leftovers)
        await settle(lambda: port_is_free(port), "port held after disable", PORT_FREE_SECONDS)

        # -- enable: the same set running again, the plan read back from the store
        await host.turn_on()
        await same_as_running()

        # -- uninstall with the config and the data, the panel open
        async with open_panel_page(port) as sockets:
            await asyncio.wait_for(
                host.plugin_manager.uninstall_plugin(
                    PLUGIN_NAME, delete_config=True, delete_data=True
                ),
                30,
            )
            await closed_for_reload(sockets)
        uninstalled = time.monotonic()
        assert not plugin_copy.exists() and not data_dir.exists() and not config_file.exists()
        assert not [m for m in sys.modules if m.startswith(f"data.plugins.{PLUGIN_NAME}")]
        await settle(lambda: nothing_left(HANDOVER_TIMERS), leftovers)
        await settle(lambda: port_is_free(port), "port held after uninstall", PORT_FREE_SECONDS)
        # Watch until the hand-over timers are due: they end, nothing writes again.
        while time.monotonic() - uninstalled < HANDOVER_SECONDS:
            assert not data_dir.exists() and not config_file.exists()
            assert our_tasks() == [] and store_threads() == []
            await asyncio.sleep(0.2)
        assert our_timers() == []
        assert uvicorn_filters() == []
        stash = sys.modules[STASH_MODULE].state  # what outlives instances: plain data only
        assert "active_server" not in stash and not stash.get("parked_listeners"), stash
        assert alive_plugin_modules() == []
        assert port_is_free(port)
        assert not data_dir.exists() and not config_file.exists()
        warnings = [
            m.getMessage() for m in host.logs.select(logging.WARNING, contains="[Proactive")
        ]
        assert warnings == [], warnings
