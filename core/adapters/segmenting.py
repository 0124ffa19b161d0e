"""Splitting a reply into short messages, and the natural pause between them."""

from __future__ import annotations

import math
import random
import re
from functools import lru_cache

from ..engine.models import SegmentSettings

MAX_SEGMENTS = 20
MAX_PAUSE_SECONDS = 10.0


@lru_cache(maxsize=32)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def split_reply(text: str, seg: SegmentSettings) -> list[str]:
    """The pieces to send; ``[text]`` when splitting is off, the text is longer than the
    threshold, or splitting finds nothing. Never more than ``MAX_SEGMENTS`` pieces (the
    rest is joined into the last one)."""
    text = text.strip()
    if not seg.enable or not text or len(text) > seg.words_count_threshold:
        return [text] if text else []
    if seg.split_mode == "words":
        parts = _split_on_words(text, seg.split_words)
    else:
        pattern = _compiled(seg.regex)
        parts = pattern.findall(text) if pattern is not None else [text]
        parts = [p if isinstance(p, str) else "".join(p) for p in parts]
    parts = [p.strip() for p in parts if p and p.strip()]
    if not parts:
        return [text]
    if len(parts) > MAX_SEGMENTS:
        parts = [*parts[: MAX_SEGMENTS - 1], "".join(parts[MAX_SEGMENTS - 1 :])]
    return parts


def _split_on_words(text: str, words: tuple[str, ...]) -> list[str]:
    words = tuple(w for w in words if w)
    if not words:
        return [text]
    parts: list[str] = []
    start = i = 0
    while i < len(text):
        for word in words:
            if text.startswith(word, i):
                i += len(word)
                # keep a run of the same punctuation together ("！！", "……")
                while any(text.startswith(w, i) for w in words):
                    i += len(next(w for w in words if text.startswith(w, i)))
                parts.append(text[start:i])
                start = i
                break
        else:
            i += 1
    if start < len(text):
        parts.append(text[start:])
    return parts


def pause_before_next(segment: str, seg: SegmentSettings, rng: random.Random) -> float:
    """Seconds to wait after sending ``segment``: random in the interval, or
    ``log_base(len)`` for the "log" method; at most ``MAX_PAUSE_SECONDS``."""
    if seg.interval_method == "log":
        length = max(2, len(segment))
        base = seg.log_base if seg.log_base > 1 else 1.8
        pause = math.log(length, base)
    else:
        pause = rng.uniform(seg.interval_min, max(seg.interval_min, seg.interval_max))
    return max(0.0, min(MAX_PAUSE_SECONDS, pause))
