"""One heap timer for every session: order, replacement, cancellation, real firing."""

from __future__ import annotations

import asyncio
import random
import time

from proactive_chat.core.trigger_scheduler import TriggerScheduler


def test_due_keys_come_out_in_time_order(clock):
    fired: list[str] = []
    scheduler = TriggerScheduler(fired.append, clock=clock)
    scheduler.schedule("c", clock.now + 30)
    scheduler.schedule("a", clock.now + 10)
    scheduler.schedule("b", clock.now + 20)
    clock.advance(25)
    assert scheduler.run_due() == 2
    assert fired == ["a", "b"]
    assert len(scheduler) == 1 and "c" in scheduler


def test_rescheduling_replaces_and_cancel_removes(clock):
    fired: list[str] = []
    scheduler = TriggerScheduler(fired.append, clock=clock)
    scheduler.schedule("a", clock.now + 10)
    scheduler.schedule("a", clock.now + 100)  # replaces: must not fire at +10
    scheduler.schedule("b", clock.now + 10)
    assert scheduler.cancel("b") is True
    assert scheduler.cancel("b") is False
    clock.advance(50)
    assert scheduler.run_due() == 0
    assert scheduler.when("a") == clock.now + 50
    clock.advance(50)
    scheduler.run_due()
    assert fired == ["a"]
    assert len(scheduler) == 0


def test_upcoming_lists_the_earliest(clock):
    scheduler = TriggerScheduler(lambda key: None, clock=clock)
    times = list(range(100))
    random.Random(1).shuffle(times)
    for t in times:
        scheduler.schedule(f"k{t}", clock.now + t)
    assert [k for _w, k in scheduler.upcoming(3)] == ["k0", "k1", "k2"]


def test_stale_entries_are_compacted(clock):
    scheduler = TriggerScheduler(lambda key: None, clock=clock)
    for i in range(5000):
        scheduler.schedule("same", clock.now + i)
    assert len(scheduler) == 1
    assert len(scheduler._heap) < 3000  # rebuilt, not 5000 stale entries


def test_a_failing_callback_does_not_stop_the_others(clock):
    fired: list[str] = []

    def on_due(key: str) -> None:
        if key == "bad":
            raise RuntimeError("boom")
        fired.append(key)

    scheduler = TriggerScheduler(on_due, clock=clock)
    scheduler.schedule("bad", clock.now + 1)
    scheduler.schedule("good", clock.now + 2)
    clock.advance(5)
    assert scheduler.run_due() == 2
    assert fired == ["good"]


async def test_the_real_timer_fires_on_time_and_rearms_for_earlier_plans():
    fired: list[tuple[str, float]] = []
    scheduler = TriggerScheduler(lambda key: fired.append((key, time.time())))
    scheduler.start()
    try:
        now = time.time()
        scheduler.schedule("late", now + 0.3)
        scheduler.schedule("early", now + 0.05)  # earlier than the armed time
        await asyncio.sleep(0.5)
        assert [k for k, _t in fired] == ["early", "late"]
        lateness = [t - want for (_k, t), want in zip(fired, (now + 0.05, now + 0.3), strict=True)]
        assert all(-0.005 < late < 0.1 for late in lateness), lateness
    finally:
        scheduler.stop()
    assert scheduler._handle is None


async def test_stop_leaves_no_timer_behind():
    fired: list[str] = []
    scheduler = TriggerScheduler(fired.append)
    scheduler.start()
    scheduler.schedule("x", time.time() + 0.05)
    scheduler.stop()
    await asyncio.sleep(0.1)
    assert fired == []
