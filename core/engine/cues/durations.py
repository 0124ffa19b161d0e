"""Durations that look forward: "半小时后", "一个半小时", "两个小时", "等我10分钟",
"in 20 minutes", "an hour and a half", "give me an hour", "for 2 hours" (with a future verb).

A duration is read only when the words around it say it is still to come. Quoted
lengths ("10分钟的视频", "a 2 hour drive", "第10分钟"), past ones ("等了10分钟",
"10 minutes ago", "I waited an hour") and habits are not plans.
"""

from __future__ import annotations

import re

from .context import Clause, en_told_as_past, zh_told_as_past
from .model import Found
from .numerals import EN_NUMBER, ZH_NUMBER, en_number, zh_number

ZH_DURATION = re.compile(
    rf"(?P<num>{ZH_NUMBER}|几)?\s*(?:来|多)?\s*(?:个)?\s*(?P<half>半)?\s*(?:个)?\s*"
    r"(?P<unit>小时|钟头|分钟|刻钟|天)"
)
_ZH_UNIT_HINT = re.compile(r"小时|钟头|分钟|刻钟|天")
_EN_UNIT_HINT = re.compile(r"hour|hr|min|day|\d[hm]\b")
ZH_UNIT_SECONDS = {"小时": 3600.0, "钟头": 3600.0, "分钟": 60.0, "刻钟": 900.0, "天": 86400.0}
_ZH_AFTER_FUTURE = re.compile(
    r"^\s*(?:钟)?\s*(?:以后|之后|过后|后|左右|内|就|再|才|到(?!了)|回(?!了))"
)
_ZH_AFTER_NOT = re.compile(r"^\s*(?:前|之前|以前|的|了|没|多了)")
_ZH_BEFORE_FUTURE = re.compile(
    r"(?:过|再|等|还|要|得|大概|大约|估计|需要|给我|最多|至少|顶多|约|差不多|预计|先|睡|忙|"
    r"开|上|考|玩|出去|走|学|下)[^了]{0,4}$"
)
_ZH_ACTIVITY = re.compile(r"开会|上课|考试|上班|加班|忙|出门|出去|回来|睡")

EN_DURATION = re.compile(
    r"(?<![A-Za-z0-9$€£¥.])(?:(?P<half>half\s+an?|half)\s+|"
    rf"(?P<num>{EN_NUMBER})(?P<andhalf>\s+and\s+a\s+half)?(?P<more>\s+(?:more|extra))?"
    r"(?P<sep>[\s-]*))"
    r"(?P<unit>hours?|hrs?|minutes?|mins?|days?|h|m)\b(?P<tail>\s+and\s+a\s+half)?",
)
EN_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "d": 86400.0}
_EN_LEAD = r"(?:about|around|like|roughly|maybe|just|another|only|an\s+other|approximately|~)\s+"
_EN_BEFORE_FUTURE = re.compile(
    rf"\b(?:in|within|after|give\s+me|need|another|be|for\s+another|maybe|probably)\s+(?:{_EN_LEAD})*$",
)
_EN_BEFORE_FOR = re.compile(rf"\bfor\s+(?:{_EN_LEAD})*$")
_EN_FUTURE_VERB = re.compile(
    r"'ll\b|\bwill\b|\bgonna\b|\bgoing\s+to\b|\babout\s+to\b|\bneed\b|\bhave\s+to\b|\bgotta\b|"
    r"'m\b|\bam\b|\bbe\b",
)
_EN_AFTER_FUTURE = re.compile(r"^\s*(?:from\s+now|later|left|to\s+go|more|tops|max|or\s+so)\b")
_EN_AFTER_NOT = re.compile(r"^\s*(?:ago|of|long|old|earlier|before|'s|late)\b")
_EN_BEFORE_NOT = re.compile(r"\b(?:a|the|first|every|each|last|per|that|this)\s+$")


def _zh_seconds(match: re.Match[str]) -> float | None:
    raw, half, unit = match["num"], match["half"], match["unit"]
    if raw is None and half is None:
        return None
    number = 3.0 if raw == "几" else (zh_number(raw) if raw else 0.0)
    if number is None:
        return None
    if unit == "天" and half and not raw:
        return None  # 半天: "a long while" as often as half a day
    return (number + (0.5 if half else 0.0)) * ZH_UNIT_SECONDS[unit]


def _zh_looks_forward(clause: str, start: int, end: int, promise: bool) -> bool:
    before, after = clause[:start], clause[end:]
    if before.endswith(("第", "了")) or _ZH_AFTER_NOT.match(after):
        return False
    if not promise and zh_told_as_past(clause) and not _ZH_AFTER_FUTURE.match(after):
        return False
    return bool(
        _ZH_AFTER_FUTURE.match(after)
        or _ZH_BEFORE_FUTURE.search(before)
        or _ZH_ACTIVITY.search(clause)
    )


def zh_durations(clause: Clause, now: float, promise: bool = False) -> list[Found]:
    """Forward-looking Chinese durations in the clause (``promise``: the bot's committing
    sentence, whose own future tense stands for the forward sign)."""
    found: list[Found] = []
    if _ZH_UNIT_HINT.search(clause.text) is None:
        return found  # the unit is the cheap thing to look for first
    for match in ZH_DURATION.finditer(clause.text):
        seconds = _zh_seconds(match)
        if seconds and _zh_looks_forward(clause.text, match.start(), match.end(), promise):
            at = now + seconds
            found.append(Found("zh.duration", match.group().strip(), at, at))
    return found


def _en_seconds(match: re.Match[str]) -> float | None:
    unit = match["unit"].lower()
    number = 0.5 if match["half"] else en_number(match["num"])
    if number is None:
        return None
    if not match["half"]:
        if "-" in match["sep"] or (len(unit) == 1 and match["sep"]):
            return None  # "a 10-minute walk"; "5 m" is metres
        if not match["num"][0].isdigit() and len(unit) == 1:
            return None
    if match["andhalf"] or match["tail"]:
        number += 0.5
    return number * EN_UNIT_SECONDS[unit[0]]


def _en_looks_forward(match: re.Match[str], clause: str, promise: bool) -> bool:
    before, after = clause[: match.start()], clause[match.end() :]
    if _EN_AFTER_NOT.match(after) or _EN_BEFORE_NOT.search(before):
        return False
    if not promise and en_told_as_past(clause):
        return False
    if match["more"] or _EN_BEFORE_FUTURE.search(before) or _EN_AFTER_FUTURE.match(after):
        return True
    return bool(_EN_BEFORE_FOR.search(before) and _EN_FUTURE_VERB.search(before))


def en_durations(clause: Clause, now: float, promise: bool = False) -> list[Found]:
    """Forward-looking English durations in the clause (``promise`` as for Chinese)."""
    found: list[Found] = []
    if _EN_UNIT_HINT.search(clause.text) is None:
        return found
    for match in EN_DURATION.finditer(clause.text):
        seconds = _en_seconds(match)
        if seconds and _en_looks_forward(match, clause.text, promise):
            at = now + seconds
            found.append(Found("en.duration", match.group().strip(), at, at))
    return found
