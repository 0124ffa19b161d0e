"""AstrBot's "log level for this plugin" governs every line the plugin logs.

The dashboard's selector calls ``LogManager.set_plugin_log_level(<plugin>, level)``;
here it is called the same way, the plugin is reloaded (its start-up logs INFO lines
from the service, the engine and the panel), and the lines of the plugin's dedicated
logger are counted, in the test capture and in the LogBroker the live-log page reads.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest

from harness.roots import PLUGIN_NAME

pytestmark = pytest.mark.host

PLUGIN_LOGGER = f"astrbot.plugin.{PLUGIN_NAME}"


def _drain(queue: asyncio.Queue) -> list[dict]:
    entries = []
    while not queue.empty():
        entries.append(queue.get_nowait())
    return entries


async def _reload_and_collect(host) -> tuple[list[logging.LogRecord], list[dict]]:
    queue = host.log_broker.register()
    try:
        mark = host.logs.mark()
        ok, error = await host.reload_plugin()
        assert ok, error
        await asyncio.sleep(0.2)  # the broker's handler publishes on the loop
        records = [r for r in host.logs.records[mark:] if r.name == PLUGIN_LOGGER]
        return records, _drain(queue)
    finally:
        host.log_broker.unregister(queue)


async def test_every_module_logs_through_the_plugins_own_logger(host) -> None:
    import astrbot.api as astrbot_api

    seam = sys.modules[f"data.plugins.{PLUGIN_NAME}.core.plugin_log"].logger
    assert seam.name == PLUGIN_LOGGER
    # The logger Star.__init__ configured, and the one astrbot.api.logger picks for us.
    assert host.plugin_instance().logger is seam
    engine_module = f"data.plugins.{PLUGIN_NAME}.core.engine.scheduler"
    assert astrbot_api._resolve_caller_logger(engine_module) is seam


async def test_the_per_plugin_log_level_applies_to_the_plugin(host) -> None:
    from astrbot.core.log import LogManager

    try:
        LogManager.set_plugin_log_level(PLUGIN_NAME, "WARNING")
        quiet, _ = await _reload_and_collect(host)
        assert [r.getMessage() for r in quiet if r.levelno < logging.WARNING] == []

        LogManager.set_plugin_log_level(PLUGIN_NAME, "DEBUG")
        loud, entries = await _reload_and_collect(host)
        started = [r for r in loud if "Engine started" in r.getMessage()]
        assert started and started[0].levelno == logging.INFO, host.logs.text()[-3000:]
        # The live-log page tells our lines by the name AstrBot tags them with.
        tagged = [e for e in entries if e.get("plugin_name") == PLUGIN_NAME]
        assert any("Engine started" in str(e.get("data")) for e in tagged), entries[-20:]
    finally:
        LogManager.set_plugin_log_level(PLUGIN_NAME, None)
