"""The bot's own promises: a sentence of its reply that commits to a time
("我十分钟后提醒你", "明天早上叫你起床", "I'll check on you in an hour", "I'll remind you
at 8"). An offer ("要我十分钟后提醒你吗？", "Want me to remind you at 8?"), a refusal
("I can't set reminders") or a time about the user ("你十分钟后出门吧") is no promise.

The time is read with the same duration and clock rules as a user's message, from the
committing sentence only; the rule name says ``promise`` (``zh.promise.duration``).
"""

from __future__ import annotations

import re
from datetime import datetime

from .clock import clock_cue
from .context import clauses, has_cjk
from .durations import en_durations, zh_durations
from .model import Found

_ZH_COMMIT = re.compile(
    r"(?:提醒|叫醒|叫|喊|找|问问|问|联系|催|戳|敲|call|关心|看看|陪|通知|告诉)你|"
    r"我.{0,10}(?:再来|回来|过来|来找|来看|来问|来叫|来提醒|来检查|来督促|来陪|准时|会来)|(?:再|继续|接着)聊|见哦|见啦|见！|见$"
)
_ZH_REFUSE = re.compile(r"不能|不会|没法|无法|没办法|做不到|不可以|办不到|不支持|没有办法|不了")
_ZH_OFFER = re.compile(
    r"要不要|需不需要|需要我|要我|想让我|如果你(?:需要|想|愿意)|[吗么][？?]?$|[？?]$"
)
_EN_COMMIT = re.compile(
    r"\b(?:i'll|i\s+will|i'm\s+going\s+to|i\s+am\s+going\s+to|i'm\s+gonna|i\s+shall|let\s+me|"
    r"will)\b[^.?!]{0,40}?\b(?:remind|check|ping|message|text|nudge|wake|call|get\s+back|"
    r"come\s+back|follow\s+up|ask|see\s+how|touch\s+base|reach\s+out|be\s+back|write|talk|"
    r"chat|look\s+in)|\btalk\s+(?:to\s+you\s+)?(?:tomorrow|tonight|later|soon|in|at)\b|"
    r"\bsee\s+you\s+(?:tomorrow|tonight|in|at)\b|\bcatch\s+you\s+(?:tomorrow|tonight|in|at)\b",
)
_EN_REFUSE = re.compile(
    r"\b(?:can't|cannot|can\s+not|won't|unable|not\s+able|don't|do\s+not|no\s+way|unfortunately)\b",
)
_EN_OFFER = re.compile(
    r"\b(?:want\s+me\s+to|should\s+i|shall\s+i|would\s+you\s+like|do\s+you\s+want|"
    r"if\s+you\s+(?:want|like|need|wish)|could\s+you|can\s+you|please)\b|\?\s*$",
)


def commits(sentence: str) -> bool:
    """True when the sentence is the bot committing itself (not offering, not refusing)."""
    if has_cjk(sentence):
        if _ZH_COMMIT.search(sentence) and not _ZH_REFUSE.search(sentence):
            return not _ZH_OFFER.search(sentence.strip())
    if _EN_COMMIT.search(sentence) and not _EN_REFUSE.search(sentence):
        return not _EN_OFFER.search(sentence.strip())
    return False


def _time_in(sentence: str, now: float, now_local: datetime) -> Found | None:
    for clause in clauses(sentence):
        durations = zh_durations(clause, now, True) + en_durations(clause, now, True)
        if durations:
            return durations[0]
    for clause in clauses(sentence):
        found = clock_cue(clause, now_local, promise=True)
        if found is not None:
            return found
    return None


def _vagueness(found: Found) -> int:
    """A stated time beats a day part, which beats a day named alone ("明天见！明天中午...")."""
    kind = found.rule.rsplit(".", 1)[-1]
    return {"day": 2, "daypart": 1}.get(kind, 0)


def promise_in(sentences: list[str], now: float, now_local: datetime) -> tuple[Found, str] | None:
    """The committing sentence with the most precise time in it (the first of equals),
    read as ``lang.promise.kind``, and that sentence."""
    best: tuple[Found, str] | None = None
    for sentence in sentences:
        if not commits(sentence):
            continue
        found = _time_in(sentence, now, now_local)
        if found is not None and (best is None or _vagueness(found) < _vagueness(best[0])):
            best = found, sentence
    if best is None:
        return None
    found, sentence = best
    lang, _, kind = found.rule.partition(".")
    return Found(f"{lang}.promise.{kind}", found.matched, found.at, found.at), sentence
