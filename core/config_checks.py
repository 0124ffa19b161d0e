"""Checks of one config value each, shared by every config reader: the engine's groups
(``core/engine/config*.py``) and the panel's ``web_admin`` (``web/settings.py``).

A check takes one raw value and returns it normalized, or raises ``BadValue`` whose
text completes "<key>: <value> ..." ("is not a whole number"); it raises nothing else,
whatever the value (a 5,000-digit string, NaN, a nested list). ``settle()`` runs a check
and returns the value to use plus, for a refused value, one problem line naming the
key, the bad value (shortened; hidden for a secret) and what was used instead. A
``Voice`` holds how a config group words those lines, so each group keeps its own.
"""

from __future__ import annotations

import copy
import functools
import math
import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_NO_NEAREST = object()


class BadValue(Exception):
    """A value a check refuses. ``why`` says why ("is outside 1-100"); ``nearest`` is
    the closest value the check would take (a range's bound), when there is one."""

    def __init__(self, why: str, nearest: Any = _NO_NEAREST) -> None:
        super().__init__(why)
        self.why = why
        self.nearest = nearest


# --- showing values in a problem line ----------------------------------------------------

_REPR = reprlib.Repr(maxstring=60, maxother=60, maxlist=4, maxdict=4, maxlevel=2)


def short_repr(value: Any) -> str:
    """``repr`` of a rejected value, short and safe for anything a config may hold."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**60:
        return "<a number with more than 60 digits>"
    try:
        text = _REPR.repr(value)
    except Exception:  # a hostile __repr__: the line must still be written
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def repr_or_the_default(value: Any) -> str:
    """A default as written in a problem line: its repr, or "the default" if long."""
    text = repr(value)
    return text if len(text) <= 60 else "the default"


@dataclass(frozen=True)
class Voice:
    """How a config group words a refused value (``{key}``, ``{value}``, ``{why}``
    and, for a list's item, ``{index}``). Strict: the value is an error, so the line
    does not say what was used instead."""

    value_line: str = "{key}: {value} {why}"
    item_line: str = "{key}[{index}]: {value} {why}"
    show: Callable[[Any], str] = short_repr
    show_used: Callable[[Any], str] = repr_or_the_default
    strict: bool = False

    def rejected(self, key: str, value: Any, why: str, used: Any, *, secret: bool = False) -> str:
        shown = "<hidden>" if secret else self.show(value)
        line = self.value_line.format(key=key, value=shown, why=why)
        return line if self.strict else f"{line}; using {self.show_used(used)}"

    def ignored(self, key: str, index: int, item: Any, why: str) -> str:
        line = self.item_line.format(key=key, index=index, value=self.show(item), why=why)
        return line if self.strict else f"{line}; ignored"


def settle(
    voice: Voice,
    key: str,
    value: Any,
    check: Callable[[Any], Any],
    default: Any,
    *,
    why: str | None = None,
    nearest: bool = False,
    secret: bool = False,
) -> tuple[Any, str | None]:
    """(the checked value, None), or (what is used instead, the problem line).

    Instead of a refused value: the check's nearest value when ``nearest`` and it has
    one (a size out of its range), else a copy of ``default``. ``why`` replaces the
    check's own reason (one wording for every way a port can be wrong).
    """
    try:
        return check(value), None
    except BadValue as bad:
        if nearest and bad.nearest is not _NO_NEAREST:
            used = bad.nearest
        else:
            used = copy.deepcopy(default)
        return used, voice.rejected(key, value, why or bad.why, used, secret=secret)


# --- numbers -------------------------------------------------------------------------------


@functools.cache
def _int_text(max_digits: int, point_zeros: bool) -> re.Pattern[str]:
    return re.compile(rf"([+-]?[0-9]{{1,{max_digits}}})" + (r"(?:\.0*)?" if point_zeros else ""))


def whole_number(
    value: Any, *, from_text: bool = True, max_digits: int = 12, point_zeros: bool = True
) -> int | None:
    """An int, a float with no fraction, or (``from_text``) text of at most
    ``max_digits`` digits, with ``.0`` if ``point_zeros``; else None. Never True/False."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and from_text:
        match = _int_text(max_digits, point_zeros).fullmatch(value.strip())
        return int(match.group(1)) if match else None
    return None


_FLOAT_TEXT_RE = re.compile(r"[+-]?(?:[0-9]{1,12}(?:\.[0-9]{0,12})?|\.[0-9]{1,12})")


def finite_number(value: Any) -> float | None:
    """A finite float from a number or plain decimal text (no exponent); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and abs(value) < 10**12:
        return float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and _FLOAT_TEXT_RE.fullmatch(value.strip()):
        return float(value.strip())
    return None


# --- checks ----------------------------------------------------------------------------------

_BOOL_WORDS = {
    **dict.fromkeys(("true", "yes", "on", "1"), True),
    **dict.fromkeys(("false", "no", "off", "0"), False),
}


def check_bool(value: Any, *, lenient: bool = True) -> bool:
    """True or False; lenient also takes 0/1 and true/yes/on/1, false/no/off/0 as text."""
    if isinstance(value, bool):
        return value
    if lenient and isinstance(value, int) and value in (0, 1):
        return bool(value)
    if lenient and isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.strip().lower()]
    raise BadValue("is not true or false")


def check_int(
    value: Any,
    low: int,
    high: int,
    *,
    lenient: bool = True,
    max_digits: int = 12,
    point_zeros: bool = True,
) -> int:
    """A whole number in [low, high] (see ``whole_number``; text only when lenient)."""
    number = whole_number(value, from_text=lenient, max_digits=max_digits, point_zeros=point_zeros)
    if number is None:
        raise BadValue("is not a whole number")
    if not low <= number <= high:
        raise BadValue(f"is outside {low}-{high}", nearest=min(max(number, low), high))
    return number


def check_choice(value: Any, options: tuple[str, ...]) -> str:
    """One of ``options``, any case, surrounding spaces ignored; returned lowercased."""
    if isinstance(value, str) and value.strip().lower() in options:
        return value.strip().lower()
    raise BadValue(f"is not one of {', '.join(options)}")


def check_text(
    value: Any, *, max_chars: int | None = None, allow_empty: bool = True, strip: bool = False
) -> str:
    """Text (stripped if ``strip``), not blank unless ``allow_empty``, not too long."""
    if not isinstance(value, str):
        raise BadValue("is not text")
    if strip:
        value = value.strip()
    if not allow_empty and not value.strip():
        raise BadValue("is empty")
    if max_chars is not None and len(value) > max_chars:
        raise BadValue(f"is longer than {max_chars} characters")
    return value


def check_list(
    value: Any, check_item: Callable[[Any], Any], *, split: str | None = None
) -> tuple[list, list[tuple[int, Any, str]]]:
    """A list checked item by item: (the good items, first of each, in order; and
    (index, item, why) of each refused one). Text is split on the ``split`` pattern
    first when given (a hand-written "a, b, c"); anything else raises ``BadValue``."""
    if isinstance(value, str) and split is not None:
        value = [part for part in re.split(split, value) if part.strip()]
    if not isinstance(value, list):
        raise BadValue("is not a list")
    kept: list = []
    refused: list[tuple[int, Any, str]] = []
    for index, item in enumerate(value):
        try:
            kept.append(check_item(item))
        except BadValue as bad:
            refused.append((index, item, bad.why))
    return list(dict.fromkeys(kept)), refused


def settle_list(
    voice: Voice,
    key: str,
    value: Any,
    check_item: Callable[[Any], Any],
    default: list,
    *,
    split: str | None = None,
    why_not_list: str | None = None,
) -> tuple[list | None, list[str]]:
    """(the good items, a line per refused item); or, when ``value`` is no list at all,
    (None, one line saying ``default`` is used), and the caller uses it (or, strict,
    nothing)."""
    try:
        kept, refused = check_list(value, check_item, split=split)
    except BadValue as bad:
        return None, [voice.rejected(key, value, why_not_list or bad.why, default)]
    return kept, [voice.ignored(key, index, item, why) for index, item, why in refused]
