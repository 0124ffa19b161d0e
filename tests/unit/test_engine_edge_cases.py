"""Edge cases of the engine found in an adversarial review: daylight-saving nights,
races between a plan, a worker, the user and the admin, reloads during a send, a full
disk, stop(). Each failed on the code as first written (the comments say how); same
patterns as test_engine.py: a real SessionStore, a fake clock, and a scripted composer
and sender implementing the engine's own protocols.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from harness.engine_rig import FRIEND, GROUP, OTHER_FRIEND, START, Rig, engine_config
from proactive_chat.core.adapters import sender as sender_module
from proactive_chat.core.adapters.sender import MessageSender
from proactive_chat.core.engine import engine as engine_module
from proactive_chat.core.engine.config import parse_plugin_config
from proactive_chat.core.engine.models import (
    Phase,
    SessionSettings,
)
from proactive_chat.core.engine.planning import shift_out_of_quiet
from proactive_chat.core.engine.quiet_hours import parse_quiet_hours

BERLIN = ZoneInfo("Europe/Berlin")
# 2026-10-25: Berlin falls back at 01:00 UTC (03:00 CEST -> 02:00 CET); the wall
# times 02:00-02:59 happen twice.
FALL_BACK = datetime(2026, 10, 25, 1, 0, tzinfo=UTC).timestamp()


async def fire_and_wait_for_compose(rig: Rig, umo: str = FRIEND) -> None:
    """Make ``umo`` due now and wait until its message is being written (gated)."""
    rig.composer.gate = asyncio.Event()
    rig.engine.plan_at(umo, rig.clock.now)
    rig.engine.scheduler.run_due()
    await asyncio.wait_for(rig.composer.entered.wait(), 2)


# --- 1. DST fall-back: quiet-hours end computed in the wrong fold -----------------------


def test_quiet_shift_never_returns_a_time_before_the_one_it_shifts():
    # Found in review (1), in planning.shift_out_of_quiet / QuietHours.window_end: in the repeated
    # hour of a DST fall-back, window_end() builds the end with fold=0 (the FIRST 02:30), which is
    # before the moment being shifted: the "shifted" time lies in the past.
    quiet = parse_quiet_hours("23:00-02:30")
    at = FALL_BACK + 10 * 60  # 02:10 CET, the second 02:10 of the night: inside the window
    shifted, moved = shift_out_of_quiet(at, quiet, BERLIN, random.Random(1))
    assert moved
    assert shifted >= at, (
        f"moved {(at - shifted) / 60:.0f} min into the PAST "
        f"({datetime.fromtimestamp(shifted, BERLIN)} for {datetime.fromtimestamp(at, BERLIN)})"
    )


async def test_dst_fall_back_a_user_message_is_not_followed_by_a_burst(tmp_path, clock):
    # Found in review (1), seen by a user: at 02:55 CEST (five minutes before the clocks go back)
    # Alice writes; the plan 30 min later lands in the second 02:25 (quiet), is "moved out of quiet
    # hours" to ~02:30 CEST, i.e. 25 minutes in the past, and fires at once; so does every plan
    # after it, until the cap: three proactive messages right after she spoke.
    clock.now = FALL_BACK - 5 * 60
    rig = Rig(
        tmp_path,
        clock,
        engine_config(quiet_hours="23:00-02:30", min_interval_minutes=30, max_interval_minutes=30),
        tz=BERLIN,
    )
    engine = await rig.start()
    try:
        engine.on_user_message(FRIEND)
        state = engine.sessions[FRIEND]
        planned_in = state.next_at - clock.now
        await asyncio.sleep(0.3)  # the real loop runs the scheduler's timer
        assert rig.sender.sent == [], (
            f"planned {planned_in / 60:+.0f} min from now, then sent at once: {rig.sender.sent}"
        )
    finally:
        await rig.stop()


async def test_dst_fall_back_a_plan_due_in_the_repeated_hour_does_not_spin(tmp_path, clock):
    # Found in review (1), worse: a plan that comes due in the second 02:00-02:30 (a plan missed
    # during a restart and spread "soon", a retry, the admin's "move to now") is re-planned by
    # deliver() at a time in the past, the timer fires again at once, and so on: the scheduler and
    # the workers spin for up to half an hour, writing two journal entries per turn (quiet_shifted +
    # planned). (Left running, this test's own journal query took 146 s to catch up with the flood.)
    clock.now = FALL_BACK + 10 * 60  # 02:10 CET (second occurrence), inside 23:00-02:30
    rig = Rig(tmp_path, clock, engine_config(quiet_hours="23:00-02:30"), tz=BERLIN)
    engine = await rig.start()
    try:
        first_id = rig.store._next_id
        engine.plan_at(FRIEND, clock.now)
        engine.scheduler.run_due()
        await asyncio.sleep(0.3)
        engine.scheduler.stop()  # stop the spin before looking
        fired = engine.scheduler.fired
        journaled = rig.store._next_id - first_id
        state = engine.sessions[FRIEND]
        assert fired <= 1 and state.next_at > clock.now, (
            f"the timer fired {fired} times and {journaled} journal entries were written in "
            f"0.3 s; next_at is {(clock.now - state.next_at) / 60:.0f} min in the past"
        )
    finally:
        await rig.stop()


# --- 2. A queued delivery is not re-checked when a worker picks it up ---------------------


async def test_a_user_message_while_the_plan_waits_for_a_worker_stops_the_send(rig):
    # Found in review (2), in engine._on_due -> _worker -> deliver: _on_due queues the session; if
    # the user speaks before a worker takes it (one loop turn when idle; the whole length of two LLM
    # calls when both workers are busy), on_user_message re-plans 30-60 min ahead, but deliver()
    # never checks that the plan is still due, so the proactive message goes out right after the
    # user's own message, and counts as unanswered.
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.clock.advance(3601)
    engine.scheduler.run_due()  # queued for a worker
    engine.on_user_message(FRIEND)  # the user speaks first
    new_plan = engine.sessions[FRIEND].next_at
    await rig.settle()
    assert rig.sender.sent == [], (
        f"sent right after the user spoke, though the plan had moved to "
        f"+{(new_plan - rig.clock.now) / 60:.0f} min: {rig.sender.sent}"
    )


async def test_cancel_plan_while_the_plan_waits_for_a_worker_stops_the_send(rig):
    # Found in review (2), admin side: "cancel plan" (phase idle, no timer) on a queued session is
    # ignored by deliver(), which sends anyway and then plans the next message.
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.clock.advance(3601)
    engine.scheduler.run_due()
    engine.cancel_plan(FRIEND)
    await rig.settle()
    assert rig.sender.sent == [], f"sent after the plan was cancelled: {rig.sender.sent}"


# --- 3. Admin actions during writing do not stop the message ------------------------------


async def test_pause_while_the_message_is_being_written_stops_it(rig):
    # Found in review (3), in engine.pause / _compose_and_send: pause() only clears the plan; the
    # compose task is not cancelled and nothing re-checks paused before sending.
    engine = await rig.start()
    await fire_and_wait_for_compose(rig)
    engine.pause(FRIEND)
    rig.composer.gate.set()
    await rig.settle()
    assert rig.sender.sent == [], f"a paused session was sent {rig.sender.sent}"


async def test_proactive_off_while_writing_stops_it_and_plans_nothing(rig):
    # Found in review (3b): `/proactive off` during writing: the message still goes out, and the
    # stale `settings` captured by deliver() (enable=True) plus `"enable" in override` make
    # _served() say True, so _after_proactive() plans another message for a session that is switched
    # off (journal: disabled ... sent, planned).
    engine = await rig.start()
    await fire_and_wait_for_compose(rig)
    await engine.set_enabled(FRIEND, False)
    rig.composer.gate.set()
    await rig.settle()
    state = engine.sessions[FRIEND]
    assert not engine.is_served(FRIEND)
    assert rig.sender.sent == [] and state.phase != Phase.PLANNED, (
        f"sent={rig.sender.sent}, phase={state.phase}, journal={await rig.journal_kinds(FRIEND)}"
    )


async def test_removing_a_session_from_the_list_while_writing_stops_it(rig):
    # Found in review (3c): apply_settings() takes the session off the timer but leaves the message
    # being written alone: it is sent to a session that is no longer served.
    engine = await rig.start()
    await fire_and_wait_for_compose(rig)
    raw = engine_config(friends=())
    await engine.apply_settings(parse_plugin_config(raw)[0])
    rig.composer.gate.set()
    await rig.settle()
    assert rig.sender.sent == [], f"sent to an unlisted session: {rig.sender.sent}"


# --- 4. stop() during sending loses the next plan (and the state written after it) --------


async def test_a_reload_while_sending_keeps_the_sessions_next_plan(rig, monkeypatch):
    # Found in review (4), in engine._compose_and_send + stop: the plan is consumed and flushed
    # before the send (phase idle, next_at None); if stop() cancels the worker while the send is in
    # progress (SEND_GRACE_SECONDS = 2 s; TTS alone may take 60 s), the next plan is never made and
    # nothing is journaled. After the reload the session is idle for good: no timer, not "missed",
    # never contacted again unless the user writes first.
    monkeypatch.setattr(engine_module, "SEND_GRACE_SECONDS", 0.05)
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.sender.gates[FRIEND] = asyncio.Event()  # a slow platform / TTS
    rig.clock.advance(3601)
    engine.scheduler.run_due()
    await asyncio.wait_for(rig.sender.sending.wait(), 2)
    engine = await rig.restart()
    state = engine.sessions[FRIEND]
    kinds = await rig.journal_kinds(FRIEND)
    assert state.phase in (Phase.PLANNED, Phase.CAPPED) and (
        state.phase == Phase.CAPPED or FRIEND in engine.scheduler
    ), f"after the reload: phase={state.phase}, next_at={state.next_at}, journal={kinds}"


async def test_a_reload_during_remember_keeps_the_unanswered_count(rig, monkeypatch):
    # Found in review (4b): after a successful send, unanswered/sent_total/last_bot_at are changed
    # but _touch() only runs after `await composer.remember(...)`; a stop() there drops them (and
    # the next plan). The cap then lets one more message through per such reload.
    monkeypatch.setattr(engine_module, "SEND_GRACE_SECONDS", 0.05)
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    rig.composer.remember_gate = asyncio.Event()  # the conversation DB is slow
    rig.clock.advance(3601)
    engine.scheduler.run_due()
    await asyncio.wait_for(rig.sender.sending.wait(), 2)
    for _ in range(50):
        await asyncio.sleep(0.002)
        if rig.sender.sent:
            break
    assert rig.sender.sent
    engine = await rig.restart()
    state = engine.sessions[FRIEND]
    assert state.unanswered == 1 and state.sent_total == 1, (
        f"sent 1 message, but after the reload unanswered={state.unanswered}, "
        f"sent_total={state.sent_total}, phase={state.phase}"
    )


# --- 5. A failed flush before the send is ignored: at-most-once is lost -------------------


async def test_a_failed_consume_flush_sends_nothing_and_nothing_twice(rig, monkeypatch):
    # Found in review (5): `await self.store.flush()` result was ignored. With the disk full, the
    # consumed plan could not be written, the message went out anyway, and the next start
    # found the old plan "missed" and sent it again. Now: not sent, journaled, retried.
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    assert await rig.store.flush()  # the plan is on disk

    def disk_full(*args):
        raise sqlite3.OperationalError("database or disk is full")

    real_write = rig.store._db.write
    monkeypatch.setattr(rig.store._db, "write", disk_full)
    await rig.advance(3601)
    assert rig.sender.sent == []
    state = engine.sessions[FRIEND]
    assert state.unanswered == 0 and state.next_at > rig.clock.now  # retried later
    monkeypatch.setattr(rig.store._db, "write", real_write)  # the disk has room again
    engine = await rig.restart()
    await rig.advance(5 * 60 + 1)
    assert len(rig.sender.sent) == 1, f"one plan, sent once: {rig.sender.sent}"
    assert "send_failed" in await rig.journal_kinds(FRIEND)


# --- 6. Workers keep starting deliveries after stop() began --------------------------------


async def test_stop_lets_no_worker_start_another_session(tmp_path, clock, monkeypatch):
    # Found in review (6), in engine._worker / deliver / stop: stop() waits up to SEND_GRACE_SECONDS
    # for the sends in progress; meanwhile a worker whose send finishes takes the next queued
    # session, journals "fired", writes and SENDS it: the old instance keeps delivering new messages
    # during terminate(). Neither _worker nor deliver() looks at self.running.
    monkeypatch.setattr(engine_module, "SEND_GRACE_SECONDS", 0.5)
    third = "test:FriendMessage:carol"
    clock.now = START
    rig = Rig(tmp_path, clock, engine_config(friends=(FRIEND, OTHER_FRIEND, third)))
    engine = await rig.start()
    try:
        for offset, umo in enumerate((FRIEND, OTHER_FRIEND, third), start=1):
            engine.plan_at(umo, clock.now + offset)
        rig.sender.gates[FRIEND] = asyncio.Event()  # slow: holds stop() in its grace wait
        rig.sender.gates[OTHER_FRIEND] = asyncio.Event()
        clock.advance(5)
        engine.scheduler.run_due()  # two workers take FRIEND and OTHER; `third` waits
        for _ in range(200):
            await asyncio.sleep(0.002)
            if len(engine._deliveries) == 2 and all(d.sending for d in engine._deliveries.values()):
                break
        stopping = asyncio.create_task(engine.stop())
        await asyncio.sleep(0.01)
        assert not engine.running
        rig.sender.gates[OTHER_FRIEND].set()  # one send in flight finishes
        await asyncio.wait_for(stopping, 5)
        sent_to = [umo for umo, _ in rig.sender.sent]
        assert third not in sent_to, f"sent after stop() began: {sent_to}"
    finally:
        rig.engine = None
        await rig.stop()


# --- 7. Capped sessions are never re-evaluated when the cap changes ------------------------


async def test_raising_the_cap_wakes_capped_sessions(rig):
    # Found in review (7), in engine.apply_settings: only planned/silence sessions are looked at; a
    # session capped at 1 stays "capped" (no timer) after the owner raises the cap to 3 or sets 0
    # (no limit), while the panel shows unanswered 1/3. It waits for a user message.
    rig.raw_config = engine_config(max_unanswered_times=1)
    engine = await rig.start()
    engine.on_user_message(FRIEND)
    await rig.advance(3601)
    state = engine.sessions[FRIEND]
    assert state.phase == Phase.CAPPED
    await engine.apply_settings(parse_plugin_config(engine_config(max_unanswered_times=0))[0])
    view = engine.session_view(state)
    assert state.phase == Phase.PLANNED and FRIEND in engine.scheduler, (
        f"cap removed, yet phase={view['phase']} unanswered={view['unanswered']}"
        f"/{view['max_unanswered']}, timer={FRIEND in engine.scheduler}"
    )


# --- 8. A bot message does not restart a group's silence once a message is planned ---------


async def test_a_bot_message_in_a_planned_group_restarts_the_silence(rig):
    # Found in review (8), in engine.on_bot_message: only phase "silence" is restarted. Once the
    # group has been quiet long enough and a message is planned, a bot message (another plugin,
    # AstrBot's cron agent, an echoed send) leaves the plan in place; the requirement is "any
    # message, the bot's own replies and proactive messages included, restarts the silence". (User
    # messages do restart it.)
    engine = await rig.start()
    engine.on_user_message(GROUP)
    await rig.advance(10 * 60)  # silent long enough: a message is planned
    state = engine.sessions[GROUP]
    assert state.phase == Phase.PLANNED
    rig.clock.advance(60)
    engine.on_bot_message(GROUP)
    assert state.phase == Phase.SILENCE and state.next_at == rig.clock.now + 10 * 60, (
        f"bot spoke, group still {state.phase} with next_at in "
        f"{(state.next_at - rig.clock.now) / 60:.0f} min"
    )


# --- 9. The voice send has no timeout -------------------------------------------------------


class _HangingVoiceContext:
    """send_message never returns for a voice chain (a platform that hangs)."""

    def __init__(self) -> None:
        self.platform_manager = self

    @property
    def platform_insts(self):
        return [self]

    def meta(self):
        class Meta:
            id = "test"
            name = "test"
            support_proactive_message = True

        return Meta()

    def get_config(self, umo=None):
        return {"provider_tts_settings": {"enable": True}}

    async def get_using_tts_provider_async(self, umo=None):
        return self

    async def get_audio(self, text):
        return "/tmp/voice.wav"

    async def send_message(self, umo, chain):
        if any(type(c).__name__ == "Record" for c in chain.chain):
            await asyncio.Event().wait()  # hangs
        return True


async def test_a_hanging_platform_cannot_block_the_voice_send(monkeypatch):
    # Found in review (9), in sender._try_tts: the text send is bounded by SEND_TIMEOUT_SECONDS,
    # get_audio by TTS_TIMEOUT_SECONDS, but the voice `context.send_message` has no bound: a
    # platform that never answers holds one of the engine's two workers forever. Minimal stand-ins
    # for the two AstrBot classes the sender imports (importing the real astrbot.api costs ~3.5 s in
    # a fresh process; the bug is the missing timeout).
    import sys
    import types

    class MessageChain:
        def __init__(self, chain=None):
            self.chain = list(chain or [])

        def message(self, text):
            self.chain.append(text)
            return self

    class Record:
        def __init__(self, file=None, **kw):
            self.file = file

    event_mod = types.ModuleType("astrbot.api.event")
    event_mod.MessageChain = MessageChain
    components_mod = types.ModuleType("astrbot.api.message_components")
    components_mod.Record = Record
    monkeypatch.setitem(sys.modules, "astrbot.api.event", event_mod)
    monkeypatch.setitem(sys.modules, "astrbot.api.message_components", components_mod)
    monkeypatch.setattr(sender_module, "SEND_TIMEOUT_SECONDS", 0.05)
    monkeypatch.setattr(sender_module, "TTS_TIMEOUT_SECONDS", 0.05)
    sender = MessageSender(_HangingVoiceContext())
    settings = SessionSettings(kind="friend")
    try:
        result = await asyncio.wait_for(sender.send(FRIEND, "hi", settings), 0.5)
    except TimeoutError:
        pytest.fail("send() did not return within 0.5 s with every timeout set to 0.05 s")
    assert result is not None
