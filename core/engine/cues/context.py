"""What surrounds a time: clauses, and the words that make one past, habitual or unsure.

A number is a plan only when the clause around it looks forward. These helpers read
the clause (the text between two punctuation marks) around a match: is it told in the
past ("等了10分钟", "I waited an hour", "昨天晚上"), a habit ("usually at 7"), negated,
or a question? Pure functions over strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLAUSE = re.compile(r"[^，,。！？!?；;\n、~～…]+(?:[，,。！？!?；;\n、~～…]+|$)")
_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])(?![。！？!?])|(?<=[a-z0-9)\]]\.)(?=\s)")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_QUESTION_END = re.compile(r"[?？]\s*$|[吗么][?？!！。，,\s]*$")
_EN_STOP = re.compile(r"(?<=[a-z0-9)\]])\.(?=\s|$)")

ZH_PAST = re.compile(r"昨|前天|刚才|刚刚|刚(?!好)|已经|早就|那时|当时|上次|上周|去年|曾经")
ZH_HABIT = re.compile(r"每天|每晚|每周|平时|一般|通常|总是|经常|往往|老是")
ZH_FUTURE = re.compile(
    r"要|会|再|等会|待会|明|今晚|后天|准备|打算|得|后|回头|马上|就要|将|一会|叫|提醒"
)
EN_PAST = re.compile(
    r"\b(?:ago|was|were|waited|slept|spent|took|had|did|yesterday|last\s+night|earlier|"
    r"already|been|used\s+to|got\s+up|woke|went|finished|lasted|came|arrived|ran|"
    r"have\s+been|'ve)\b|'ve\b",
)
EN_HABIT = re.compile(r"\b(?:usually|always|every|normally|often|typically)\b")


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of a message: its text, closing punctuation included (a question mark
    makes it a question)."""

    text: str

    @property
    def question(self) -> bool:
        return _QUESTION_END.search(self.text) is not None


def clauses(text: str) -> list[Clause]:
    """The message cut at punctuation (a full stop only when it ends an English word)."""
    text = _EN_STOP.sub("\n", text) if "." in text else text
    return [Clause(m.group()) for m in _CLAUSE.finditer(text) if m.group().strip()]


def sentences(text: str) -> list[str]:
    """The message cut into sentences (full stops, question and exclamation marks, lines)."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def has_latin(text: str) -> bool:
    return _LATIN.search(text) is not None


def told_as_past(clause: str) -> bool:
    """Past or habit in either language (a mixed clause is read both ways)."""
    return (has_cjk(clause) and zh_told_as_past(clause)) or (
        has_latin(clause) and en_told_as_past(clause)
    )


def past_words(clause: str) -> bool:
    """Words that put the clause in the past or make it a habit (no clause-final 了 rule:
    "我去睡了" is news of now)."""
    if ZH_PAST.search(clause) or ZH_HABIT.search(clause):
        return True
    return has_latin(clause) and en_told_as_past(clause)


def zh_told_as_past(clause: str) -> bool:
    """A clause about what already happened, or a habit: "我3点就起来了", "昨天晚上",
    "我平时八点起". A clause that ends in 了/的 with no word that looks forward counts."""
    if ZH_PAST.search(clause) or ZH_HABIT.search(clause):
        return True
    bare = clause.rstrip("，,。！？!?；;\n、~～… 啊呀吧呢啦哈嘛哦喔")
    return bare.endswith(("了", "的", "过")) and not ZH_FUTURE.search(bare)


def en_told_as_past(clause: str) -> bool:
    """A clause about what already happened, or a habit: "10 minutes ago", "I waited an
    hour", "I usually get up at 7"."""
    return bool(EN_PAST.search(clause) or EN_HABIT.search(clause))
