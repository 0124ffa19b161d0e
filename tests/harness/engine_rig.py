"""A real ``ProactiveEngine`` over a real ``SessionStore`` with a fake clock, for unit
tests. The composer and sender are our own protocols (core/engine/engine.py), scripted: the
host tests run the real AstrBot adapters.

    rig = Rig(tmp_path, clock, raw_config)
    engine = await rig.start()
    engine.on_user_message(umo)
    await rig.advance(3601)          # move the clock, fire what is due, let it finish
    assert rig.sender.sent == [(umo, "hello #1")]
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, tzinfo

from .plugin_package import import_plugin_package

import_plugin_package()

from proactive_chat.core.engine.config import parse_plugin_config  # noqa: E402
from proactive_chat.core.engine.engine import ProactiveEngine  # noqa: E402
from proactive_chat.core.engine.ports import ComposeResult, SendResult  # noqa: E402
from proactive_chat.core.store.session_store import SessionStore  # noqa: E402


class ScriptedComposer:
    """Answers ``hello #n`` (or ``default``), or from ``script`` (a text, or an exception
    to raise). ``gate`` holds writing, ``remember_gate`` the history write, until set."""

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
        return ComposeResult(str(action), self.provider_id, None, "cid-1", 1)

    async def remember(self, umo, conversation_id, text):
        if self.remember_gate is not None:
            await self.remember_gate.wait()
        self.remembered.append((umo, text))


class RecordingSender:
    """Records sends. ``problem`` makes every platform unusable, ``ok = False`` makes
    sends fail, ``gates[umo]`` (an Event) holds that session's send until set."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.problem: str | None = None
        self.ok = True
        self.gates: dict[str, asyncio.Event] = {}
        self.sending = asyncio.Event()

    def platform_problem(self, umo):
        return self.problem

    async def send(self, umo, text, settings, *, hurry=None):
        self.sending.set()
        gate = self.gates.get(umo)
        if gate is not None:
            await gate.wait()
        self.sent.append((umo, text))
        if not self.ok:
            return SendResult(False, "send_failed", "refused")
        return SendResult(True, "sent", parts=1)


class Rig:
    def __init__(self, tmp_path, clock, raw_config: dict, tz: tzinfo | None = UTC) -> None:
        self.tmp_path = tmp_path
        self.clock = clock
        self.raw_config = raw_config
        self.tz = tz
        self.composer = ScriptedComposer()
        self.sender = RecordingSender()
        self.store: SessionStore | None = None
        self.engine: ProactiveEngine | None = None

    async def start(self) -> ProactiveEngine:
        settings, problems = parse_plugin_config(self.raw_config)
        assert not problems, problems
        self.store = SessionStore(self.tmp_path / "store.db", clock=self.clock)
        await self.store.open()
        self.engine = ProactiveEngine(
            settings=settings,
            store=self.store,
            composer=self.composer,
            sender=self.sender,
            clock=self.clock,
            rng=random.Random(7),
            timezone=self.tz,
            is_ready=lambda: True,
        )
        await self.engine.start()
        for _ in range(100):
            if self.engine.ready_at is not None:
                break
            await asyncio.sleep(0.005)
        assert self.engine.ready_at is not None
        return self.engine

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
