"""A real ``ProactiveEngine`` over a real ``SessionStore`` with a fake clock, for unit
tests. The composer and sender are our own protocols (core/engine/engine.py), scripted: the
host tests run the real AstrBot adapters. The one family of engine stand-ins: panel_app.py
and panel_server.py build their engines with ``start_engine`` and these stand-ins too.

    rig = Rig(tmp_path, clock, raw_config)
    engine = await rig.start()
    engine.on_user_message(umo)
    await rig.advance(3601)          # move the clock, fire what is due, let it finish
    assert rig.sender.sent == [(umo, "hello #1")]
    service = rig.service()          # a ProactiveService over them, for the panel's app
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, tzinfo

from .plugin_package import import_plugin_package

import_plugin_package()

from proactive_chat.core.engine.config import parse_plugin_config  # noqa: E402
from proactive_chat.core.engine.engine import ProactiveEngine  # noqa: E402
from proactive_chat.core.engine.ports import (  # noqa: E402
    ComposeResult,
    PreparedRequest,
    SendResult,
)
from proactive_chat.core.service import ProactiveService  # noqa: E402
from proactive_chat.core.store.session_store import SessionStore  # noqa: E402

FRIEND = "test:FriendMessage:alice"
OTHER_FRIEND = "test:FriendMessage:bob"
GROUP = "test:GroupMessage:g1"
START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC).timestamp()  # a Saturday, 12:00 UTC


def engine_config(*, friends: tuple[str, ...] = (FRIEND,), **friend_schedule: object) -> dict:
    """The engine tests' plugin config: ``friends`` planned every 30-60 min (3 unanswered
    at most, no quiet hours; ``friend_schedule`` overrides those keys), and ``GROUP``
    woken after 10 idle minutes, then every 20-40 min (2 unanswered at most)."""
    schedule = {
        "min_interval_minutes": 30,
        "max_interval_minutes": 60,
        "quiet_hours": "",
        "max_unanswered_times": 3,
        **friend_schedule,
    }
    return {
        "friend_settings": {
            "enable": True,
            "session_list": list(friends),
            "proactive_prompt": "count={{unanswered_count}} name={{session_name}}",
            "schedule_settings": schedule,
        },
        "group_settings": {
            "enable": True,
            "session_list": [GROUP],
            "group_idle_trigger_minutes": 10,
            "schedule_settings": {
                "min_interval_minutes": 20,
                "max_interval_minutes": 40,
                "quiet_hours": "",
                "max_unanswered_times": 2,
            },
        },
    }


class ScriptedComposer:
    """Answers ``hello #n`` (or ``default``), or from ``script`` (a text, a ComposeResult,
    or an exception to raise). ``gate`` holds writing, ``remember_gate`` the history write, until set."""

    def __init__(self, default: str | None = None, provider_id: str = "test-model") -> None:
        self.default = default
        self.provider_id = provider_id
        self.calls: list[tuple[str, str]] = []
        self.script: list[object] = []
        self.remembered: list[tuple[str, str]] = []
        self.gate: asyncio.Event | None = None
        self.remember_gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def compose(self, umo, settings, prompt):
        self.calls.append((umo, prompt))
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        action = self.script.pop(0) if self.script else self.default or f"hello #{len(self.calls)}"
        if isinstance(action, Exception):
            raise action
        if isinstance(action, ComposeResult):
            return action
        return ComposeResult(str(action), self.provider_id, None, "cid-1", 1)

    async def prepare(self, umo, settings, prompt):
        """The request ``compose`` stands for: a persona, one turn of history, the prompt."""
        history = [{"role": "user", "content": "earlier"}]
        return PreparedRequest(
            "PERSONA", history, prompt, [self.provider_id], "m", None, "cid-1", []
        )

    async def remember(self, umo, conversation_id, text):
        if self.remember_gate is not None:
            await self.remember_gate.wait()
        self.remembered.append((umo, text))


class RecordingSender:
    """Records sends (and the pictures of each). ``problem`` makes every platform unusable, ``ok = False`` makes
    sends fail, ``gates[umo]`` (an Event) holds that session's send until set."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.pictures: list[tuple[str, ...]] = []  # what came with each send
        self.problem: str | None = None
        self.ok = True
        self.gates: dict[str, asyncio.Event] = {}
        self.sending = asyncio.Event()

    def platform_problem(self, umo):
        return self.problem

    async def send(self, umo, text, settings, *, hurry=None, pictures=()):
        self.pictures.append(pictures)
        self.sending.set()
        gate = self.gates.get(umo)
        if gate is not None:
            await gate.wait()
        self.sent.append((umo, text))
        if not self.ok:
            return SendResult(False, "send_failed", "refused")
        return SendResult(True, "sent", parts=1)


async def start_engine(
    raw_config: dict, store: SessionStore, composer: object, sender: object, **kwargs: object
) -> ProactiveEngine:
    """A started engine on ``raw_config`` (which must parse cleanly), ready (restored).

    ``kwargs`` go to ``ProactiveEngine`` (``clock``, ``rng``, ``timezone``...)."""
    settings, problems = parse_plugin_config(raw_config)
    assert not problems, problems
    engine = ProactiveEngine(
        settings=settings,
        store=store,
        composer=composer,
        sender=sender,
        is_ready=lambda: True,
        **kwargs,
    )
    await engine.start()
    for _ in range(1000):
        if engine.ready_at is not None:
            return engine
        await asyncio.sleep(0.005)
    raise AssertionError("the engine did not become ready")


class Rig:
    def __init__(
        self, tmp_path, clock, raw_config: dict | None = None, tz: tzinfo | None = UTC
    ) -> None:
        self.tmp_path = tmp_path
        self.clock = clock
        self.raw_config = engine_config() if raw_config is None else raw_config
        self.tz = tz
        self.composer = ScriptedComposer()
        self.sender = RecordingSender()
        self.store: SessionStore | None = None
        self.engine: ProactiveEngine | None = None

    async def start(self) -> ProactiveEngine:
        self.store = SessionStore(self.tmp_path / "store.db", clock=self.clock)
        await self.store.open()
        self.engine = await start_engine(
            self.raw_config,
            self.store,
            self.composer,
            self.sender,
            clock=self.clock,
            rng=random.Random(7),
            timezone=self.tz,
        )
        return self.engine

    def service(self, *, context: object = None, config: dict | None = None) -> ProactiveService:
        """The real service minus AstrBot over this rig's store and started engine (for
        the panel's app): ``context`` stands for AstrBot's, ``config`` for the saved one."""
        service = ProactiveService(
            context=object() if context is None else context,
            config=self.raw_config if config is None else config,
            data_dir=self.tmp_path / "svc",
        )
        service.store, service.engine = self.store, self.engine
        return service

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.stop()
        if self.store is not None:
            await self.store.close()

    async def restart(self) -> ProactiveEngine:
        await self.stop()
        return await self.start()

    async def advance(self, seconds: float) -> None:
        """Move the clock, fire what is due and let the workers finish."""
        self.clock.advance(seconds)
        self.engine.scheduler.run_due()
        await self.settle()

    async def settle(self) -> None:
        for _ in range(400):
            await asyncio.sleep(0.002)
            if not self.engine._due and not self.engine._deliveries:
                return
        raise AssertionError("the engine did not settle")

    async def journal_kinds(self, umo: str | None = None) -> list[str]:
        entries = await self.store.query_journal(umo=umo, limit=1000)
        return [e.kind for e in reversed(entries)]
