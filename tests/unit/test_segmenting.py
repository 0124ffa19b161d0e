"""Splitting replies into natural pieces, and the pauses between them."""

from __future__ import annotations

import random

import pytest

from proactive_chat.core.adapters.segmenting import MAX_SEGMENTS, pause_before_next, split_reply
from proactive_chat.core.engine.models import SegmentSettings

ON = SegmentSettings(enable=True)


def test_off_or_too_long_sends_whole():
    text = "你好。今天怎么样？"
    assert split_reply(text, SegmentSettings(enable=False)) == [text]
    assert split_reply(text, SegmentSettings(enable=True, words_count_threshold=3)) == [text]
    assert split_reply("   ", ON) == []


def test_regex_mode_splits_on_sentence_ends():
    assert split_reply("你好。今天怎么样？我很好！", ON) == ["你好。", "今天怎么样？", "我很好！"]
    assert split_reply("no punctuation at all", ON) == ["no punctuation at all"]


def test_words_mode_keeps_runs_of_punctuation_together():
    seg = SegmentSettings(enable=True, split_mode="words")
    assert split_reply("真的吗？？好吧……那再见", seg) == ["真的吗？？", "好吧……", "那再见"]


def test_a_broken_regex_sends_whole():
    seg = SegmentSettings(enable=True, regex="(")
    assert split_reply("一。二。", seg) == ["一。二。"]


def test_never_more_than_the_maximum_pieces():
    text = "。".join(["a"] * 60) + "。"
    parts = split_reply(text, SegmentSettings(enable=True, words_count_threshold=1000))
    assert len(parts) == MAX_SEGMENTS
    assert "".join(parts) == text


@pytest.mark.parametrize("seed", range(5))
def test_random_pauses_stay_in_the_interval(seed):
    seg = SegmentSettings(interval_min=1.0, interval_max=2.0)
    pause = pause_before_next("hello", seg, random.Random(seed))
    assert 1.0 <= pause <= 2.0


def test_log_pauses_grow_with_length_and_are_bounded():
    seg = SegmentSettings(interval_method="log", log_base=2.0)
    short = pause_before_next("ab", seg, random.Random())
    longer = pause_before_next("a" * 64, seg, random.Random())
    assert short == pytest.approx(1.0)
    assert longer == pytest.approx(6.0)
    assert pause_before_next("a" * 10**6, seg, random.Random()) == 10.0
