"""The parts of bench/message_hook.py that reach into a real AstrBot core: an empty
plugin beside ours, AstrBot's own handler dispatch, a timer around each handler call,
and a fake clock for the engine.

Dispatch is AstrBot's: the pipeline's ``WakingCheckStage`` picks the handlers whose
filters pass from ``star_handlers_registry`` (all loaded plugins, AstrBot's built-in
ones too), and the process stage's ``StarRequestSubStage`` calls them one after the
other through ``call_handler``. The events are real ``AiocqhttpMessageEvent`` objects
(the class AstrBot's ``aiocqhttp`` adapter builds for a OneBot v11 private message),
without a connected bot: no handler on this path sends anything.

Each handler call is timed around AstrBot's ``call_handler`` (the name the star-request
stage looks up in its module is swapped for a timing wrapper), so our handler and the
empty plugin's are timed the same way, on the same event, in the same run.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

EMPTY_PLUGIN_NAME = "bench_empty_plugin"
OUR_HANDLER = "pc_on_message"
PLATFORM_ID = "qq"  # the platform id an aiocqhttp adapter is given in AstrBot's config
FIRST_USER_ID = 100_000

_EMPTY_MAIN = '''\
"""One handler for every message that does nothing: AstrBot's floor."""

from astrbot.api.event import AstrMessageEvent, filter
from astrbot.api.star import Context, Star


class BenchEmptyPlugin(Star):
    def __init__(self, context: Context, config=None):
        super().__init__(context)

    @filter.event_message_type(filter.EventMessageType.ALL)
    async def on_message(self, event: AstrMessageEvent) -> None:
        return None
'''

_EMPTY_METADATA = f"""\
name: {EMPTY_PLUGIN_NAME}
display_name: Bench empty plugin
desc: One message handler that does nothing (the floor of AstrBot's dispatch).
version: "0.0.1"
author: bench
repo: https://example.invalid/{EMPTY_PLUGIN_NAME}
"""


def write_empty_plugin(root: Path) -> None:
    """Put the empty plugin into ``<root>/data/plugins`` (AstrBot loads it at boot)."""
    folder = Path(root) / "data" / "plugins" / EMPTY_PLUGIN_NAME
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.py").write_text(_EMPTY_MAIN, encoding="utf-8")
    (folder / "metadata.yaml").write_text(_EMPTY_METADATA, encoding="utf-8")


def private_umo(index: int) -> str:
    return f"{PLATFORM_ID}:FriendMessage:{FIRST_USER_ID + index}"


class FakeClock:
    """The engine's ``clock``: returns ``now``, which the bench sets before each message."""

    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def install_fake_clock(engine: Any, clock: FakeClock) -> None:
    """The engine reads ``clock`` on the message path. The scheduler gets a clock held
    at the epoch: no plan ever falls due while the fake clock sweeps a day (a due plan
    would start a delivery, which is not what is measured)."""
    engine.clock = clock
    engine.scheduler._clock = lambda: 0.0


def event_factory() -> Callable[[int], Any]:
    """``build(index)`` -> a new private-message event from user ``index``, as the
    aiocqhttp adapter converts a OneBot v11 ``message.private`` event."""
    from astrbot.core.message.components import Plain
    from astrbot.core.platform.astrbot_message import AstrBotMessage, MessageMember
    from astrbot.core.platform.message_type import MessageType
    from astrbot.core.platform.platform_metadata import PlatformMetadata
    from astrbot.core.platform.sources.aiocqhttp.aiocqhttp_message_event import (
        AiocqhttpMessageEvent,
    )

    meta = PlatformMetadata(name="aiocqhttp", description="OneBot v11", id=PLATFORM_ID)
    message_ids = itertools.count(1)

    def build(index: int) -> Any:
        user_id = str(FIRST_USER_ID + index)
        message = AstrBotMessage()
        message.self_id = "10000"
        message.message_id = str(next(message_ids))
        message.type = MessageType.FRIEND_MESSAGE
        message.session_id = user_id
        message.sender = MessageMember(user_id=user_id, nickname=f"user {index}")
        message.message = [Plain("hello there")]
        message.message_str = "hello there"
        message.raw_message = None
        message.timestamp = int(time.time())
        return AiocqhttpMessageEvent(message.message_str, message, meta, user_id, None)

    return build


class HandlerTimer:
    """Times each call of the two measured handlers as the star-request stage makes it
    (``call_handler`` plus the handler). ``audit`` (a ``LoopIoAudit``) is armed during
    our handler only."""

    def __init__(self, audit: Any, profiler: Any = None) -> None:
        self.audit = audit
        self.profiler = profiler  # a cProfile.Profile enabled during our handler only
        self.labels: dict[int, str] = {}
        self.times: dict[str, list[int]] = {"floor": [], "ours": []}
        self._module: Any = None
        self._original: Any = None
        self._ours_done: Any = None  # a future set when our handler's next call ends

    def install(self, our_plugin_dir: str) -> None:
        import astrbot.core.pipeline.process_stage.method.star_request as star_request
        from astrbot.core.star.star_handler import star_handlers_registry

        for handler in star_handlers_registry:
            path = handler.handler_module_path
            if path == f"data.plugins.{EMPTY_PLUGIN_NAME}.main":
                self.labels[id(handler.handler)] = "floor"
            elif path.startswith(f"data.plugins.{our_plugin_dir}.") and (
                handler.handler_name == OUR_HANDLER
            ):
                self.labels[id(handler.handler)] = "ours"
        found = sorted(self.labels.values())
        if found != ["floor", "ours"]:
            raise RuntimeError(f"handlers to time not found in AstrBot's registry: {found}")
        self._module, self._original = star_request, star_request.call_handler
        star_request.call_handler = self._call_handler

    def uninstall(self) -> None:
        if self._module is not None:
            self._module.call_handler = self._original
            self._module = None

    def ours_done(self) -> Any:
        """A future resolved when the next call of our handler has been timed."""
        import asyncio

        self._ours_done = asyncio.get_running_loop().create_future()
        return self._ours_done

    def take(self) -> dict[str, list[int]]:
        """The times so far (ns per call), and start new lists."""
        taken, self.times = self.times, {"floor": [], "ours": []}
        return taken

    def _call_handler(self, event: Any, handler: Any, *args: Any, **kwargs: Any) -> Any:
        label = self.labels.get(id(handler))
        if label is None:
            return self._original(event, handler, *args, **kwargs)
        return self._timed(label, event, handler, args, kwargs)

    async def _timed(self, label: str, event: Any, handler: Any, args: tuple, kwargs: dict):
        audit, clock = self.audit, time.perf_counter_ns
        ours = label == "ours"
        profiler = self.profiler if ours else None
        audit.armed = ours
        if profiler is not None:
            profiler.enable()
        began = clock()
        async for result in self._original(event, handler, *args, **kwargs):
            yield result  # neither handler yields: nothing downstream runs in here
        self.times[label].append(clock() - began)
        if profiler is not None:
            profiler.disable()
        audit.armed = False
        done = self._ours_done
        if ours and done is not None and not done.done():
            done.set_result(None)


class Dispatch:
    """AstrBot's handler dispatch of one event: the waking-check stage, then the
    star-request sub-stage of the process stage, as the pipeline runs them."""

    def __init__(self, lifecycle: Any) -> None:
        from astrbot.core.pipeline.process_stage.stage import ProcessStage
        from astrbot.core.pipeline.waking_check.stage import WakingCheckStage

        scheduler = next(iter(lifecycle.pipeline_scheduler_mapping.values()))
        stages = {type(stage): stage for stage in scheduler.stages}
        self.waking = stages[WakingCheckStage]
        self.star_request = stages[ProcessStage].star_request_sub_stage

    async def __call__(self, event: Any) -> None:
        await self.waking.process(event)
        if event.is_stopped():
            raise RuntimeError("AstrBot's waking check stopped a private message")
        async for _ in self.star_request.process(event):
            pass


def stage_sender(host, clock, senders) -> Callable[[float, float, int], Awaitable[list]]:
    """``send(at, spacing, count)``: ``count`` events built here and handed to AstrBot's
    stages, the fake clock at ``at`` + k * ``spacing``; returns the wall ns of each."""
    dispatch, build = Dispatch(host.lifecycle), event_factory()

    async def send(at: float, spacing: float, count: int) -> list[int]:
        wall: list[int] = []
        for k in range(count):
            event = build(next(senders))  # AstrBot's adapter work: not timed
            clock.now = at + k * spacing
            began = time.perf_counter_ns()
            await dispatch(event)
            wall.append(time.perf_counter_ns() - began)
            if k % 100 == 99:
                await asyncio.sleep(0)  # the store's flusher and AstrBot's tasks run
        return wall

    return send
