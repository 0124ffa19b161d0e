"""The panel's WebSockets under hostile input, in a real AstrBot core: malformed and
oversized frames, floods, slow half-open upgrades and thousands of connection attempts
(harness/ws_abuse.py, from another process) while well-behaved pages stream.

The server must stay up, the good clients must keep their stream with no gap and no
disconnect, strangers get 1008 and never data, and when the abuse ends every closed
socket is gone from the server's books, memory, tasks and fds are back near where
they were, and terminate() is still bounded.
"""

from __future__ import annotations

import asyncio
import logging
import time

import psutil
import pytest

from harness.panel_browser import write_artifact
from harness.panel_probes import login
from harness.probes import HealthProber
from harness.waiting import async_wait_for
from harness.ws_abuse import GoodClients, produce_probes, run_abuse

pytestmark = pytest.mark.host

PASSWORD = "Harness-Passw0rd-42"
LOG_CLIENTS, EVENT_CLIENTS = 3, 2
GOOD = LOG_CLIENTS + EVENT_CLIENTS
# Enough to matter, small enough for the default run (about 3,500 connection attempts).
COUNTS = {"flood": 3000, "sequential": 600, "batches": 24, "batch": 100, "slow": 200}


class UvicornLines(logging.Handler):
    """What the panel's uvicorn lets through to the host's logging (after its filter)."""

    names = ("uvicorn.error", "uvicorn.access", "uvicorn.asgi")

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> UvicornLines:
        for name in self.names:
            logging.getLogger(name).addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.names:
            logging.getLogger(name).removeHandler(self)


def server_books(instance) -> dict[str, int]:
    """What the panel's server holds: sockets in the registry, uvicorn's connections
    and tasks, engine event subscribers."""
    panel = instance.panel
    uv = panel.server._uvicorn
    return {
        "registry": len(panel.deps.connections),
        "uvicorn_connections": len(uv.server_state.connections),
        "uvicorn_tasks": len(uv.server_state.tasks),
        "event_subscribers": len(instance.service.engine.events._subscribers),
    }


async def test_ws_abuse_leaves_good_clients_and_the_server_unharmed(host):
    instance = host.plugin_instance()
    port = int(host.plugin_config()["web_admin"]["port"])
    token = await login(port, PASSWORD)
    engine = instance.service.engine
    process = psutil.Process()

    stop_probes = asyncio.Event()
    producer = asyncio.create_task(
        produce_probes(logging.getLogger("astrbot"), engine.events, stop_probes, rate=50)
    )
    good = await asyncio.to_thread(GoodClients(port, token, LOG_CLIENTS, EVENT_CLIENTS).start)
    prober = await asyncio.to_thread(HealthProber(port, interval=0.05).start)
    try:
        await async_wait_for(lambda: server_books(instance)["registry"] == GOOD, timeout=10)
        await asyncio.sleep(1.0)  # let the stream settle before the baseline
        rss_before = process.memory_info().rss
        fds_before = process.num_fds()
        tasks_before = len(asyncio.all_tasks())
        mark = host.logs.mark()

        with UvicornLines() as uvicorn_lines:
            report = await run_abuse(port, token, **COUNTS)
        probe = await asyncio.to_thread(prober.stop)

        # Every socket the abuse opened is gone from the server's books.
        want = {
            "registry": GOOD,
            "uvicorn_connections": GOOD,
            "uvicorn_tasks": GOOD,
            "event_subscribers": EVENT_CLIENTS,
        }
        await async_wait_for(
            lambda: server_books(instance) == want,
            timeout=15,
            message=lambda: f"server still holds {server_books(instance)}, want {want}",
        )
        await asyncio.sleep(1.0)  # the stream goes on after the abuse
        rss_after = process.memory_info().rss
        fds_after = process.num_fds()
        tasks_after = len(asyncio.all_tasks())
    finally:
        if prober.result is None:
            await asyncio.to_thread(prober.stop)
        stop_probes.set()
        sent = await producer
        watched = await asyncio.to_thread(good.stop)

    write_artifact(
        "ws-abuse.json",
        {
            "report": report,
            "health": probe,
            "good": [client_summary(c) for c in watched["clients"]],
            "server": {
                "rss_mb": [rss_before / 2**20, rss_after / 2**20],
                "fds": [fds_before, fds_after],
                "tasks": [tasks_before, tasks_after],
            },
        },
    )

    # --- what the abuse saw ---------------------------------------------------------
    bad_malformed = {k: v for k, v in report["malformed"].items() if not v["ok"]}
    assert not bad_malformed, bad_malformed
    floods = report["floods"]
    for name, flood in floods.items():
        if "stranger" in name:
            assert flood["outcome"] == "close_1008" and flood["data_frames"] == 0, (name, flood)
        else:  # a logged-in page has nothing to say: a flood is closed as policy
            assert (flood["outcome"], flood["reason"]) == ("close_1008", "too many messages"), (
                name,
                flood,
            )
    for path, few in report["few_messages"].items():
        assert few["outcome"] == "timeout" and few["data_frames"] >= 1, (path, few)
    storm = report["storm"]
    assert storm["stranger_problems"] == [], storm
    assert storm["logged_in_problems"] == [], storm
    assert storm["outcomes"].get("logged_in close_1000", 0) > 0, storm
    assert report["held"] == {"count": 5, "still_open_at_end": 5}, report["held"]
    slow = report["slow_upgrades"]  # request heads never finished: the server hangs up
    assert slow["closed_by_server"] == slow["count"], slow
    assert report["connection_attempts"] >= 3000, report["connection_attempts"]

    # --- the good clients: never disconnected, nothing missing, nothing twice --------
    for client in watched["clients"]:
        assert client["closed"] == "", client_summary(client)
        assert client["missed"] == 0 and client["duplicates"] == 0, client_summary(client)
        assert client["probe_gaps"] == 0, client_summary(client)
        # Still streaming at the end: it got the probes up to (nearly) the last one.
        assert client["last_probe"] >= sent - 100, (sent, client_summary(client))

    # --- the server stayed up and is back to its size ---------------------------------
    assert probe["failed"] == 0, probe
    assert probe["ok"] > 0, probe
    assert rss_after - rss_before < 100 * 2**20, (rss_before, rss_after)
    assert fds_after <= fds_before + 3, (fds_before, fds_after)
    assert tasks_after <= tasks_before + 3, (tasks_before, tasks_after)
    # No handler failed, and strangers cannot write to AstrBot's log through uvicorn.
    chatter = [r.getMessage() for r in uvicorn_lines.records]
    assert chatter == [], chatter[:20]
    errors = [r.getMessage() for r in host.logs.select(logging.ERROR, since=mark)]
    assert errors == [], errors[:10]

    # --- and it still stops in bounded time ------------------------------------------
    began = time.perf_counter()
    await instance.terminate()
    took = time.perf_counter() - began
    assert took < 3.0, f"terminate took {took:.2f} s after the abuse"
    assert await host.reload_plugin() == (True, None)


def client_summary(client: dict) -> dict:
    return {k: v for k, v in client.items() if k != "latencies"}
