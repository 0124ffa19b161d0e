"""The public API: ``parse_user_cue`` and ``parse_bot_promise``.

Guarantees: deterministic (the answer depends on the text, ``now`` and the zone only),
never raises on any text, and a returned ``Cue`` always has
``now <= not_before <= target <= now + horizon`` and ``now < target`` (``not_before`` is
``now`` when the stated window has already begun). A message with no trigger word is
answered after one regex scan and one set test (``screened``: about a microsecond or
two); only the first ``MAX_CHARS`` characters are read, so the cost is bounded for any
message. The rules read the text with ASCII letters lowered (same length, so ``matched``
and ``sentence`` are cut from the text as written).

Choice between readings: a stated duration or time beats an activity's usual end; of
several stated ones in a user's message, the latest wins (no message before the person
said they are free); a bot's promise is the committing sentence with the most precise
time (a stated time before a day part before a day; the first of equals).
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from .activities import EN_WORDS as EN_ACTIVITY_WORDS
from .activities import activity_cue
from .clock import clock_cue, named_day
from .context import clauses, sentences
from .durations import en_durations, zh_durations
from .model import Cue, Found
from .promises import promise_in

DEFAULT_HORIZON_S = 7 * 86400.0
USER_SLACK_S = 5 * 60.0  # a user's "in 20 minutes": speak a few minutes after, not on the dot
MAX_CHARS = 600

# Every rule needs one of these: a digit, a unit, a day or day part, an activity word.
# Chinese and digits: one regex of literal alternatives (the engine skips ahead on their
# first characters); English: the message's words against a set. Kept in step with the
# rules by the corpus test (a trigger missing here is a case the parser never sees).
_SCREEN_WORDS_ZH = (
    "分钟 小时 钟头 刻钟 早上 早晨 清晨 一早 上午 中午 下午 傍晚 晚上 今晚 今早 明天 明儿 明早 明晚 后天 "
    "夜里 半夜 深夜 凌晨 饭 睡 晚安 安安 上班 加班 下班 下了班 搬砖 上工 开会 完会 会议 有个会 开个会 上课 下课 "
    "下了课 有课 考 "
    "忙 等会 等下 待会 一会 稍后 马上回 去去就回 晚点 晚些 回头 去吃 澡 冲个凉 出门 出去 "
    "盹 眯 躺 午觉 ："
).split()
# Every alternative starts with a literal character, so the regex engine skips ahead on a
# set of first characters instead of trying each alternative at each position.
SCREEN = re.compile(
    "|".join(
        [*"0123456789０１２３４５６７８９", *_SCREEN_WORDS_ZH]
        + [f"{digit}个?[点天]" for digit in "一二两三四五六七八九十半几"]
    )
)
SCREEN_WORDS = EN_ACTIVITY_WORDS | frozenset(
    """hour hours hr hrs min mins minute minutes day days half tonight tomorrow tmrw tmr
    tomorow morning afternoon evening night noon midnight lunch lunchtime dinner o'clock
    oclock one two three four five six seven eight nine ten eleven twelve""".split()
)
_WORD = re.compile(r"[a-z']+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def screened(text: str) -> bool:
    """True when the (ASCII-lowered) text holds a trigger any rule needs; False answers
    the common message at the cost of a regex scan and a set test."""
    if SCREEN.search(text) is not None:
        return True
    return not SCREEN_WORDS.isdisjoint(_WORD.findall(text))


def _lowered(text: str) -> str:
    """``text`` with its letters lowered, the same length (so spans carry over)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _original(text: str, lowered: str, part: str) -> str:
    """``part`` (read from the lowered text) as it is written in ``text``."""
    at = lowered.find(part)
    return text[at : at + len(part)] if at >= 0 else part


def _checked(found: Found | None, now: float, horizon: float, slack: float) -> Found | None:
    if found is None:
        return None
    target = found.at + slack
    not_before = min(max(found.not_before, now), target)
    if not now < target <= now + horizon:
        return None
    return Found(found.rule, found.matched, not_before, target, found.explicit)


def _user_reading(text: str, now: float, local: datetime) -> Found | None:
    explicit: list[Found] = []
    activity, day = None, None
    for clause in clauses(text):
        named = named_day(clause.text)
        day = named if named is not None else day
        if clause.question:
            continue
        explicit += zh_durations(clause, now) + en_durations(clause, now)
        found = clock_cue(clause, local, day_hint=day)
        if found is not None:
            explicit.append(found)
        elif activity is None:
            activity = activity_cue(clause, local)
    if explicit:
        return max(explicit, key=lambda found: found.at)
    return activity


def parse_user_cue(
    text: str, now: float, tz: tzinfo | None, horizon: float = DEFAULT_HORIZON_S
) -> Cue | None:
    """The time cue in a user's message, or None (no cue, past, beyond ``horizon`` s).

    ``now``: epoch seconds; ``tz``: the zone the user's words are read in (None: the
    server's zone, as for quiet hours).
    """
    text = text[:MAX_CHARS]
    lowered = _lowered(text)
    if not screened(lowered):
        return None
    try:
        local = datetime.fromtimestamp(now, tz)
        found = _checked(_user_reading(lowered, now, local), now, horizon, USER_SLACK_S)
    except (ValueError, OverflowError, OSError):
        return None  # a time past the calendar's end ("9999年"): no plan, not a crash
    if found is None:
        return None
    return Cue(found.not_before, found.at, found.rule, _original(text, lowered, found.matched))


def parse_bot_promise(
    text: str, now: float, tz: tzinfo | None, horizon: float = DEFAULT_HORIZON_S
) -> Cue | None:
    """The time the bot's reply commits it to, or None (no promise, past, beyond ``horizon``)."""
    text = text[:MAX_CHARS]
    lowered = _lowered(text)
    if not screened(lowered):
        return None
    try:
        local = datetime.fromtimestamp(now, tz)
        promise = promise_in(sentences(lowered), now, local)
    except (ValueError, OverflowError, OSError):
        return None
    if promise is None:
        return None
    found = _checked(promise[0], now, horizon, 0.0)
    if found is None:
        return None
    sentence = _original(text, lowered, promise[1])
    return Cue(
        found.not_before, found.at, found.rule, _original(text, lowered, found.matched), sentence
    )
