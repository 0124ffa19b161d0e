"""`astrbot run` loads the plugin with no warning, and stops cleanly with it."""

from __future__ import annotations

import re

import httpx

from harness.ports import free_port

PASSWORD = "Clean-Passw0rd-3"


def test_plugin_loads_without_warnings_and_astrbot_stops_cleanly(process_host):
    port = free_port()
    proc = process_host(plugin_config={"web_admin": {"port": port, "password": PASSWORD}})
    proc.wait_for_log(r"Admin panel: http://127\.0\.0\.1:\d+/", timeout=15)
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {"status": "ok"}
    problems = proc.log_problems()
    assert problems == [], "\n".join(problems)
    ours = [
        line
        for line in proc.log_text().splitlines()
        if re.search(r"\[(WARN|ERRO|CRIT)\]", line)
        and ("proactive" in line.lower() or "ProactiveChat" in line)
    ]
    assert ours == [], "\n".join(ours)
    assert proc.stop() == 0, proc.log_tail()
    with httpx.Client() as client:
        try:
            client.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            still_up = True
        except httpx.ConnectError:
            still_up = False
    assert not still_up, "the panel outlived AstrBot"
