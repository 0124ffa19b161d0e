"""What the analysis model is asked, and how its answer is read: strict JSON, checked,
never trusted blindly.

The model answers ``{"cue": "<the user's exact words>", "minutes": <from now>}`` or
``{"cue": null}``. ``read_answer`` turns that into a ``Cue`` only when every check
passes: one JSON object (a Markdown code fence around it is tolerated), the quoted words
really are in the user's message, a whole number of minutes in the future, and no
further than the horizon (the kind's max interval). Anything else is a ``Rejected``
with a stable ``problem`` code and a sentence for the log. Pure: no I/O, no clock.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from ..cues import Cue

MAX_ANSWER_CHARS = 2000  # longer is not the small JSON object we asked for
MAX_CUE_CHARS = 200

SYSTEM_PROMPT = (
    "You read the end of a chat and decide whether the user's LAST message says when "
    "they will be available to talk again (for example 'after my exam', 'once I land', "
    "'当我下班以后', 'see you after dinner'). The current local time is {now}.\n"
    "Answer with ONE JSON object and nothing else:\n"
    '{{"cue": "<the exact words of the last message that say it>", '
    '"minutes": <whole minutes from now until then>}}\n'
    'or {{"cue": null}} when the last message names no such time. Never guess: if unsure, '
    'answer {{"cue": null}}.'
)


@dataclass(frozen=True, slots=True)
class Rejected:
    """An answer that was not used: ``problem`` is a stable code (``garbage``,
    ``not_quoted``, ``past``, ``beyond_horizon``), ``reason`` says why in a sentence."""

    problem: str
    reason: str


def system_prompt(now_text: str) -> str:
    return SYSTEM_PROMPT.format(now=now_text)


def read_answer(
    raw: str, message: str, now: float, horizon_seconds: float, rule: str
) -> Cue | Rejected | None:
    """The model's ``raw`` answer about ``message`` at ``now``: a checked ``Cue``, a
    ``Rejected``, or None when the model found no cue."""
    data = _json_object(raw)
    if data is None:
        return Rejected("garbage", f"not one JSON object: {raw[:80]!r}")
    quoted = data.get("cue")
    if quoted is None:
        return None
    minutes = data.get("minutes")
    if not isinstance(quoted, str) or not quoted.strip() or len(quoted) > MAX_CUE_CHARS:
        return Rejected("garbage", "'cue' is not a short text")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float):
        return Rejected("garbage", "'minutes' is not a number")
    if not math.isfinite(minutes):
        return Rejected("garbage", "'minutes' is not a finite number")
    quoted = quoted.strip()
    if quoted not in message:
        return Rejected("not_quoted", f"the words {quoted!r} are not in the user's message")
    if minutes <= 0:
        return Rejected("past", f"{minutes} minutes from now is not in the future")
    target = now + float(minutes) * 60.0
    if target > now + horizon_seconds:
        return Rejected(
            "beyond_horizon",
            f"{minutes} minutes is beyond the horizon of {horizon_seconds / 60:.0f} minutes",
        )
    return Cue(target, target, rule, quoted)


def _json_object(raw: object) -> dict | None:
    if not isinstance(raw, str) or len(raw) > MAX_ANSWER_CHARS:
        return None
    text = raw.strip()
    if text.startswith("```"):  # a fenced block: the one thing tolerated around it
        text = text.strip("`").strip()
        if text.lower().startswith("json"):
            text = text[4:].strip()
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
