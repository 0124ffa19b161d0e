"""Update, disable, enable and uninstall in a real ``astrbot run``: after each, nothing
of the plugin keeps running, no port stays held, no file is left that should go.

The update is AstrBot's own path, run offline (``harness.plugin_market``): the
dashboard's Update button downloads the zip from a local market, replaces the plugin
folder, and reloads twice in a row. The plugin in the root is a COPY: uninstall and
update delete the folder. What the process holds is read from outside with psutil:
listening sockets, open files, and mapped files (SQLite's -shm) in the data folder.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from harness.panel_client import PanelClient, closed_with
from harness.panel_probes import panel_answers
from harness.plugin_market import LocalPluginMarket
from harness.ports import free_port, listeners, port_is_free
from harness.process import AstrBotProcess, DashboardError
from harness.roots import (
    REPO_ROOT,
    place_plugin,
    plugin_config_path,
    plugin_data_dir,
)
from harness.waiting import wait_for
from harness.webchat import WebChatSession

pytestmark = pytest.mark.process

PASSWORD = "Lifecycle-Passw0rd-5"
PORT_FREE_SECONDS = 8.0  # a parked listener is closed after 5 s when nobody claims it
QUIET_AFTER_UNINSTALL = 7.0  # watched for late writes: a flush, a timer, the handover
STORE_FILE = "proactive_chat.db"
CLOSE_RELOADING = 1012  # web/ws/connections.py: what an open page gets when the panel stops


def held_files(pid: int, folder: Path) -> list[str]:
    """Files under ``folder`` the process has open or mapped."""
    prefix = str(folder)
    opened = [f.path for f in psutil.Process(pid).open_files() if f.path.startswith(prefix)]
    maps = Path(f"/proc/{pid}/maps").read_text(encoding="utf-8", errors="replace")
    mapped = {line.split(maxsplit=5)[-1] for line in maps.splitlines() if prefix in line}
    return sorted(set(opened) | mapped)


def stays(predicate: Callable[[], object], seconds: float, what: str) -> None:
    """``predicate`` holds at every look for ``seconds`` (a watch, not a wait)."""
    end = time.monotonic() + max(0.0, seconds)
    while True:
        assert predicate(), f"{what} stopped holding"
        if time.monotonic() >= end:
            return
        time.sleep(0.2)


def plugin_problems(proc: AstrBotProcess) -> list[str]:
    return [
        line
        for line in proc.log_text().splitlines()
        if "[ProactiveChat]" in line and re.search(r"\[(WARN|ERRO|CRIT)\]", line)
    ]


def plan_of(panel: PanelClient, umo: str) -> float | None:
    return next((s["next_at"] for s in panel.sessions() if s["umo"] == umo), None)


def test_update_disable_enable_uninstall_leave_nothing_behind(llm_process_host, fake_llm, tmp_path):
    port = free_port()
    proc: AstrBotProcess = llm_process_host(
        {"web_admin": {"port": port, "password": PASSWORD}}, start=False
    )
    plugin_dir = place_plugin(proc.root, copy=True)
    assert not plugin_dir.is_symlink()
    proc.launch(60)
    data_dir = plugin_data_dir(proc.root)
    config_file = plugin_config_path(proc.root)
    wait_for(lambda: panel_answers(port), 30, 0.05, lambda: proc.log_tail(30))
    panel = PanelClient(port, PASSWORD)

    # A served session with a plan, in the store.
    chat = WebChatSession.create(proc)
    fake_llm.script("hello there")
    assert chat.send("hi").text == "hello there"
    r = panel.session_action(chat.umo, "override", method="PUT", json={"enable": True})
    assert r.status_code == 200, r.text
    plan = plan_of(panel, chat.umo)
    assert plan is not None
    assert (data_dir / STORE_FILE).is_file() and (data_dir / "panel_auth.json").is_file()
    assert str(data_dir / STORE_FILE) in held_files(proc.pid, data_dir)
    started = panel.status()["started_at"]
    panel.close()

    # -- update: AstrBot's own path, two reloads in a row -----------------------------
    with LocalPluginMarket(plugin_dir, tmp_path / "market", version="9.9.9") as market:
        proc.bind_market_source(market.registry_url, market.market_plugin_id)
        before = len(proc.log_text().splitlines())
        proc.update_plugin()
    assert "/plugin.zip" in market.requested
    assert proc.plugin_info()["version"] == "9.9.9"

    def after_update() -> str:
        return "\n".join(proc.log_text().splitlines()[before:])

    # Both reloads start the engine; the second start may end just after AstrBot's
    # update returned (initialize() does not wait for it: main.py).
    wait_for(lambda: after_update().count("[ProactiveChat] Engine started") >= 2, 10.0)
    assert after_update().count("[ProactiveChat] Engine started") == 2, after_update()
    assert panel_answers(port)
    with PanelClient(port, PASSWORD) as panel:
        assert panel.status()["started_at"] > started  # served by the newest instance
        assert plan_of(panel, chat.umo) == plan
    assert listeners(port, proc.pid) == 1
    db_handles = [p for p in psutil.Process(proc.pid).open_files() if p.path.endswith(STORE_FILE)]
    assert len(db_handles) == 1, db_handles  # the old instances' connections are closed

    # -- disable, with the panel open in a browser ------------------------------------
    with PanelClient(port, PASSWORD) as panel, panel.open_page() as sockets:
        proc.disable_plugin()
        assert [closed_with(ws) for ws in sockets] == [CLOSE_RELOADING] * 2
    wait_for(lambda: port_is_free(port), PORT_FREE_SECONDS, 0.1, "panel port still held")
    assert held_files(proc.pid, data_dir) == []
    fake_llm.script("still here")
    assert chat.send("anyone?").text == "still here"  # AstrBot answers without the plugin

    # -- enable --------------------------------------------------------------------------
    proc.enable_plugin()
    wait_for(lambda: panel_answers(port), 10, 0.05, lambda: proc.log_tail(30))
    assert listeners(port, proc.pid) == 1
    with PanelClient(port, PASSWORD) as panel:
        assert plan_of(panel, chat.umo) == plan  # restored from the store

    # -- uninstall, deleting config and data ---------------------------------------------
    with PanelClient(port, PASSWORD) as panel, panel.open_page() as sockets:
        proc.uninstall_plugin(delete_config=True, delete_data=True)
        uninstalled = time.monotonic()
        assert [closed_with(ws) for ws in sockets] == [CLOSE_RELOADING] * 2
    assert not plugin_dir.exists()
    assert not data_dir.exists(), sorted(p.name for p in data_dir.iterdir())
    assert not config_file.exists()
    wait_for(lambda: port_is_free(port), PORT_FREE_SECONDS, 0.1, "panel port still held")
    assert held_files(proc.pid, data_dir) == []

    def nothing_came_back() -> bool:
        return not data_dir.exists() and not config_file.exists() and port_is_free(port)

    watched = time.monotonic() - uninstalled
    stays(nothing_came_back, QUIET_AFTER_UNINSTALL - watched, "data, config and port stay gone")
    fake_llm.script("bye")
    assert chat.send("after uninstall").text == "bye"
    assert proc.alive()
    with pytest.raises(DashboardError):
        proc.plugin_info()
    for name in ("main.py", "metadata.yaml", "core", "web", "templates", "static"):
        assert (REPO_ROOT / name).exists(), f"the repo lost {name}"
    assert plugin_problems(proc) == [], "\n".join(plugin_problems(proc))
