"""The parser's answer: a ``Cue`` (when to speak, not before when, which rule, which words).

A ``Cue`` is plain data, frozen, and always consistent: ``parse.py`` checks
``now <= not_before <= target`` and ``now < target`` before it hands one out (a cue in the
past or beyond the horizon is never returned).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cue:
    """A time read from one message.

    ``not_before``: epoch seconds; no proactive message before it ("talk tomorrow" never
    gets one tonight). ``target``: epoch seconds; when to speak (the stated time, or a few
    minutes after it for a user's cue). ``rule``: a stable rule name (``zh.duration``,
    ``en.clock``, ``zh.activity.sleep``, ``en.promise.duration``...). ``matched``: the exact
    substring the rule read. ``sentence``: for a bot's promise, the sentence it came from.
    """

    not_before: float
    target: float
    rule: str
    matched: str
    sentence: str = ""


@dataclass(frozen=True, slots=True)
class Found:
    """One reading inside a clause, before the choice between readings and the checks.

    ``at``: the stated time (epoch s); ``not_before``: no message before it (equal to
    ``at`` for a stated time, the start of the day part for "tomorrow morning").
    ``explicit``: a stated duration or time (beats an activity's usual end).
    """

    rule: str
    matched: str
    not_before: float
    at: float
    explicit: bool = True
