"""The cue parser rule by rule (core/engine/cues): durations, clock times and day parts,
activities, the bot's promises, what is refused, the horizon, and the zone's clock changes.
The labelled corpus is scored in test_cue_corpus.py; properties in test_properties_cues.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from proactive_chat.core.engine.cues import Cue, parse_bot_promise, parse_user_cue
from proactive_chat.core.engine.cues.numerals import en_number, zh_number
from proactive_chat.core.engine.cues.parse import USER_SLACK_S, screened

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
MIN = 60.0


def at(text: str, tz: ZoneInfo = SH) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def local(stamp: float, tz: ZoneInfo = SH) -> str:
    return datetime.fromtimestamp(stamp, tz).strftime("%Y-%m-%d %H:%M")


def user(text: str, now: str = "2026-03-10 14:00", tz: ZoneInfo = SH) -> Cue | None:
    return parse_user_cue(text, at(now, tz), tz)


def bot(text: str, now: str = "2026-03-10 14:00", tz: ZoneInfo = SH) -> Cue | None:
    return parse_bot_promise(text, at(now, tz), tz)


@pytest.mark.parametrize(
    ("text", "value"),
    [("十", 10), ("十二", 12), ("二十五", 25), ("两", 2), ("一百零五", 105), ("１０", 10),
     ("1.5", 1.5), ("零五", 5), ("", None), ("几", None), ("十x", None)],
)  # fmt: skip
def test_chinese_numerals(text: str, value: float | None) -> None:
    assert zh_number(text) == value


def test_english_numerals() -> None:
    assert en_number("forty-five") == 45
    assert en_number("An") == 1
    assert en_number("a couple of") == 2
    assert en_number("lots") is None


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("半小时后聊", 30), ("半个小时以后", 30), ("一个半小时后", 90), ("两个小时后回来", 120),
     ("等我10分钟", 10), ("10 分钟后", 10), ("一刻钟后", 15), ("三刻钟之后", 45),
     ("1.5小时后", 90), ("还有二十分钟下班", 20), ("in 20 minutes", 20),
     ("back in an hour", 60), ("give me half an hour", 30), ("in an hour and a half", 90),
     ("in two and a half hours", 150), ("be back in 2h", 120), ("another 20 min", 20),
     ("two more hours at work", 120), ("I'm in a meeting for an hour", 60),
     ("about an hour from now", 60)],
)  # fmt: skip
def test_durations(text: str, minutes: int) -> None:
    cue = user(text)
    assert cue is not None and cue.rule.endswith(".duration"), cue
    assert cue.not_before == at("2026-03-10 14:00") + minutes * MIN
    assert cue.target == cue.not_before + USER_SLACK_S
    assert cue.matched in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("晚上八点再说", "2026-03-10 20:00"), ("3点半开会", "2026-03-10 15:30"),
     ("下午三点", "2026-03-10 15:00"), ("明天中午一点", "2026-03-11 13:00"),
     ("明天八点半", "2026-03-11 08:30"), ("今晚12点", "2026-03-11 00:00"),
     ("三点一刻到", "2026-03-10 15:15"), ("晚上10:30以后", "2026-03-10 22:30"),
     ("after 6pm", "2026-03-10 18:00"), ("call me at 8", "2026-03-10 20:00"),
     ("see you at 7:30", "2026-03-10 19:30"), ("tomorrow at 9", "2026-03-11 09:00"),
     ("in a meeting until five", "2026-03-10 17:00"), ("at midnight", "2026-03-11 00:00"),
     ("around noon", "2026-03-11 12:00"), ("quarter to nine tonight", "2026-03-10 20:45")],
)  # fmt: skip
def test_clock_times(text: str, expected: str) -> None:
    cue = user(text)
    assert cue is not None and cue.rule.endswith(".clock"), cue
    assert local(cue.not_before) == expected


def test_a_small_hour_alone_means_the_afternoon_and_a_morning_hour_the_nearer() -> None:
    assert local(user("3点到", "2026-03-10 02:00").not_before) == "2026-03-10 15:00"  # type: ignore[union-attr]
    assert local(user("8点到", "2026-03-10 07:00").not_before) == "2026-03-10 08:00"  # type: ignore[union-attr]
    assert local(user("8点到", "2026-03-10 09:00").not_before) == "2026-03-10 20:00"  # type: ignore[union-attr]


def test_a_morning_asked_for_at_night_is_tomorrows() -> None:
    cue = user("早上八点叫我", "2026-03-10 23:00")
    assert cue is not None and local(cue.not_before) == "2026-03-11 08:00"
    assert user("早上八点叫我", "2026-03-10 10:00") is None  # today's is past, tomorrow's too far


def test_talk_tomorrow_never_gets_a_message_tonight() -> None:
    for text in ("明天聊", "talk tomorrow", "明天早上", "tomorrow morning works"):
        cue = user(text, "2026-03-10 21:00")
        assert cue is not None and cue.rule.endswith((".day", ".daypart")), (text, cue)
        assert local(cue.not_before) >= "2026-03-11 06:00", (text, cue)


def test_a_day_part_in_progress_means_a_little_later() -> None:
    cue = user("今晚再聊", "2026-03-10 21:00")
    assert cue is not None and cue.target == at("2026-03-10 21:30") + USER_SLACK_S


def test_a_day_named_in_one_clause_holds_for_the_next() -> None:
    cue = user("明天上午没空，下午吧", "2026-03-10 16:00")
    assert cue is not None and local(cue.not_before) == "2026-03-11 13:00"


@pytest.mark.parametrize(
    ("text", "now", "rule", "expected"),
    [("去睡了", "2026-03-10 22:30", "zh.activity.sleep", "2026-03-11 08:30"),
     ("晚安", "2026-03-11 03:00", "zh.activity.sleep", "2026-03-11 10:00"),
     ("good night!", "2026-03-10 23:00", "en.activity.sleep", "2026-03-11 08:30"),
     ("开会去了", "2026-03-10 14:00", "zh.activity.meeting", "2026-03-10 15:00"),
     ("去上班了", "2026-03-10 08:00", "zh.activity.work", "2026-03-10 18:00"),
     ("off to class", "2026-03-10 09:00", "en.activity.class", "2026-03-10 10:30"),
     ("brb", "2026-03-10 14:00", "en.activity.back", "2026-03-10 14:15"),
     ("我去考试了", "2026-03-10 09:00", "zh.activity.exam", "2026-03-10 11:00")],
)  # fmt: skip
def test_activities_end_when_they_usually_do(text: str, now: str, rule: str, expected: str) -> None:
    cue = user(text, now)
    assert cue is not None and cue.rule == rule
    assert local(cue.target - USER_SLACK_S) == expected


@pytest.mark.parametrize(
    ("text", "rule"),
    [("困了，去睡觉", "zh.activity.sleep"), ("午睡一下", "zh.activity.nap"),
     ("开完会找你", "zh.activity.meeting"), ("下课后聊", "zh.activity.class"),
     ("考完再说", "zh.activity.exam"), ("下班后聊", "zh.activity.after_work"),
     ("在搬砖", "zh.activity.work"), ("先忙了", "zh.activity.busy"),
     ("一会儿见", "zh.activity.back"), ("晚点再回你", "zh.activity.later"),
     ("吃完饭找你", "zh.activity.meal"), ("洗完澡再聊", "zh.activity.shower"),
     ("出门了", "zh.activity.out"), ("hitting the sack", "en.activity.sleep"),
     ("taking a nap", "en.activity.nap"), ("hopping on a call", "en.activity.meeting"),
     ("lecture now", "en.activity.class"), ("taking my midterm", "en.activity.exam"),
     ("clocking in", "en.activity.work"), ("hold on", "en.activity.back"),
     ("gtg", "en.activity.busy"), ("grabbing dinner", "en.activity.meal"),
     ("quick shower", "en.activity.shower")],
)  # fmt: skip
def test_every_activity_gets_past_the_screen(text: str, rule: str) -> None:
    cue = user(text, "2026-03-10 08:40")
    assert cue is not None and cue.rule == rule, cue


def test_sleep_in_the_daytime_is_a_nap() -> None:
    cue = user("我去睡了", "2026-03-10 13:00")
    assert cue is not None and local(cue.target - USER_SLACK_S) == "2026-03-10 15:00"


def test_a_stated_time_beats_an_activity_and_the_latest_wins() -> None:
    assert user("晚安，明天早上八点叫我", "2026-03-10 22:30").rule == "zh.clock"  # type: ignore[union-attr]
    cue = user("我三点开会，五点结束")
    assert cue is not None and local(cue.not_before) == "2026-03-10 17:00"


@pytest.mark.parametrize(
    "text",
    ["我3点就起来了", "等了10分钟", "10 minutes ago", "I waited an hour", "昨天晚上", "3个人",
     "第10分钟", "这个视频10分钟", "a 10-minute walk", "that's $20", "我平时七点起床",
     "I usually wake up at 6", "早上好！", "good morning!", "多吃一点", "我有三点建议",
     "你几点睡？", "你睡了吗", "睡不着", "我开完会了", "今天不用上班", "我不想上课",
     "finished my exam!", "I can't sleep", "it's 5 o'clock somewhere", "我妈说晚上要包饺子",
     "你忙吗", "the movie is 2 hours long", "I'm 25", "明天要考试吗？"],
)  # fmt: skip
def test_what_must_not_move_a_plan(text: str) -> None:
    assert user(text) is None


@pytest.mark.parametrize(
    ("text", "rule", "expected"),
    [("我十分钟后提醒你", "zh.promise.duration", "2026-03-10 14:10"),
     ("好的，明天早上叫你起床", "zh.promise.daypart", "2026-03-11 08:00"),
     ("I'll check on you in an hour", "en.promise.duration", "2026-03-10 15:00"),
     ("I'll remind you at 8", "en.promise.clock", "2026-03-10 20:00"),
     ("明天见！明天中午我再来找你聊天", "zh.promise.daypart", "2026-03-11 12:00")],
)  # fmt: skip
def test_promises_are_read_on_time(text: str, rule: str, expected: str) -> None:
    cue = bot(text)
    assert cue is not None and cue.rule == rule
    assert local(cue.target) == expected and cue.not_before == cue.target
    assert cue.sentence and cue.sentence in text and cue.matched in cue.sentence


def test_the_promise_keeps_its_own_sentence() -> None:
    cue = bot("Sure! I'll remind you at 8pm. Good luck with the meeting.")
    assert cue is not None and cue.sentence == "I'll remind you at 8pm."


@pytest.mark.parametrize(
    "text",
    ["要我十分钟后提醒你吗？", "Want me to remind you at 8?", "I can't set reminders, sorry.",
     "我不能定时发消息哦", "你十分钟后出门吧", "Remember to take your meds at 8!",
     "If you want, I can remind you in 10 minutes.", "晚安，好梦"],
)  # fmt: skip
def test_offers_refusals_and_the_users_own_times_are_no_promise(text: str) -> None:
    assert bot(text) is None


def test_nothing_beyond_the_horizon() -> None:
    assert user("十天后再聊") is None
    assert user("in 3 days") is not None
    now = at("2026-03-10 14:00")
    assert parse_user_cue("in 3 days", now, SH, horizon=86400) is None
    assert parse_bot_promise("I'll remind you in 2 days", now, SH, horizon=86400) is None


def test_durations_are_exact_across_a_spring_forward_night() -> None:
    now = at("2026-03-08 00:30", NY)  # 02:00 does not exist that night
    cue = parse_user_cue("in 3 hours", now, NY)
    assert cue is not None and cue.not_before == now + 3 * 3600
    assert local(cue.not_before, NY) == "2026-03-08 04:30"


def test_clock_times_are_wall_times_across_a_clock_change() -> None:
    now = at("2026-03-07 22:00", NY)
    cue = parse_user_cue("tomorrow at 9", now, NY)
    assert cue is not None and local(cue.not_before, NY) == "2026-03-08 09:00"
    assert cue.not_before - now == 10 * 3600  # eleven wall-clock hours, ten real ones
    berlin = ZoneInfo("Europe/Berlin")
    now = at("2026-10-24 23:30", berlin)
    cue = parse_user_cue("晚安", now, berlin)  # a 25-hour day: still 08:30 on the clock
    assert cue is not None and local(cue.target - USER_SLACK_S, berlin) == "2026-10-25 08:30"


def test_a_time_in_the_spring_gap_lands_just_after_it() -> None:
    now = at("2026-03-07 22:00", NY)
    cue = parse_bot_promise("I'll remind you tomorrow at 2:30am", now, NY)
    assert cue is not None and local(cue.target, NY) == "2026-03-08 03:30"
    assert cue.target - now == timedelta(hours=4, minutes=30).total_seconds()


@pytest.mark.parametrize(
    "text",
    [
        "好的",
        "哈哈哈哈",
        "你在干嘛呀",
        "谢谢你",
        "今天好累啊",
        "lol",
        "ok",
        "you're funny",
        "I love pizza",
        "what are you doing?",
    ],
)
def test_a_message_without_trigger_words_stops_at_the_screen(text: str) -> None:
    assert not screened(text.lower())


def test_rule_names_are_stable() -> None:
    rules = {
        user("半小时后").rule, user("in 20 minutes").rule, user("晚上八点").rule,  # type: ignore[union-attr]
        user("at 8pm").rule, user("明天早上").rule, user("talk tomorrow").rule,  # type: ignore[union-attr]
        user("晚安", "2026-03-10 23:00").rule, user("brb").rule,  # type: ignore[union-attr]
        bot("我十分钟后提醒你").rule, bot("I'll remind you at 8").rule,  # type: ignore[union-attr]
    }  # fmt: skip
    assert rules == {
        "zh.duration", "en.duration", "zh.clock", "en.clock", "zh.daypart", "en.day",
        "zh.activity.sleep", "en.activity.back", "zh.promise.duration", "en.promise.clock",
    }  # fmt: skip
