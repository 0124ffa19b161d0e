"""The fault matrix, in AstrBot's real core: a model that times out, raises or answers
nothing; a platform whose send raises, that disappears while a message is written, or
that cannot start conversations; a store on a full or read-only disk.

For each one the whole promise is checked: (1) logged once, with what to do, however
often it fails; (2) journaled with its kind; (3) retried with back-off, 5, 15 then 45
minutes later, never in a loop; (4) AstrBot and the other sessions carry on: a normal
chat is answered and another session's proactive message goes out (for the store: is
planned, kept in memory, since nothing may be sent that could not be saved first).
When the fault is gone the next retry gets through and one line says so.

The faulty session (A) lives on its own recording platform, so its platform can fail
alone; B (proactive) and C (plain chat) are on the main one. The engine's clock runs
ahead of real time (harness.faults.EngineClock) for the back-off; AstrBot, the
platforms, the model's timeout and the store keep real time. Each test gets a private
plugin data folder on a tmpfs (harness.faults), so the disk faults are real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from harness.faults import (
    EngineClock,
    PluginData,
    plugin_data_on_tmpfs,
    sqlite_full,
    sqlite_read_only,
)
from harness.ports import free_port
from harness.waiting import async_wait_for

PASSWORD = "Faults-Host-Passw0rd"
PROMPT = "PROACTIVE-TASK for {{session_name}}"
FAULTY_PLATFORM = "test_im_a"
BACK_OFF = (300.0, 900.0, 2700.0)  # 5, 15, 45 minutes
PREFIX = "[ProactiveChat]"
QUIET_SECONDS = 1.0  # real time watched for a retry loop after the last failure


def plugin_config(umos: list[str]) -> dict:
    return {
        "web_admin": {"port": free_port(), "password": PASSWORD},
        "friend_settings": {
            "enable": True,
            "session_list": umos,
            "proactive_prompt": PROMPT,
            "schedule_settings": {
                "min_interval_minutes": 30,
                "max_interval_minutes": 60,
                "quiet_hours": "",
                "max_unanswered_times": 0,
            },
        },
        "engine_settings": {"llm_timeout_seconds": 5},
    }


def two_platforms() -> dict:
    """The main recording platform plus the faulty session's own."""
    from harness import stand_ins

    main = stand_ins.chat_core_config()["platform"][0]
    return {"platform": [main, {**main, "id": FAULTY_PLATFORM}]}


@dataclass
class Scene:
    host: object
    data: PluginData
    a_id: str
    b_id: str
    c_id: str
    clock: EngineClock | None = None
    mark: int = 0  # where the fault began in host.logs

    @property
    def a(self) -> str:
        return f"{FAULTY_PLATFORM}:FriendMessage:{self.a_id}"

    @property
    def b(self) -> str:
        return f"test_im:FriendMessage:{self.b_id}"

    @property
    def marker(self) -> str:
        """What only A's proactive prompt contains (the model can fail for A alone)."""
        return f"PROACTIVE-TASK for faulty-{self.a_id}"

    @property
    def engine(self):
        service = self.host.plugin_instance().service
        assert service is not None and service.engine is not None, self.host.logs.text()[-3000:]
        return service.engine

    @property
    def im(self):
        from harness import stand_ins

        return stand_ins.platform(self.host)

    @property
    def im_a(self):
        from harness import stand_ins

        return stand_ins.platform(self.host, FAULTY_PLATFORM)

    @property
    def llm(self):
        from harness import stand_ins

        return stand_ins.provider(self.host)

    def a_calls(self) -> int:
        return sum(1 for call in self.llm.calls if self.marker in call.text)

    async def journal(self, umo: str, kinds: list[str] | None = None) -> list:
        entries = await self.engine.store.query_journal(umo=umo, kinds=kinds, limit=500)
        return list(reversed(entries))

    async def kinds(self, umo: str) -> list[str]:
        return [e.kind for e in await self.journal(umo)]

    async def wait_for_kind(self, umo: str, kind: str, count: int, timeout: float = 20.0):  # noqa: ASYNC109
        async def enough() -> bool:
            return (await self.kinds(umo)).count(kind) >= count

        await async_wait_for(enough, timeout, 0.02, lambda: f"{count} x {kind} for {umo}")

    async def fail_until(self, retries: int) -> list[float]:
        """Let A's time come until it has been re-planned ``retries`` times; returns the
        delay of each retry (planned time minus the time it was planned at)."""
        state = self.engine.sessions[self.a]
        done = (await self.kinds(self.a)).count("retry")
        for step in range(done + 1, retries + 1):
            self.clock.advance_to(state.next_at)
            await self.wait_for_kind(self.a, "retry", step)
        return [e.detail["at"] - e.at for e in await self.journal(self.a, ["retry"])]

    def a_sends(self) -> list:
        """What went to A's platform for A (sent or failed), proactive only."""
        from harness import stand_ins

        try:
            im_a = stand_ins.platform(self.host, FAULTY_PLATFORM)
        except LookupError:  # the platform is gone
            return []
        return [m for m in im_a.sent + im_a.failed if m.umo == self.a and not m.is_reply]

    async def no_retry_loop(self) -> None:
        """In real time, nothing more happens for A: no model call, no send, no entry."""
        before = (self.a_calls(), len(self.a_sends()), len(await self.kinds(self.a)))
        await asyncio.sleep(QUIET_SECONDS)
        after = (self.a_calls(), len(self.a_sends()), len(await self.kinds(self.a)))
        assert after == before, (before, after)
        state = self.engine.sessions[self.a]
        assert state.phase == "planned" and state.next_at > self.clock.now() + 10 * 60

    async def chat_is_answered(self) -> None:
        event = await self.im.inject_and_wait("anyone home?", sender_id=self.c_id)
        replies = self.im.replies_to(event)
        assert replies and replies[0].text, "AstrBot's own chat stopped answering"

    async def b_gets_a_proactive_message(self) -> None:
        before = len(self.im.sent_to(self.b))
        self.engine.plan_at(self.b, self.clock.now())
        try:
            await self.im.wait_for_sent(before + 1, umo=self.b, timeout=15)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; B's journal: {await self.kinds(self.b)}") from None

    async def b_is_planned_in_memory(self) -> None:
        await self.im.inject_and_wait("still there?", sender_id=self.b_id)
        state = self.engine.sessions[self.b]
        assert state.phase == "planned" and state.next_at > self.clock.now() + 29 * 60

    def warnings(self) -> list[str]:
        """The plugin's warnings and errors since the fault began."""
        records = self.host.logs.select(logging.WARNING, self.mark)
        return [r.getMessage() for r in records if PREFIX in r.getMessage()]

    def lines(self, contains: str) -> list[str]:
        """The plugin's lines (INFO and above) since the fault began that say ``contains``."""
        records = self.host.logs.select(logging.INFO, self.mark, contains)
        return [r.getMessage() for r in records if PREFIX in r.getMessage()]

    def astrbot_errors(self) -> list[str]:
        """Errors AstrBot itself logged since the fault began (ours are counted apart)."""
        records = self.host.logs.select(logging.ERROR, self.mark)
        return [r.getMessage() for r in records if PREFIX not in r.getMessage()]

    def start_fault(self) -> None:
        self.mark = self.host.logs.mark()
        self.clock = self.clock or EngineClock(self.engine)


@contextlib.asynccontextmanager
async def scene(chat_host_factory, root: Path, *, size: str = "8m"):
    """A booted host on a private data folder; A and B have spoken (both planned)."""
    from harness import stand_ins

    ids = [stand_ins.unique_id(p) for p in ("a", "b", "c")]
    umos = [f"{FAULTY_PLATFORM}:FriendMessage:{ids[0]}", f"test_im:FriendMessage:{ids[1]}"]
    with plugin_data_on_tmpfs(root, size) as data:
        async with chat_host_factory(
            plugin_config=plugin_config(umos), core_config=two_platforms()
        ) as host:
            s = Scene(host, data, *ids)
            await s.im_a.inject_and_wait("hi", sender_id=s.a_id, sender_name=f"faulty-{s.a_id}")
            await s.im.inject_and_wait("hi", sender_id=s.b_id, sender_name="Bea")
            assert s.engine.sessions[s.a].phase == "planned"
            assert s.engine.sessions[s.b].phase == "planned"
            assert await s.engine.store.flush()
            yield s


def assert_back_off(delays: list[float]) -> None:
    assert 2 <= len(delays) <= len(BACK_OFF), delays
    for seen, expected in zip(delays, BACK_OFF[: len(delays)], strict=True):
        assert seen == pytest.approx(expected, abs=2.0), delays


def assert_logged_once(s: Scene, *phrases: str, label: str = "What to do:") -> str:
    """One warning (or error) of the plugin since the fault began, saying ``phrases``;
    and no other line of the plugin names the faulty session."""
    warnings = s.warnings()
    assert len(warnings) == 1, warnings
    naming_a = s.lines(s.a)
    assert len(naming_a) <= 1, naming_a
    assert s.astrbot_errors() == []
    for phrase in (label, *phrases):
        assert phrase in warnings[0], warnings[0]
    return warnings[0]


# -- the model ---------------------------------------------------------------------------

MODEL_FAULTS = {
    # fault: (reply, journal kind, what the log line must say, failures watched)
    # A time-out costs two real waits of llm_timeout_seconds (5 s, the least allowed)
    # per failure: two failures show the back-off growing, and the log staying quiet.
    "times_out": ({"hang": True}, "llm_failed", "llm_timeout_seconds", 2),
    "raises": ({"error": ConnectionError("401: invalid API key")}, "llm_failed", "API key", 3),
    "answers_empty": ({"text": ""}, "llm_empty", "answered nothing", 3),
    "answers_whitespace": ({"text": " \n\t "}, "llm_empty", "answered nothing", 3),
}


@pytest.mark.parametrize("fault", list(MODEL_FAULTS))
async def test_a_failing_model(chat_host_factory, inprocess_root, fault):
    from harness import stand_ins

    reply, kind, advice, failures = MODEL_FAULTS[fault]
    async with scene(chat_host_factory, inprocess_root) as s:
        s.start_fault()
        s.llm.route(s.marker, stand_ins.Reply(**reply))
        state = s.engine.sessions[s.a]
        s.clock.advance_to(state.next_at)
        await s.llm.wait_for_calls(len(s.llm.calls) + 1)
        # While A's model call fails (or hangs), everything else carries on.
        await s.b_gets_a_proactive_message()
        await s.chat_is_answered()
        await s.wait_for_kind(s.a, "retry", 1)

        assert_back_off(await s.fail_until(failures))
        kinds = await s.kinds(s.a)
        assert kinds.count(kind) == failures and "sent" not in kinds, kinds
        assert s.a_calls() == 2 * failures  # the model is asked twice each time
        await s.no_retry_loop()
        line = assert_logged_once(s, s.a, f"({kind})", advice, "retried in 5 min")
        assert "model test_chat" in line
        assert s.a_sends() == []

        s.llm.route(s.marker, None)  # the model is fixed
        s.clock.advance_to(state.next_at)
        await s.im_a.wait_for_sent(2, umo=s.a)  # the "hi" reply, then the message
        assert [m.is_reply for m in s.im_a.sent_to(s.a)] == [True, False]
        assert (await s.kinds(s.a))[-2:] == ["sent", "planned"]
        assert len(s.lines("work again through the model test_chat")) == 1
        assert s.engine.failure_log.failing == []


# -- the platform ------------------------------------------------------------------------

PLATFORM_FAULTS = {
    # fault: (journal kinds of the three failures, model calls, what the log line must say)
    "send_raises": (
        ["send_failed"] * 3,
        3,
        ("(send_failed)", "websocket closed", "check that the platform test_im_a is connected"),
    ),
    # Removed (as the dashboard's disable does) while the message is being written:
    # context.send_message would return False; the sender checks for the platform itself
    # right before sending, so it is reported the same way as a platform already gone.
    "gone_while_writing": (
        ["platform_skipped"] * 3,
        1,
        ("(platform_skipped)", "no running platform has the id", "enable the platform test_im_a"),
    ),
    "cannot_push": (
        ["platform_skipped"] * 3,
        0,
        ("(platform_skipped)", "cannot send proactive messages", "enable the platform test_im_a"),
    ),
}


@pytest.mark.parametrize("fault", list(PLATFORM_FAULTS))
async def test_a_failing_platform(chat_host_factory, inprocess_root, fault):
    from harness import stand_ins

    failures, model_calls, phrases = PLATFORM_FAULTS[fault]
    async with scene(chat_host_factory, inprocess_root) as s:
        manager = s.host.context.platform_manager
        config_a = dict(s.im_a.config)
        s.start_fault()
        if fault == "send_raises":
            s.im_a.send_error = ConnectionError("websocket closed by the server")
        elif fault == "cannot_push":
            s.im_a.support_proactive_message = False
        else:  # the model takes a moment: the platform is removed meanwhile
            s.llm.route(s.marker, stand_ins.Reply(text="hello from the model", delay=0.5))
        state = s.engine.sessions[s.a]
        s.clock.advance_to(state.next_at)
        if fault == "gone_while_writing":
            await s.llm.wait_for_calls(len(s.llm.calls) + 1)
            await manager.terminate_platform(FAULTY_PLATFORM)
        await s.b_gets_a_proactive_message()
        await s.chat_is_answered()
        assert_back_off(await s.fail_until(3))
        kinds = await s.kinds(s.a)
        assert [k for k in kinds if k in ("send_failed", "platform_skipped")] == failures, kinds
        assert "sent" not in kinds and state.unanswered == 0
        assert s.a_calls() == model_calls
        assert len(s.a_sends()) == (3 if fault == "send_raises" else 0)
        await s.no_retry_loop()
        line = assert_logged_once(s, s.a, "retried in 5 min", *phrases)
        assert "platform test_im_a" in line

        # The platform is back.
        s.llm.route(s.marker, None)
        if fault == "gone_while_writing":
            await manager.load_platform(config_a)
        s.im_a.send_error = None
        s.im_a.support_proactive_message = True
        s.clock.advance_to(state.next_at)
        await async_wait_for(lambda: [m for m in s.a_sends() if not m.error], 15, 0.02, "A's")
        assert (await s.kinds(s.a))[-2:] == ["sent", "planned"]
        assert len(s.lines("work again through the platform test_im_a")) == 1
        assert s.engine.failure_log.failing == []


# -- the store ---------------------------------------------------------------------------

STORE_FAULTS = {
    "disk_full": "free disk space in",
    "read_only": "writable by the user running AstrBot",
}


async def break_store(s: Scene, fault: str, broken: bool) -> None:
    """A real full tmpfs when there is one; SQLite's own errors otherwise."""
    store = s.engine.store
    if fault == "disk_full" and s.data.mounted:
        if broken:
            assert await asyncio.to_thread(s.data.fill) > 0
        else:
            s.data.free()
    elif fault == "disk_full":
        await sqlite_full(store, broken)
        if broken:  # a write too big for the room left in the file's pages: no luck involved
            ballast = replace(s.engine.sessions[s.b], umo="test_im:FriendMessage:ballast")
            ballast.name = "x" * 200_000
            store.put_session(ballast)
    else:  # the kernel refuses a read-only remount while the store's file is open
        await sqlite_read_only(store, broken)


def stored_journal(path: Path, umo: str) -> list[str]:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT kind FROM journal WHERE umo = ? ORDER BY id", (umo,))
        return [kind for (kind,) in rows]


def stored_next_at(path: Path, umo: str) -> float | None:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT next_at FROM sessions WHERE umo = ?", (umo,)).fetchone()
        return row[0] if row else None


@pytest.mark.parametrize("fault", list(STORE_FAULTS))
async def test_a_failing_store(chat_host_factory, inprocess_root, fault):
    async with scene(chat_host_factory, inprocess_root, size="4m") as s:
        store = s.engine.store
        s.start_fault()
        await break_store(s, fault, True)
        calls = s.a_calls()
        state = s.engine.sessions[s.a]
        s.clock.advance_to(state.next_at)
        await s.wait_for_kind(s.a, "retry", 1)
        await s.chat_is_answered()
        await s.b_is_planned_in_memory()  # nothing can be sent, everything is planned
        assert_back_off(await s.fail_until(3))
        kinds = await s.kinds(s.a)  # the panel's journal, while nothing can be saved
        assert kinds.count("send_failed") == 3 and "sent" not in kinds, kinds
        assert s.a_sends() == []  # written, but not sent: its plan could not be saved first
        assert state.unanswered == 0 and s.a_calls() == calls + 3
        await s.no_retry_loop()
        assert_logged_once(s, STORE_FAULTS[fault], str(s.data.path))
        assert store.stats["pending"] and store.stats["last_error"]
        assert "send_failed" not in stored_journal(store.path, s.a)

        await break_store(s, fault, False)  # the disk has room again / is writable
        s.clock.advance_to(state.next_at)
        await async_wait_for(s.a_sends, 15, 0.02, "A's message")
        assert await store.flush()
        assert len(s.a_sends()) == 1
        assert len(s.lines("is writable again")) == 1
        on_disk = stored_journal(store.path, s.a)
        assert on_disk.count("send_failed") == 3 and on_disk.count("retry") == 3, on_disk
        assert on_disk[-2:] == ["sent", "planned"], on_disk
        b_plan = s.engine.sessions[s.b].next_at
        assert stored_next_at(store.path, s.b) == pytest.approx(b_plan)
        assert len(s.warnings()) == 1


async def test_a_read_only_disk_at_start(chat_host_factory, inprocess_root):
    """The store's folder is read-only when the plugin starts (a reload, or AstrBot's
    start): a real read-only tmpfs, remounted while the plugin is off (the kernel
    refuses while the store's file is open). Logged once with what to do, AstrBot
    answers, and once the disk is writable the plugin opens the store by itself, with
    the plans it held."""
    async with scene(chat_host_factory, inprocess_root) as s:
        if not s.data.mounted:
            pytest.skip("needs a tmpfs (root): a read-only disk at open() cannot be faked")
        planned = s.engine.sessions[s.a].next_at
        await s.host.turn_off()
        s.data.remount(read_only=True)
        try:
            s.mark = s.host.logs.mark()
            began = time.monotonic()
            await s.host.turn_on()
            service = s.host.plugin_instance().service
            assert service.engine is None and "writable" in service.problem
            await s.chat_is_answered()
            assert_logged_once(
                s, "writable by the user running AstrBot", "tries again", label="; make "
            )
        finally:
            s.data.remount(read_only=False)
        await async_wait_for(lambda: service.engine, 20, 0.05, "the engine, once writable")
        assert time.monotonic() - began > 4.0  # not a loop: the first retry waits 5 s
        assert service.problem is None
        assert len(s.lines("opened; proactive messages are on")) == 1
        assert len(s.warnings()) == 1
        assert s.engine.sessions[s.a].next_at == pytest.approx(planned)
        s.clock = EngineClock(s.engine)
        await s.b_gets_a_proactive_message()
