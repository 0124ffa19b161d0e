"""Proves the subprocess harness: ``astrbot run`` starts, the dashboard API logs in,
saves the plugin config (hot reload), disables and enables it, and stop() leaves no
process behind."""

from __future__ import annotations

import psutil
import pytest

from harness import read_plugin_config
from harness.dummy_plugin import lifecycle_events, make_dummy_plugin
from harness.ports import free_port
from harness.process import PASSWORD_RE

pytestmark = pytest.mark.process


def test_start_login_save_disable_stop(process_host):
    proc = process_host(login=False)
    assert proc.ready_after < 60
    password = proc.initial_password()
    assert PASSWORD_RE.search(proc.log_text()).group(1) == password
    assert proc.login()

    assert proc.plugin_info()["activated"] is True
    config = proc.get_plugin_config()
    config["web_admin"]["port"] = free_port()
    proc.save_plugin_config(config)
    assert read_plugin_config(proc.root)["web_admin"]["port"] == config["web_admin"]["port"]
    assert proc.get_plugin_config()["web_admin"]["port"] == config["web_admin"]["port"]

    proc.disable_plugin()
    assert proc.plugin_info()["activated"] is False
    proc.enable_plugin()
    assert proc.plugin_info()["activated"] is True

    pid = proc.pid
    assert proc.stop() == 0  # SIGINT: AstrBot's own graceful shutdown
    assert not proc.alive()
    assert not psutil.pid_exists(pid)
    assert proc.log_problems() == []


def test_lifecycle_seen_from_outside(process_host, tmp_path):
    src = make_dummy_plugin(tmp_path / "dummy")
    proc = process_host(src=src)
    assert [e["event"] for e in lifecycle_events(proc.root)] == ["init", "initialize"]

    proc.save_plugin_config({"web_admin": {"port": free_port(), "password": "x"}})
    events = [e["event"] for e in lifecycle_events(proc.root)]
    assert events[2:] == ["terminate", "init", "initialize"]  # done when the PUT answers

    proc.disable_plugin()
    assert lifecycle_events(proc.root)[-1]["event"] == "terminate"
    proc.enable_plugin()
    proc.stop()
    events = [e["event"] for e in lifecycle_events(proc.root)]
    assert events[-3:] == ["init", "initialize", "terminate"]
    assert {e["pid"] for e in lifecycle_events(proc.root)} == {proc.pid}
