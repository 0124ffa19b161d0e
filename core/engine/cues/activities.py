"""Activities with a usual end: "去睡了/晚安" -> the morning, "开会/上课/考试/上班" ->
later, "brb/在忙/一会儿回来" -> soon. A weaker reading than a stated time: ``parse.py``
uses one only when the message states no duration and no clock time.

Each rule is a pattern, the words that undo it (negation, "done", a question about the
bot) and how long the activity usually lasts. Times are estimates; the journal names the
rule so the owner can see why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from .context import Clause, has_cjk, has_latin, past_words
from .dayparts import local_instant
from .model import Found

MINUTE = 60.0
WAKE_HOUR = 8.5  # "晚安" -> about 08:30, or 7 hours of sleep if that is later
MIN_SLEEP_S = 7 * 3600.0
NAP_HOURS = range(9, 18)  # "睡了" in the daytime is a nap
WORK_END_HOUR = 18.0


class Activity(NamedTuple):
    name: str
    pattern: re.Pattern[str]
    undo: re.Pattern[str] | None
    end: Callable[[datetime], tuple[float, float]]  # local now -> (not_before, at)


def _after(minutes: float) -> Callable[[datetime], tuple[float, float]]:
    def end(now: datetime) -> tuple[float, float]:
        at = now.timestamp() + minutes * MINUTE
        return at, at

    return end


def _sleep(now: datetime) -> tuple[float, float]:
    """The next 08:30, or 7 hours from now if that is later; daytime sleep is a nap."""
    stamp = now.timestamp()
    if now.hour in NAP_HOURS:
        return stamp + 90 * MINUTE, stamp + 120 * MINUTE
    wake = local_instant(now.date(), WAKE_HOUR, now.tzinfo)
    if wake <= stamp:
        wake = local_instant(now.date() + timedelta(days=1), WAKE_HOUR, now.tzinfo)
    at = max(wake, stamp + MIN_SLEEP_S)
    return at - 90 * MINUTE, at


def _work(now: datetime) -> tuple[float, float]:
    """Until 18:00 on a working day's daytime; three hours otherwise."""
    stamp = now.timestamp()
    end = local_instant(now.date(), WORK_END_HOUR, now.tzinfo)
    if 5 <= now.hour < 16:
        return end - 30 * MINUTE, end
    return stamp + 180 * MINUTE, stamp + 180 * MINUTE


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


ZH = (
    Activity(
        "sleep",
        _re(r"去睡|睡觉|睡了|睡啦|睡咯|先睡|要睡|准备睡|洗洗睡|晚安|安安|睡去|去躺"),
        _re(
            r"睡不着|睡醒|醒了|睡了一|睡了[很好个]|睡得|睡过|没睡|不睡|别睡|睡够|睡饱|你.{0,3}睡|不想睡"
        ),
        _sleep,
    ),
    Activity("nap", _re(r"午睡|午觉|眯一会|小睡|打个盹"), _re(r"没|不|完"), _after(90)),
    Activity(
        "meeting",
        _re(r"开会|会议|有个会|开个会|开完会(?=再|就|后|找|回|聊)"),
        _re(r"开完了|开完会了|会完了|没会|不开|会议室|结束了|散会"),
        _after(60),
    ),
    Activity(
        "class",
        _re(r"上课|有课|去上课|下课后|下了课|上完课(?=再|就|后|找|回|聊)"),
        _re(r"下课了|没课|不上|上完了|上完课了"),
        _after(90),
    ),
    Activity(
        "exam",
        _re(r"考试|去考|在考|进考场|考完(?=再|就|后|找|回|聊)"),
        _re(r"考完了|考完试了|没考|不考|成绩|结果"),
        _after(120),
    ),
    Activity("after_work", _re(r"下班后|下班以后|下了班|下班再|下班就"), None, _work),
    Activity("work", _re(r"上班|加班|搬砖|上工"), _re(r"下班|没上班|不上班|不用|休息|辞"), _work),
    Activity(
        "busy", _re(r"在忙|先忙|去忙|忙着|有点忙|很忙|忙完"), _re(r"不忙|忙完了|没忙"), _after(60)
    ),
    Activity(
        "back",
        _re(r"等会儿?|等下|待会儿?|一会儿?[回见]|稍后|马上回|去去就回"),
        _re(r"等会儿?[了吗]"),
        _after(20),
    ),
    Activity("later", _re(r"晚点|晚些|回头聊|回头再"), None, _after(90)),
    Activity(
        "meal",
        _re(r"去吃饭|吃饭去|去吃|做饭|吃个饭|吃完饭(?=再|就|后|找|回|聊)"),
        _re(r"吃完了|吃过|吃了吗|吃好了"),
        _after(45),
    ),
    Activity(
        "shower",
        _re(r"洗澡|洗个澡|冲个凉|洗完澡(?=再|就|后|找|回|聊)"),
        _re(r"洗完了|洗好了|洗完澡了"),
        _after(30),
    ),
    Activity("out", _re(r"出门|出去一下|出去了|出去玩"), _re(r"回来了|不出"), _after(120)),
)
EN = (
    Activity(
        "sleep",
        _re(
            r"\b(?:going|off|heading|head|go|gonna|about)\s+(?:to\s+)?(?:bed|sleep)\b|"
            r"\btime\s+for\s+bed\b|\bbedtime\b|\bgood\s*night\b|\bgn\b|\bnighty?\s+night\b|"
            r"\bhit(?:ting)?\s+the\s+(?:sack|hay)\b|\bturning\s+in\b|\bget\s+some\s+sleep\b|"
            r"\bsleep\s+now\b|\bcrashing\b|^\s*night\s+(?:all|everyone|guys|y'all)\b|\bnite\b"
        ),
        _re(r"\b(?:can't|cannot|couldn't|not|never|you|didn't|won't)\b"),
        _sleep,
    ),
    Activity("nap", _re(r"\bnap\b|\bnapping\b"), _re(r"\b(?:no|not|didn't|after)\b"), _after(90)),
    Activity(
        "meeting",
        _re(r"\bmeeting\b|\bon\s+a\s+call\b|\b(?:hop|hopping|jump|jumping)\s+on\s+a\s+call\b"),
        _re(r"\b(?:no|not|out\s+of|done|over|ended|finished|cancel\w*)\b"),
        _after(60),
    ),
    Activity(
        "class",
        _re(r"\b(?:class|lecture|lesson)\b"),
        _re(r"\b(?:no|not|out\s+of|done|over|finished|skip\w*|cancel\w*)\b"),
        _after(90),
    ),
    Activity(
        "exam",
        _re(r"\b(?:exam|test|final|midterm)s?\b"),
        _re(r"\b(?:no|not|done|over|finished|passed|failed|results?|score)\b"),
        _after(120),
    ),
    Activity(
        "work",
        _re(r"\b(?:to|at|into|for)\s+work\b|\bmy\s+shift\b|\bclocking\s+in\b|\bafter\s+work\b"),
        _re(r"\b(?:no|not|off|done|home\s+from|don't|day\s+off)\b"),
        _work,
    ),
    Activity(
        "back",
        _re(
            r"\bbrb\b|\bbe\s+right\s+back\b|\bback\s+in\s+a\s+(?:bit|sec|min|moment)\b|"
            r"\bone\s+sec\b|\bgive\s+me\s+a\s+(?:sec|second|moment)\b|\bhold\s+on\b|\bbbl\b"
        ),
        None,
        _after(15),
    ),
    Activity(
        "busy",
        _re(r"\bbusy\b|\bgotta\s+go\b|\bgtg\b|\bg2g\b|\bttyl\b|\btalk\s+(?:to\s+you\s+)?later\b"),
        _re(r"\b(?:not|no|wasn't|anymore)\b"),
        _after(90),
    ),
    Activity(
        "meal",
        _re(
            r"\b(?:grab|grabbing|getting|having|eat|eating|make|making)\s+(?:some\s+)?(?:lunch|dinner|food|breakfast)\b"
        ),
        None,
        _after(45),
    ),
    Activity(
        "shower", _re(r"\b(?:shower|bath)\b"), _re(r"\b(?:just|had|took|after)\b"), _after(30)
    ),
)
_ANY = {
    lang: re.compile("|".join(f"(?:{activity.pattern.pattern})" for activity in table))
    for lang, table in (("zh", ZH), ("en", EN))
}
# Every word one of the English patterns needs (one of them must be in the clause).
EN_WORDS = frozenset(
    """bed bedtime sleep night goodnight gn nite nighty sack hay turning crashing nap napping
    meeting call class lecture lesson exam exams test tests final finals midterm midterms work
    shift clocking brb back sec second moment hold bbl busy gotta gtg g2g ttyl talk lunch
    dinner food breakfast shower bath""".split()
)
_WORD = re.compile(r"[a-z0-9']+")
_NEGATED = re.compile(r"(?:[不没别][想要用去再]?|\bnot|n't|\bno)\s*$")
_ZH_DAY_NAMED = re.compile(r"明天|明早|明晚|后天|下周|周[一二三四五六日末]|星期")
_EN_DAY_NAMED = re.compile(r"\b(?:tomorrow|tmrw|next\s+week|monday|tuesday|wednesday|"
                           r"thursday|friday|saturday|sunday|weekend)\b")  # fmt: skip


def _stated(clause: Clause) -> tuple[Activity, str, re.Match[str]] | None:
    """The first activity the clause names and does not undo: (activity, lang, match)."""
    text = clause.text
    tables: list[tuple[tuple[Activity, ...], str]] = [(ZH, "zh")] if has_cjk(text) else []
    if has_latin(text) and not EN_WORDS.isdisjoint(_WORD.findall(text)):
        tables.append((EN, "en"))  # a word-set test first: the English patterns are slow
    for table, lang in tables:
        if _ANY[lang].search(text) is None:
            continue  # one scan for the whole table before the rule-by-rule reading
        for activity in table:
            match = activity.pattern.search(text)
            if match is None or (activity.undo is not None and activity.undo.search(text)):
                continue
            if _NEGATED.search(text, max(0, match.start() - 6), match.start()):
                continue
            return activity, lang, match
    return None


def activity_cue(clause: Clause, now: datetime) -> Found | None:
    """The first activity the clause states, with its usual end, or None."""
    stated = _stated(clause)
    if stated is None or clause.question or past_words(clause.text):
        return None
    if (_ZH_DAY_NAMED if has_cjk(clause.text) else _EN_DAY_NAMED).search(clause.text):
        return None  # "明天要考试": a plan for another day, not an end to wait for
    activity, lang, match = stated
    not_before, at = activity.end(now)
    return Found(f"{lang}.activity.{activity.name}", match.group(), not_before, at, explicit=False)
