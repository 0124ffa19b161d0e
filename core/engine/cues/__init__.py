"""Time cues read from a conversation: when a user says when they are free, and when the
bot's own reply promised to come back. Pure and deterministic: the standard library
only, no I/O, no logging. The public API is ``parse_user_cue``, ``parse_bot_promise``
and ``Cue``; docs/cues.md lists the rules.
"""

from __future__ import annotations

from .model import Cue
from .parse import DEFAULT_HORIZON_S, parse_bot_promise, parse_user_cue

__all__ = ["DEFAULT_HORIZON_S", "Cue", "parse_bot_promise", "parse_user_cue"]
