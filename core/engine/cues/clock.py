"""Clock times, days and day parts in one clause: "晚上八点", "3点半", "下午三点",
"明天早上", "今晚", "8:30", "tonight", "after 6pm", "at 8", "tomorrow morning".

A clause is read for three parts, each optional: a day (今天/明天/后天, today/tomorrow),
a day part (早上...晚上, morning...night) and a clock time. A clock time alone needs
a sign that it is one (点, a colon, am/pm, o'clock, or "at/by/until..." before it), so
counts and prices are not times ("3个人", "$20", "一点点"). Greetings ("早上好", "good
morning") name no plan. The resolution is in ``dayparts.py``.
"""

from __future__ import annotations

import re
from datetime import datetime

from .context import Clause, has_cjk, has_latin, told_as_past
from .dayparts import resolve_clock, resolve_part
from .model import Found
from .numerals import ZH_NUMBER, en_number, zh_number

ZH_DAYS = {"今天": 0, "今儿": 0, "今早": 0, "今晚": 0, "明天": 1, "明儿": 1, "明早": 1, "明晚": 1}
ZH_DAYS |= {"后天": 2, "大后天": 3}
ZH_PARTS = {
    "早上": "morning", "早晨": "morning", "清晨": "morning", "一早": "morning",
    "今早": "morning", "明早": "morning", "上午": "forenoon", "中午": "noon",
    "午饭后": "after_lunch", "下午": "afternoon", "傍晚": "dusk", "晚饭后": "after_dinner",
    "晚上": "evening", "今晚": "evening", "明晚": "evening", "夜里": "evening",
    "半夜": "late", "深夜": "late", "凌晨": "late",
}  # fmt: skip
EN_DAYS = {"today": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "tomorow": 1}
EN_PARTS = {
    "morning": "morning", "afternoon": "afternoon", "evening": "evening", "night": "evening",
    "tonight": "evening", "lunch": "after_lunch", "lunchtime": "after_lunch",
    "dinner": "after_dinner",
}  # fmt: skip

_ZH_DAY = re.compile("大后天|" + "|".join(ZH_DAYS))
_ZH_PART = re.compile("(?:" + "|".join(sorted(ZH_PARTS, key=len, reverse=True)) + r")(?!好)")
_ZH_CLOCK = re.compile(
    rf"(?P<hour>{ZH_NUMBER})\s*(?:点|：(?=\d))\s*"
    r"(?P<min>半|一刻|三刻|[0-5]?\d(?!\s*(?:分钟|个|小时))|[零〇]?[一二三四五六七八九十]{1,3}(?=分))?"
    r"\s*(?:分(?!钟))?(?:钟)?"
)
_ZH_NOT_CLOCK = re.compile(r"^\s*(?:建议|意见|要求|原因|东西|内容|问题|理由|想法|小事|儿)")
_EN_DAY = re.compile(r"\b(?:day\s+after\s+tomorrow|" + "|".join(EN_DAYS) + r")\b")
_EN_PART = re.compile(
    r"\b(?:(?P<q>this|tomorrow|tmrw|tmr|in\s+the|later\s+this|early\s+in\s+the|later\s+in\s+the|"
    r"after|at|by|around)\s+)?(?P<p>morning|afternoon|evening|night|lunch(?:time)?|dinner)\b|"
    r"\b(?P<tonight>tonight)\b",
)
_EN_HOURS = r"\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|midnight"
_EN_CLOCK = re.compile(
    rf"(?<![A-Za-z0-9$€£¥:.])(?:(?P<half>half\s+past|quarter\s+past|quarter\s+to)\s+)?"
    rf"(?P<hour>{_EN_HOURS})(?::(?P<min>[0-5]\d))?\s*"
    r"(?P<ampm>a\.?m\b\.?|p\.?m\b\.?|o'?clock\b)?(?![A-Za-z0-9%:$])",
)
_EN_CLOCK_LEAD = re.compile(
    r"\b(?:at|by|after|around|until|till|til|before|from|to|about|past)\s+$"
)
_ZH_NOT_FREE = re.compile(r"没空|不行|不方便|没时间|不在家|不可以")
_ZH_OTHERS = re.compile(
    r"(?<!其)[他她]们?|(?:妈|爸|老板|老师|朋友|同事|室友|对象|店|家店)[^我]{0,3}说|关门|开门|营业"
)
_ZH_PLAN = re.compile(r"聊|说|见|找|吧|有空|再|回|叫|提醒|约|等|去|要|前|后|以后|之前")
_EN_CLOCK_HINT = re.compile(rf"\d|{_EN_HOURS}")
_EN_PLAN = re.compile(
    r"\b(?:talk|chat|see|text|call|ping|message|catch|then|works?|free|speak|meet|continue|"
    r"tell|hear|let'?s|later|ttyl|cya|ya)\b"
)
_EN_NOW_IS = re.compile(r"\b(?:it'?s|it\s+is|now\s+is)\s+$")
_EN_NOT_CLOCK = re.compile(
    r"^\s*(?:people|persons|times|items|dollars|bucks|km|miles|kg|minutes|mins|hours|days|"
    r"years|points|pts|th|st|nd|rd|%|percent|of|more|left|to\s+go|min|hrs?)\b",
)


def _zh_clock(text: str) -> tuple[re.Match[str], int, int] | None:
    """The last Chinese clock time in the clause: (match, hour, minute)."""
    last = None
    for match in _ZH_CLOCK.finditer(text):
        hour, raw_min = zh_number(match["hour"]), match["min"]
        if (
            hour is None
            or hour > 24
            or hour != int(hour)
            or _ZH_NOT_CLOCK.match(text[match.end() :])
        ):
            continue
        if match["hour"] == "一" and not raw_min and not match.group().endswith("钟"):
            if not (_ZH_PART.search(text) or _ZH_DAY.search(text)):
                continue  # 一点 is "a little" far more often than one o'clock
        minute = {"半": 30, "一刻": 15, "三刻": 45}.get(raw_min or "")
        if minute is None:
            minute = int(zh_number(raw_min) or 0) if raw_min else 0
        if minute < 60:
            last = (match, int(hour), minute)
    return last


def _en_hour(match: re.Match[str]) -> tuple[int, int] | None:
    raw = match["hour"].lower()
    if raw in ("noon", "midnight"):
        return (12, 0) if raw == "noon" else (24, 0)
    hour = en_number(raw)
    if hour is None or hour > 24:
        return None
    minute = int(match["min"] or 0)
    ampm = (match["ampm"] or "").lower()
    if ampm.startswith("p") and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    half = (match["half"] or "").lower()
    if half.startswith("quarter to"):
        hour, minute = hour - 1, 45
    elif half:
        minute = 30 if half.startswith("half") else 15
    return int(hour), minute


def _en_clock(text: str) -> tuple[re.Match[str], int, int] | None:
    last = None
    for match in _EN_CLOCK.finditer(text):
        raw, before = match["hour"].lower(), text[: match.start()]
        signed = match["min"] or match["ampm"] or match["half"] or raw in ("noon", "midnight")
        if not signed and not _EN_CLOCK_LEAD.search(before):
            continue
        if _EN_NOW_IS.search(before):
            continue  # "it's 5 o'clock": the time now, not a plan
        if not match["min"] and not match["ampm"] and _EN_NOT_CLOCK.match(text[match.end() :]):
            continue
        reading = _en_hour(match)
        if reading is not None:
            last = (match, *reading)
    return last


def _parts(
    text: str, has_clock: bool, latin: bool
) -> tuple[int | None, str | None, list[re.Match[str]]]:
    """(day offset, day part, the matches read) in the clause (``latin``: it has Latin
    letters, so the English words are worth looking for)."""
    used: list[re.Match[str]] = []
    day = part = None
    if (m := _ZH_DAY.search(text)) is not None:
        day, part = ZH_DAYS[m.group()], ZH_PARTS.get(m.group())
        used.append(m)
    elif latin and (m := _EN_DAY.search(text)) is not None:
        word = m.group()
        day, part = (2 if word.startswith("day") else EN_DAYS[word]), EN_PARTS.get(word)
        used.append(m)
    if (m := _ZH_PART.search(text)) is not None:
        part = ZH_PARTS[m.group()]
        used.append(m)
    elif latin:
        for m in _EN_PART.finditer(text):
            word = (m["p"] or m["tonight"]).lower()
            if m["tonight"] or m["q"] or has_clock:
                part = EN_PARTS[word.removesuffix("time")]
                used.append(m)
                break
    return day, part, used


def named_day(text: str) -> int | None:
    """The day the clause names (0 today, 1 tomorrow...), if any: a later clause that names
    only a part ("明天上午没空，下午吧") means that day."""
    if (m := _ZH_DAY.search(text)) is not None:
        return ZH_DAYS[m.group()]
    if has_latin(text) and (m := _EN_DAY.search(text)) is not None:
        word = m.group()
        return 2 if word.startswith("day") else EN_DAYS[word]
    return None


def _refused(text: str, cjk: bool, clock: bool, day: int | None, part: str | None) -> bool:
    """Not the user's plan: someone else's ("我妈说晚上..."), a time they are not free
    ("明天上午没空"), or a day or day part alone with no word of a plan ("早上起来头好痛",
    "明天考试", "exam tomorrow")."""
    if cjk and (_ZH_NOT_FREE.search(text) or _ZH_OTHERS.search(text)):
        return True
    if clock or (day is not None and part is not None):
        return False  # "明天早上": stated enough
    if cjk:
        return _ZH_PLAN.search(text) is None
    return day is not None and _EN_PLAN.search(text) is None  # "exam tomorrow" is no plan


def clock_cue(
    clause: Clause, now: datetime, promise: bool = False, day_hint: int | None = None
) -> Found | None:
    """The clause's day, day part and clock time as one reading, or None (``promise``:
    the bot's committing sentence; its tense is already known to look forward;
    ``day_hint``: the day an earlier clause of the message named)."""
    text = clause.text
    cjk = has_cjk(text)
    clock = _zh_clock(text) if cjk and ("点" in text or "：" in text) else None
    clock = clock or (_en_clock(text) if _EN_CLOCK_HINT.search(text) else None)
    day, part, used = _parts(text, clock is not None, has_latin(text))
    if clock is None and not used:
        return None
    if not promise and (
        clause.question or told_as_past(text) or _refused(text, cjk, clock is not None, day, part)
    ):
        return None
    if day is None and day_hint:
        day = day_hint
    spans = [m.span() for m in used] + ([clock[0].span()] if clock else [])
    matched = text[min(s for s, _ in spans) : max(e for _, e in spans)].strip()
    lang = "zh" if cjk else "en"
    if clock is not None:
        at = resolve_clock(now, day, part, clock[1], clock[2])
        return Found(f"{lang}.clock", matched, at, at) if at is not None else None
    window = resolve_part(now, day, part)
    if window is None:
        return None
    kind = "daypart" if part is not None else "day"
    return Found(f"{lang}.{kind}", matched, window[0], window[1])
