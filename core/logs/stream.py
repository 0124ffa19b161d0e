"""Feeds AstrBot's own log lines into the panel's ring buffer.

One ``LogBroker`` subscription per plugin instance, taken in ``start()`` and
released in ``stop()``. A pump task drains the broker's queue in batches, cleans
each line once (ANSI codes, secrets) and appends it to the ``LogRing``.

Across a hot reload the ring lives on in the process stash, and the new instance
backfills, from the broker's cache, the lines logged while no instance listened
(the reload itself), so the sequence has no gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import Any

from ..constants import LOG_PREFIX, PLUGIN_NAME
from ..plugin_log import logger
from .redaction import Redactor
from .ring import LogRing

_BATCH = 2000
# AstrBot's own line prefix "[2026-11-28 04:35:01.187] ": the panel shows the time itself.
_ASTRBOT_TIMESTAMP = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\] ")


def find_log_broker() -> Any | None:
    """AstrBot's LogBroker, reached through its handler on the "astrbot" logger."""
    for handler in logging.getLogger("astrbot").handlers:
        broker = getattr(handler, "log_broker", None)
        if broker is not None and hasattr(broker, "register"):
            return broker
    try:
        from astrbot.core.log import LogManager
    except ImportError:
        return None
    return getattr(LogManager, "_log_broker", None)


class LogStream:
    def __init__(self, ring: LogRing, redactor: Redactor, state: dict[str, Any]) -> None:
        self.ring = ring
        self.redactor = redactor
        # Survives reloads: the last broker entry we stored (by identity) and its time.
        self._state = state
        self._broker: Any | None = None
        self._queue: asyncio.Queue | None = None
        self._pump: asyncio.Task | None = None

    @property
    def attached(self) -> bool:
        return self._queue is not None

    def start(self, broker: Any | None = None) -> bool:
        """Subscribe and start pumping. Synchronous on purpose: no await may run
        between ``register()`` and the cache snapshot, or a line could be lost or doubled."""
        if self._queue is not None:
            return True
        broker = broker if broker is not None else find_log_broker()
        if broker is None:
            logger.warning("%s AstrBot's log broker was not found; live logs are off.", LOG_PREFIX)
            return False
        self._broker = broker
        self._queue = broker.register()
        self._backfill(list(getattr(broker, "log_cache", ())))
        self._pump = asyncio.create_task(self._run_pump(), name="proactive-chat-log-pump")
        return True

    async def stop(self) -> None:
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
            await asyncio.wait({pump})
        queue, self._queue = self._queue, None
        if queue is not None and self._broker is not None:
            # Lines still queued were published after our last one; take them now.
            self._ingest(_drain(queue))
            with contextlib.suppress(ValueError):
                self._broker.unregister(queue)
        self._broker = None

    def _backfill(self, cached: list[dict]) -> None:
        last = self._state.get("last_entry")
        start = 0
        if last is not None:
            for index in range(len(cached) - 1, -1, -1):
                if cached[index] is last:
                    start = index + 1
                    break
            else:
                last_time = self._state.get("last_time", 0.0)
                start = next(
                    (i for i, e in enumerate(cached) if _entry_time(e) > last_time),
                    len(cached),
                )
        self._ingest(cached[start:])

    async def _run_pump(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            entry = await queue.get()
            batch = [entry]
            batch.extend(_drain(queue, _BATCH - 1))
            try:
                self._ingest(batch)
            except Exception:
                logger.exception("%s Live-log pump dropped %d lines", LOG_PREFIX, len(batch))

    def _ingest(self, entries: list[dict]) -> None:
        if not entries:
            return
        ring = self.ring
        clean = self.redactor.clean
        last: dict | None = None
        when = 0.0
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("type") == "trace":
                continue
            text = entry.get("data") or entry.get("body") or ""
            if not isinstance(text, str):
                text = str(text)
            # AstrBot tags lines of our per-plugin logger (core/plugin_log.py) by name;
            # a text prefix would also catch lines that merely mention us.
            plugin = entry.get("plugin_name") == PLUGIN_NAME
            text = clean(text)
            stamp = _ASTRBOT_TIMESTAMP.match(text)
            if stamp:
                text = text[stamp.end() :]
            when = _entry_time(entry)
            ring.append(when, str(entry.get("level") or "INFO"), text, plugin)
            last = entry
        if last is not None:
            self._state["last_entry"] = last
            self._state["last_time"] = when
            ring.notify()


def _entry_time(entry: dict) -> float:
    value = entry.get("time")
    return float(value) if isinstance(value, int | float) else time.time()


def _drain(queue: asyncio.Queue, limit: int = 1_000_000) -> list[dict]:
    items: list[dict] = []
    while len(items) < limit:
        try:
            items.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            break
    return items
