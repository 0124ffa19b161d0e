"""``LogRing``, ``LogFilter`` and ``make_line``: the panel's live-log buffer."""

from __future__ import annotations

import asyncio
import json

import pytest

from proactive_chat.core.logs.ring import (
    LEVELS,
    LogFilter,
    LogLine,
    LogRing,
    ReadResult,
    level_number,
    make_line,
)


def fill(ring: LogRing, count: int, start: int = 1, level: str = "INFO", plugin=False) -> None:
    for n in range(start, start + count):
        ring.append(float(n), level, f"line {n}", plugin)


def seqs(result: ReadResult) -> list[int]:
    return [line.seq for line in result.lines]


# --- make_line ------------------------------------------------------------------


def test_make_line_fields_and_json():
    line = make_line(7, 1700000000.123456, "info", '你好 <b>"q"</b>', True)
    assert isinstance(line, LogLine)
    assert (line.seq, line.time, line.level, line.text, line.plugin) == (
        7,
        1700000000.123456,
        20,
        '你好 <b>"q"</b>',
        True,
    )
    assert json.loads(line.json) == {
        "seq": 7,
        "time": 1700000000.123,
        "level": "INFO",
        "text": '你好 <b>"q"</b>',
        "plugin": True,
    }
    assert "你好" in line.json  # ensure_ascii=False: not \u escapes


@pytest.mark.parametrize(
    ("given", "shown", "number"),
    [
        ("WARN", "WARNING", 30),
        ("warn", "WARNING", 30),
        ("Warning", "WARNING", 30),
        ("debug", "DEBUG", 10),
        ("ERROR", "ERROR", 40),
        ("critical", "CRITICAL", 50),
        ("TRACE", "TRACE", 20),
    ],
)
def test_make_line_level_names(given, shown, number):
    line = make_line(1, 0.0, given, "x", False)
    assert json.loads(line.json)["level"] == shown
    assert line.level == number


def test_level_number_unknown_is_info():
    assert level_number("nonsense") == 20
    assert level_number("") == 20
    assert LEVELS["WARN"] == LEVELS["WARNING"] == 30


# --- LogRing basics ----------------------------------------------------------------


def test_new_ring_is_empty_and_seq_starts_at_one():
    ring = LogRing(5)
    assert (ring.capacity, ring.next_seq, ring.first_seq) == (5, 1, 1)
    assert ring.read(1) == ReadResult([], 0, 1)


def test_append_assigns_consecutive_seqs_from_one():
    ring = LogRing(10)
    fill(ring, 3)
    result = ring.read(1)
    assert seqs(result) == [1, 2, 3]
    assert [line.text for line in result.lines] == ["line 1", "line 2", "line 3"]
    assert (result.missed, result.cursor) == (0, 4)
    assert (ring.next_seq, ring.first_seq) == (4, 1)


def test_read_from_middle_and_limit():
    ring = LogRing(10)
    fill(ring, 8)
    assert seqs(ring.read(3, limit=2)) == [3, 4]
    assert ring.read(3, limit=2).cursor == 5
    assert seqs(ring.read(5)) == [5, 6, 7, 8]
    assert ring.read(9) == ReadResult([], 0, 9)


def test_read_with_limit_zero_returns_nothing_and_keeps_cursor():
    ring = LogRing(10)
    fill(ring, 3)
    assert ring.read(2, limit=0) == ReadResult([], 0, 2)


def test_wrap_around_keeps_only_newest_capacity_lines():
    ring = LogRing(4)
    fill(ring, 10)
    assert (ring.next_seq, ring.first_seq) == (11, 7)
    result = ring.read(7)
    assert seqs(result) == [7, 8, 9, 10]
    assert [line.text for line in result.lines] == ["line 7", "line 8", "line 9", "line 10"]
    assert result.missed == 0


def test_lapped_cursor_reports_exact_missed_count():
    ring = LogRing(4)
    fill(ring, 3)
    cursor = ring.read(1).cursor  # a client that has read 1..3
    assert cursor == 4
    fill(ring, 9, start=4)  # 4..12: the ring now holds 9..12, the client lost 4..8
    result = ring.read(cursor)
    assert result.missed == 5
    assert seqs(result) == [9, 10, 11, 12]
    assert result.cursor == 13


def test_lapped_cursor_with_limit_then_continues_without_gap():
    ring = LogRing(4)
    fill(ring, 20)
    first = ring.read(2, limit=3)
    assert (first.missed, seqs(first), first.cursor) == (15, [17, 18, 19], 20)
    second = ring.read(first.cursor)
    assert (second.missed, seqs(second), second.cursor) == (0, [20], 21)


def test_cursor_from_the_future_starts_at_tail():
    ring = LogRing(4)
    fill(ring, 3)
    result = ring.read(1000)
    assert result == ReadResult([], 0, 4)
    fill(ring, 1, start=4)
    assert seqs(ring.read(result.cursor)) == [4]


@pytest.mark.parametrize("cursor", [0, -1, -1000])
def test_cursor_below_one_starts_at_oldest(cursor):
    ring = LogRing(4)
    fill(ring, 6)
    result = ring.read(cursor)
    assert seqs(result) == [3, 4, 5, 6]
    assert result.missed == 0


def test_read_at_exactly_first_and_next_seq():
    ring = LogRing(3)
    fill(ring, 5)
    assert seqs(ring.read(ring.first_seq)) == [3, 4, 5]
    assert ring.read(ring.next_seq) == ReadResult([], 0, 6)
    # one below first_seq: exactly one missed line
    assert ring.read(2).missed == 1


# --- storage adoption (hot reload) ------------------------------------------------------


def test_second_ring_on_same_storage_continues_sequence():
    storage: dict = {}
    old = LogRing(5, storage)
    fill(old, 3)
    new = LogRing(5, storage)
    assert new.next_seq == 4
    assert seqs(new.read(1)) == [1, 2, 3]
    new.append(4.0, "INFO", "after reload", False)
    assert new.next_seq == 5
    assert [(ln.seq, ln.text) for ln in new.read(3).lines] == [(3, "line 3"), (4, "after reload")]
    # the storage is shared, not copied
    assert old.next_seq == 5


def test_storage_is_initialised_in_place():
    storage: dict = {}
    LogRing(3, storage)
    assert storage["buf"] == [None, None, None]
    assert storage["next_seq"] == 1
    assert isinstance(storage["stream_id"], str) and len(storage["stream_id"]) == 8


def test_stream_id_survives_adoption_and_resize():
    storage: dict = {}
    first = LogRing(5, storage)
    fill(first, 7)
    assert LogRing(5, storage).stream_id == first.stream_id
    assert LogRing(9, storage).stream_id == first.stream_id
    assert LogRing(5, {}).stream_id != first.stream_id


def test_stream_id_added_to_storage_from_an_older_version():
    storage = {"buf": [None] * 3, "next_seq": 1}
    ring = LogRing(3, storage)
    assert ring.stream_id == storage["stream_id"]
    assert ring.stream_id == LogRing(3, storage).stream_id


@pytest.mark.parametrize(
    "storage",
    [
        {"buf": "junk", "next_seq": 9},
        {"buf": [None] * 3, "next_seq": 0},
        {"buf": [None] * 3, "next_seq": "5"},
        {"buf": [None] * 3},
        {"next_seq": 4},
    ],
)
def test_damaged_storage_is_reset(storage):
    storage["stream_id"] = "old-id"
    ring = LogRing(3, storage)
    assert ring.stream_id != "old-id"  # a new numbering gets a new name
    assert (ring.capacity, ring.next_seq) == (3, 1)
    assert storage["buf"] == [None, None, None]


def test_capacity_shrink_keeps_newest_lines():
    storage: dict = {}
    fill(LogRing(10, storage), 8)
    ring = LogRing(3, storage)
    assert (ring.capacity, ring.next_seq, ring.first_seq) == (3, 9, 6)
    assert [(ln.seq, ln.text) for ln in ring.read(6).lines] == [
        (6, "line 6"),
        (7, "line 7"),
        (8, "line 8"),
    ]
    fill(ring, 2, start=9)
    assert seqs(ring.read(1)) == [8, 9, 10]


def test_capacity_grow_keeps_all_old_lines_and_sequence():
    storage: dict = {}
    fill(LogRing(4, storage), 10)  # holds 7..10
    ring = LogRing(8, storage)
    assert (ring.capacity, ring.next_seq) == (8, 11)
    result = ring.read(7)
    assert seqs(result) == [7, 8, 9, 10]
    fill(ring, 4, start=11)
    assert seqs(ring.read(7)) == [7, 8, 9, 10, 11, 12, 13, 14]


def test_capacity_grow_read_from_first_seq_does_not_return_holes():
    # After growing, first_seq (3) is older than the oldest kept line (7): the slots
    # for 3..6 are empty. A reader must never receive None instead of a line.
    storage: dict = {}
    fill(LogRing(4, storage), 10)
    ring = LogRing(8, storage)
    assert ring.first_seq == 7  # seqs 3..6 are gone, whatever 11 - 8 says
    result = ring.read(1)
    assert all(isinstance(line, LogLine) for line in result.lines), result.lines
    assert seqs(result) == [7, 8, 9, 10]
    assert result.missed == 6


# --- wait_beyond / notify -------------------------------------------------------


async def test_wait_beyond_returns_at_once_when_line_exists():
    ring = LogRing(4)
    fill(ring, 2)
    async with asyncio.timeout(1):
        await ring.wait_beyond(2)


async def test_wait_beyond_wakes_on_notify():
    ring = LogRing(4)
    fill(ring, 2)
    waiter = asyncio.create_task(ring.wait_beyond(3))  # wants a line with seq >= 3
    await asyncio.sleep(0.01)
    assert not waiter.done()
    ring.notify()  # a batch that did not reach seq 3: keep waiting
    await asyncio.sleep(0.01)
    assert not waiter.done()
    ring.append(3.0, "INFO", "3", False)
    ring.notify()
    async with asyncio.timeout(1):
        await waiter


async def test_wait_beyond_needs_notify_not_just_append():
    ring = LogRing(4)
    waiter = asyncio.create_task(ring.wait_beyond(1))
    await asyncio.sleep(0.01)
    ring.append(1.0, "INFO", "1", False)
    ring.append(2.0, "INFO", "2", False)
    await asyncio.sleep(0.01)
    assert not waiter.done()
    ring.notify()
    async with asyncio.timeout(1):
        await waiter


async def test_notify_wakes_every_waiter_and_spurious_notify_keeps_waiting():
    ring = LogRing(4)
    waiters = [asyncio.create_task(ring.wait_beyond(1)) for _ in range(3)]
    await asyncio.sleep(0.01)
    ring.notify()  # nothing appended: keep waiting
    await asyncio.sleep(0.01)
    assert not any(w.done() for w in waiters)
    fill(ring, 2)
    ring.notify()
    async with asyncio.timeout(1):
        await asyncio.gather(*waiters)


# --- LogFilter -------------------------------------------------------------------


def line(level="INFO", text="hello", plugin=False) -> LogLine:
    return make_line(1, 0.0, level, text, plugin)


def test_default_filter_matches_everything():
    f = LogFilter()
    assert all(f.matches(line(lv)) for lv in ("DEBUG", "INFO", "ERROR"))


@pytest.mark.parametrize(
    ("level", "min_level"),
    [
        ("DEBUG", 10),
        ("info", 20),
        ("Warning", 30),
        ("warn", 30),
        ("ERROR", 40),
        ("critical", 50),
        ("verbose", 0),
        ("", 0),
        (None, 0),
    ],
)
def test_from_params_level(level, min_level):
    assert LogFilter.from_params(level, None, None).min_level == min_level


def test_min_level_filters_lower_levels():
    f = LogFilter.from_params("WARNING", None, None)
    assert [f.matches(line(lv)) for lv in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")] == [
        False,
        False,
        True,
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("scope", "plugin_only"), [("plugin", True), ("all", False), (None, False)]
)
def test_from_params_scope(scope, plugin_only):
    f = LogFilter.from_params(None, scope, None)
    assert f.plugin_only is plugin_only
    assert f.matches(line(plugin=True)) is True
    assert f.matches(line(plugin=False)) is (not plugin_only)


def test_query_is_case_insensitive_and_stripped():
    f = LogFilter.from_params(None, None, "  Proactive ")
    assert f.query == "proactive"
    assert f.matches(line(text="[PROACTIVECHAT] x")) is True
    assert f.matches(line(text="[ProactiveChat] x")) is True
    assert f.matches(line(text="other line")) is False


def test_query_casefolds_unicode():
    f = LogFilter.from_params(None, None, "STRASSE")
    assert f.matches(line(text="Die Straße ist lang")) is True
    assert LogFilter.from_params(None, None, "主动").matches(line(text="主动消息已发送")) is True


def test_query_is_capped_at_200_chars():
    assert len(LogFilter.from_params(None, None, "a" * 1000).query) == 200


def test_empty_query_matches():
    assert LogFilter.from_params(None, None, "   ").matches(line(text="anything")) is True


def test_all_conditions_combine():
    f = LogFilter.from_params("ERROR", "plugin", "boom")
    assert f.matches(line("ERROR", "BOOM here", True)) is True
    assert f.matches(line("WARNING", "BOOM here", True)) is False
    assert f.matches(line("ERROR", "BOOM here", False)) is False
    assert f.matches(line("ERROR", "quiet", True)) is False
