"""The public API: ``parse_user_cue`` and ``parse_bot_promise``.

Guarantees: deterministic (the answer depends on the text, ``now`` and the zone only),
never raises on any text, and a returned ``Cue`` always has
``now < not_before <= target <= now + horizon``. A message with no trigger word is
answered after one precompiled regex search (about a microsecond); only the first
``MAX_CHARS`` characters are read, so the cost is bounded for any message.

Choice between readings: a stated duration or time beats an activity's usual end; of
several stated ones in a user's message, the latest wins (no message before the person
said they are free); a bot's promise is its first committing sentence with a time.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

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
SCREEN = re.compile(
    r"[0-9０-９]|分钟|小时|钟头|刻钟|[一二两三四五六七八九十半几]\s*[点天]|早上|早晨|上午|中午|下午|傍晚|"
    r"晚上|今晚|明|后天|夜里|半夜|凌晨|今早|睡|晚安|安安|上班|加班|搬砖|开会|会议|有个会|课|考|"
    r"忙|等会|等下|待会|一会|稍后|马上回|去去就回|晚点|晚些|回头|饭|澡|冲个凉|出门|出去|盹|躺|觉|"
    r"hour|min|\bhalf\b|\bhrs?\b|\bdays?\b|tonight|tomorrow|tmrw|\btmr\b|morning|afternoon|"
    r"evening|night|noon|lunch|dinner|\bbed|sleep|nap|\bgn\b|brb|\bbbl\b|meeting|call|class|"
    r"lecture|lesson|exam|test|final|midterm|work|shift|busy|\bgtg\b|\bg2g\b|ttyl|later|"
    r"\bback\b|\bsec\b|second|moment|hold on|o'?clock|\bsack\b|\bhay\b|turning in|crashing|"
    r"breakfast|food|shower|bath|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve)\b",
    re.IGNORECASE,
)


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
        day = named_day(clause.text) if named_day(clause.text) is not None else day
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
    text: str, now: float, tz: tzinfo, horizon: float = DEFAULT_HORIZON_S
) -> Cue | None:
    """The time cue in a user's message, or None (no cue, past, beyond ``horizon`` s)."""
    if not text or SCREEN.search(text, 0, MAX_CHARS) is None:
        return None
    try:
        local = datetime.fromtimestamp(now, tz)
        found = _checked(_user_reading(text[:MAX_CHARS], now, local), now, horizon, USER_SLACK_S)
    except (ValueError, OverflowError, OSError):
        return None  # a time past the calendar's end ("9999年"): no plan, not a crash
    if found is None:
        return None
    return Cue(found.not_before, found.at, found.rule, found.matched)


def parse_bot_promise(
    text: str, now: float, tz: tzinfo, horizon: float = DEFAULT_HORIZON_S
) -> Cue | None:
    """The time the bot's reply commits it to, or None (no promise, past, beyond ``horizon``)."""
    if not text or SCREEN.search(text, 0, MAX_CHARS) is None:
        return None
    try:
        local = datetime.fromtimestamp(now, tz)
        promise = promise_in(sentences(text[:MAX_CHARS]), now, local)
    except (ValueError, OverflowError, OSError):
        return None
    if promise is None:
        return None
    found = _checked(promise[0], now, horizon, 0.0)
    if found is None:
        return None
    return Cue(found.not_before, found.at, found.rule, found.matched, promise[1])
