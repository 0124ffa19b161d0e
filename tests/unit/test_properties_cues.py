"""Properties of the cue parser (core/engine/cues) over generated text, times and zones.

What it promises: it never raises, whatever the text; it is deterministic; a cue it
returns always has ``now <= not_before <= target <= now + horizon``, ``now < target``, and names the words it
read (``matched`` is in the text; a promise's ``sentence`` too). Text is drawn both at
random and from the parser's own trigger words glued with numbers and noise, so that the
rules themselves run, also on the nights the clocks change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from proactive_chat.core.engine.cues import parse_bot_promise, parse_user_cue

ZONES = ("Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "UTC")
FIRST, LAST = datetime(2024, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
PIECES = (
    "半", "一个", "两个", "十", "二十五", "3", "10", "1.5", "小时", "分钟", "刻钟", "天", "后", "以后",
    "点", "点半", "：30", "早上", "下午", "晚上", "今晚", "明天", "后天", "凌晨", "半夜", "等我",
    "还有", "了", "的", "第", "前", "昨天", "去睡了", "晚安", "开会", "上班", "考试", "忙", "吗", "？",
    "我", "你", "提醒你", "叫你", "要我", "不能", "，", "。", "!", " ", "in ", "at ", "after ",
    "until ", "an hour", "half an hour", "minutes", "mins", "2h", "8", "8pm", "7:30", "am",
    "o'clock", "tonight", "tomorrow", "morning", "night", "noon", "midnight", "ago", "waited",
    "I'll ", "remind you", "check on you", "brb", "good night", "meeting", "class", "?", ". ",
    "want me to", "can't", "9999", "99", "24", "25点", "60分钟", "day after tomorrow",
)  # fmt: skip

cue_like = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
texts = st.one_of(st.text(max_size=80), cue_like)
instants = st.floats(min_value=FIRST.timestamp(), max_value=LAST.timestamp())
zones = st.one_of(st.none(), st.sampled_from(ZONES).map(ZoneInfo))  # None: the server's zone
horizons = st.sampled_from([600.0, 3600.0, 86400.0, 7 * 86400.0])


@settings(max_examples=200, deadline=None)
@given(texts, instants, zones, horizons, st.booleans())
@example("明天早上八点叫你起床", 1_772_935_200.0, ZoneInfo("America/New_York"), 7 * 86400.0, True)
@example("晚上12点", 1_761_346_800.0, ZoneInfo("Europe/Berlin"), 7 * 86400.0, False)
@example("晚上聊", 1_773_140_400.0, ZoneInfo("Asia/Shanghai"), 7 * 86400.0, False)  # window begun
@example("9999天后", 1_800_000_000.0, ZoneInfo("UTC"), 7 * 86400.0, False)
def test_a_cue_is_never_past_never_beyond_the_horizon(
    text: str, now: float, tz: ZoneInfo | None, horizon: float, promise: bool
) -> None:
    parse = parse_bot_promise if promise else parse_user_cue
    cue = parse(text, now, tz, horizon)
    assert parse(text, now, tz, horizon) == cue  # deterministic
    if cue is None:
        return
    assert now <= cue.not_before <= cue.target <= now + horizon and now < cue.target, cue
    assert cue.matched and cue.matched in text, cue
    assert cue.rule.split(".")[0] in ("zh", "en"), cue
    assert ".promise." in cue.rule if promise else ".promise." not in cue.rule
    if promise:
        assert cue.sentence and cue.matched in cue.sentence, cue


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1000, max_size=3000), instants, zones)
def test_long_text_is_read_in_bounded_time_and_never_raises(
    text: str, now: float, tz: ZoneInfo | None
) -> None:
    parse_user_cue(text, now, tz)
    parse_bot_promise(text, now, tz)
