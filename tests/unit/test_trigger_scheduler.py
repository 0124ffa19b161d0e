"""One heap timer for every session: order, replacement, cancellation, real firing."""

from __future__ import annotations

import asyncio
import random
import time

from proactive_chat.core.engine.scheduler import TriggerScheduler


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


def test_upcoming_skips_stale_entries_and_reads_only_the_top(clock):
    scheduler = TriggerScheduler(lambda key: None, clock=clock)
    for i in range(1000):
        scheduler.schedule(f"k{i}", clock.now + 1000 + i)
    for i in range(5):
        scheduler.schedule(f"k{i}", clock.now + 5000 + i)  # moved later: old entries stale
    assert [k for _w, k in scheduler.upcoming(3)] == ["k5", "k6", "k7"]
    assert scheduler.upcoming(0) == []
    assert len(scheduler.upcoming(5000)) == 1000


def test_run_due_hands_out_at_most_the_limit(clock):
    fired: list[str] = []
    scheduler = TriggerScheduler(fired.append, clock=clock)
    for i in range(25):
        scheduler.schedule(f"k{i:02d}", clock.now + i)
    clock.advance(100)
    assert scheduler.run_due(limit=10) == 10
    assert scheduler.run_due(limit=10) == 10
    assert scheduler.run_due() == 5
    assert fired == [f"k{i:02d}" for i in range(25)]


async def test_compaction_on_a_running_loop_loses_nothing_and_fires_nothing_twice():
    fired: list[str] = []
    scheduler = TriggerScheduler(fired.append)
    scheduler.start()
    try:
        now = time.time()
        keys = [f"k{i}" for i in range(3000)]
        for round_ in range(3):  # re-plans leave stale entries until compaction
            for i, key in enumerate(keys):
                scheduler.schedule(key, now + 3600 + round_ + i * 0.001)
                if i % 500 == 0:
                    await asyncio.sleep(0)  # let the background compaction run
        # plans made and cancelled while compacting
        for i in range(200):
            scheduler.schedule(f"soon{i}", time.time() + 0.05 + i * 0.0005)
            scheduler.cancel(keys[i])
        for _ in range(50):
            await asyncio.sleep(0.01)
            if scheduler._compacting is None and len(fired) == 200:
                break
        assert scheduler.compactions >= 1
        assert sorted(fired) == sorted(f"soon{i}" for i in range(200))
        assert len(scheduler) == 3000 - 200
        assert len(scheduler._heap) < 3 * len(scheduler) + 1100
        assert all(scheduler.when(k) >= now + 3600 for k in keys[200:])
    finally:
        scheduler.stop()
