"""``LogStream`` against a real AstrBot ``LogBroker``: pump, cleaning, reload backfill."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from proactive_chat.core.constants import LOG_PREFIX, PLUGIN_NAME
from proactive_chat.core.logs.redaction import Redactor
from proactive_chat.core.logs.ring import LogRing
from proactive_chat.core.logs.stream import LogStream, find_log_broker


@pytest.fixture
def broker():
    from astrbot.core.log import LogBroker

    return LogBroker()


class Clock:
    """Strictly increasing entry times, like AstrBot's time.time()."""

    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def __call__(self) -> float:
        self.t += 0.001
        return self.t


@pytest.fixture
def tick() -> Clock:
    return Clock()


def entry(tick, text, level="INFO", plugin_name=None, **extra) -> dict:
    return {"level": level, "time": tick(), "data": text, "plugin_name": plugin_name, **extra}


def make_stream(capacity=100, storage=None, state=None, secrets=()) -> LogStream:
    redactor = Redactor()
    for secret in secrets:
        redactor.add_secret(secret)
    ring = LogRing(capacity, {} if storage is None else storage)
    return LogStream(ring, redactor, {} if state is None else state)


async def wait_seq(ring: LogRing, next_seq: int) -> None:
    """Until the pump has stored lines up to ``next_seq - 1`` (woken by its notify())."""
    async with asyncio.timeout(2):
        await ring.wait_beyond(next_seq - 1)


def ring_lines(stream: LogStream) -> list[tuple[int, str]]:
    ring = stream.ring
    return [(ln.seq, ln.text) for ln in ring.read(1, 100_000).lines]


# --- start, pump, stop ----------------------------------------------------------


async def test_published_entries_arrive_in_ring(broker, tick):
    stream = make_stream()
    assert stream.start(broker) is True
    assert stream.attached
    assert len(broker.subscribers) == 1
    try:
        for n in range(1, 4):
            broker.publish(entry(tick, f"hello {n}", level="WARNING" if n == 2 else "INFO"))
        await wait_seq(stream.ring, 4)
        lines = stream.ring.read(1).lines
        assert [(ln.seq, ln.text) for ln in lines] == [
            (1, "hello 1"),
            (2, "hello 2"),
            (3, "hello 3"),
        ]
        assert [ln.level for ln in lines] == [20, 30, 20]
        assert json.loads(lines[1].json)["level"] == "WARNING"
    finally:
        await stream.stop()


async def test_astrbot_timestamp_prefix_is_dropped(broker, tick):
    # The page shows each line's time itself; AstrBot's own "[date time] " prefix goes.
    stream = make_stream()
    stream.start(broker)
    try:
        broker.publish(entry(tick, "[2026-11-28 04:35:01.187] [Core] [INFO] [x:1]: hi"))
        broker.publish(entry(tick, "mid-line [2026-11-28 04:35:01.187] stays"))
        await wait_seq(stream.ring, 3)
        assert [text for _, text in ring_lines(stream)] == [
            "[Core] [INFO] [x:1]: hi",
            "mid-line [2026-11-28 04:35:01.187] stays",
        ]
    finally:
        await stream.stop()


async def test_entry_time_is_kept(broker, tick):
    stream = make_stream()
    stream.start(broker)
    try:
        e = entry(tick, "timed")
        broker.publish(e)
        await wait_seq(stream.ring, 2)
        assert stream.ring.read(1).lines[0].time == e["time"]
    finally:
        await stream.stop()


async def test_ansi_stripped_and_secrets_redacted(broker, tick):
    stream = make_stream(secrets=["Hunter2-Secret"])
    stream.start(broker)
    try:
        broker.publish(entry(tick, "\x1b[32m[INFO]\x1b[0m login with Hunter2-Secret ok"))
        broker.publish(entry(tick, "provider api_key=abc123def and sk-abcdefghijklmnopqrstu"))
        await wait_seq(stream.ring, 3)
        texts = [ln.text for ln in stream.ring.read(1).lines]
        assert texts == [
            "[INFO] login with *** ok",
            "provider api_key=*** and ***",
        ]
        assert all("Hunter2" not in ln.json for ln in stream.ring.read(1).lines)
    finally:
        await stream.stop()


async def test_trace_entries_and_non_dicts_are_skipped(broker, tick):
    stream = make_stream()
    stream.start(broker)
    try:
        broker.publish(entry(tick, "span", type="trace"))
        broker.publish(entry(tick, "kept 1"))
        stream._queue.put_nowait("not a dict")  # junk in the queue must not break the pump
        broker.publish(entry(tick, "kept 2"))
        await wait_seq(stream.ring, 3)
        await asyncio.sleep(0.02)
        assert ring_lines(stream) == [(1, "kept 1"), (2, "kept 2")]
    finally:
        await stream.stop()


async def test_plugin_flag(broker, tick):
    stream = make_stream()
    stream.start(broker)
    try:
        broker.publish(entry(tick, f"{LOG_PREFIX} next trigger in 60 s"))
        broker.publish(entry(tick, "from our plugin logger", plugin_name=PLUGIN_NAME))
        broker.publish(entry(tick, "another plugin", plugin_name="astrbot_plugin_other"))
        broker.publish(entry(tick, "core line about ProactiveChat without brackets"))
        await wait_seq(stream.ring, 5)
        # By the logger's plugin name only: our old text prefix, logged by anyone else, is not ours.
        assert [ln.plugin for ln in stream.ring.read(1).lines] == [False, True, False, False]
    finally:
        await stream.stop()


async def test_odd_entries_get_defaults(broker, tick):
    stream = make_stream()
    stream.start(broker)
    try:
        broker.publish({"time": tick(), "data": 12345})  # no level, non-text data
        broker.publish({"level": "ERROR", "time": tick(), "body": "from body"})
        broker.publish({"level": None, "time": "not a number", "data": ""})
        await wait_seq(stream.ring, 4)
        lines = stream.ring.read(1).lines
        assert [(ln.text, ln.level) for ln in lines] == [
            ("12345", 20),
            ("from body", 40),
            ("", 20),
        ]
        assert lines[2].time > 1_000_000_000  # the time.time() fallback
    finally:
        await stream.stop()


async def test_first_start_backfills_the_broker_cache(broker, tick):
    for n in range(3):
        broker.publish(entry(tick, f"before {n}"))
    stream = make_stream()
    stream.start(broker)
    try:
        # start() is synchronous: the backfill is there before any await.
        assert ring_lines(stream) == [(1, "before 0"), (2, "before 1"), (3, "before 2")]
    finally:
        await stream.stop()


async def test_stop_unregisters_and_is_idempotent(broker):
    stream = make_stream()
    stream.start(broker)
    assert stream.start(broker) is True  # second start: no second subscription
    assert len(broker.subscribers) == 1
    await stream.stop()
    assert broker.subscribers == []
    assert not stream.attached
    await stream.stop()
    assert broker.subscribers == []


async def test_stop_takes_lines_still_queued(broker, tick):
    stream = make_stream()
    stream.start(broker)
    broker.publish(entry(tick, "q1"))
    broker.publish(entry(tick, "q2"))
    await stream.stop()  # no await in between: the pump never saw them
    assert ring_lines(stream) == [(1, "q1"), (2, "q2")]


async def test_start_without_any_broker_returns_false(monkeypatch):
    from proactive_chat.core.logs import stream as module

    monkeypatch.setattr(module, "find_log_broker", lambda: None)
    stream = make_stream()
    assert stream.start() is False
    assert not stream.attached
    await stream.stop()


def test_find_log_broker_through_the_astrbot_logger_handler(broker):
    handler = logging.NullHandler()
    handler.log_broker = broker  # type: ignore[attr-defined]
    astrbot_logger = logging.getLogger("astrbot")
    astrbot_logger.addHandler(handler)
    try:
        assert find_log_broker() is broker
    finally:
        astrbot_logger.removeHandler(handler)


# --- hot reload ---------------------------------------------------------------------


async def test_reload_backfills_exactly_the_missed_lines(broker, tick):
    storage: dict = {}
    state: dict = {}
    for n in range(2):
        broker.publish(entry(tick, f"old {n}"))  # before the plugin ever started

    a = make_stream(storage=storage, state=state)
    a.start(broker)
    for n in range(3):
        broker.publish(entry(tick, f"a {n}"))
    await wait_seq(a.ring, 6)
    await a.stop()
    assert broker.subscribers == []

    for n in range(4):  # the reload itself: nobody listens
        broker.publish(entry(tick, f"gap {n}"))

    b = make_stream(storage=storage, state=state)
    assert b.ring.next_seq == 6  # the sequence continues
    b.start(broker)
    try:
        broker.publish(entry(tick, "b 0"))
        await wait_seq(b.ring, 11)
        await asyncio.sleep(0.02)
        lines = ring_lines(b)
        assert lines == [
            (1, "old 0"),
            (2, "old 1"),
            (3, "a 0"),
            (4, "a 1"),
            (5, "a 2"),
            (6, "gap 0"),
            (7, "gap 1"),
            (8, "gap 2"),
            (9, "gap 3"),
            (10, "b 0"),
        ]
    finally:
        await b.stop()


async def test_reload_with_nothing_missed_adds_nothing(broker, tick):
    storage: dict = {}
    state: dict = {}
    a = make_stream(storage=storage, state=state)
    a.start(broker)
    broker.publish(entry(tick, "one"))
    await wait_seq(a.ring, 2)
    await a.stop()
    b = make_stream(storage=storage, state=state)
    b.start(broker)
    try:
        assert ring_lines(b) == [(1, "one")]
    finally:
        await b.stop()


async def test_two_quick_reloads_keep_sequence(broker, tick):
    storage: dict = {}
    state: dict = {}
    expected = []
    for round_ in range(3):
        stream = make_stream(storage=storage, state=state)
        stream.start(broker)
        broker.publish(entry(tick, f"live {round_}"))
        expected.append(f"live {round_}")
        await stream.stop()
        broker.publish(entry(tick, f"between {round_}"))
        expected.append(f"between {round_}")
    final = make_stream(storage=storage, state=state)
    final.start(broker)
    try:
        lines = ring_lines(final)
        assert [seq for seq, _ in lines] == list(range(1, len(expected) + 1))
        assert [text for _, text in lines] == expected
    finally:
        await final.stop()


async def test_reload_fallback_when_last_entry_was_evicted(broker, tick):
    from astrbot.core.log import CACHED_SIZE

    storage: dict = {}
    state: dict = {}
    a = make_stream(capacity=2000, storage=storage, state=state)
    a.start(broker)
    broker.publish(entry(tick, "a 0"))
    broker.publish(entry(tick, "a 1"))
    await wait_seq(a.ring, 3)
    await a.stop()

    # More than the broker keeps: "a 1" falls out of the cache.
    for n in range(CACHED_SIZE + 20):
        broker.publish(entry(tick, f"gap {n}"))
    assert all(e is not state["last_entry"] for e in broker.log_cache)

    b = make_stream(capacity=2000, storage=storage, state=state)
    b.start(broker)
    try:
        lines = ring_lines(b)
        texts = [text for _, text in lines]
        # What is still cached comes in once, after what A stored; 20 lines are gone for good.
        assert texts == ["a 0", "a 1"] + [f"gap {n}" for n in range(20, CACHED_SIZE + 20)]
        assert [seq for seq, _ in lines] == list(range(1, CACHED_SIZE + 3))
    finally:
        await b.stop()


async def test_reload_fallback_uses_time_when_entry_identity_is_lost(broker, tick):
    # The stored entry is an equal copy, not the cached object (e.g. state from an older
    # version): entries up to its time are not taken again.
    storage: dict = {}
    cached = [entry(tick, f"c {n}") for n in range(5)]
    for e in cached:
        broker.publish(e)
    state = {"last_entry": dict(cached[2]), "last_time": cached[2]["time"]}
    stream = make_stream(storage=storage, state=state)
    stream.start(broker)
    try:
        assert ring_lines(stream) == [(1, "c 3"), (2, "c 4")]
    finally:
        await stream.stop()


async def test_reload_fallback_nothing_newer_takes_nothing(broker, tick):
    cached = [entry(tick, f"c {n}") for n in range(3)]
    for e in cached:
        broker.publish(e)
    state = {"last_entry": {"other": True}, "last_time": cached[-1]["time"] + 10}
    stream = make_stream(state=state)
    stream.start(broker)
    try:
        assert ring_lines(stream) == []
    finally:
        await stream.stop()
