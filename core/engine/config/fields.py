"""The kinds of field in the engine's config table (table.py): each checks one
value with the shared checks (``core/config_checks.py``) and returns it normalized.

``Field.collect`` is where a refused value becomes a note: leniently (what AstrBot
hands the plugin) the note says what default is used and that is returned; strictly
(what the admin API accepts) the note is an error and ``MISSING`` is returned. List
fields drop a refused item on its own and keep the rest.
"""

from __future__ import annotations

import re
from typing import Any

from ...config_checks import (
    BadValue,
    Voice,
    check_bool,
    check_choice,
    check_int,
    check_text,
    finite_number,
    settle,
    settle_list,
)
from ...umo import FRIEND, MAX_UMO_LENGTH, parse_umo
from ..moment_calendar import MAX_MOMENTS, parse_moment
from ..quiet_hours import parse_quiet_hours

MAX_REGEX_CHARS = 500
MAX_PAUSE_SECONDS = 60.0
MISSING = object()  # strict: the value was refused, the key is left out

# "friend_settings.enable: 'maybe' is not true or false; using True"
LENIENT = Voice()
# "enable: 'maybe' is not true or false"
STRICT = Voice(strict=True)


class Field:
    default: Any

    def check(self, value: Any, strict: bool) -> Any:
        raise NotImplementedError  # list fields override collect() instead

    def collect(self, value: Any, path: str, notes: list[str], strict: bool) -> Any:
        """The checked value; on a bad one, a note, then the default (lenient) or MISSING."""
        voice = STRICT if strict else LENIENT
        used, problem = settle(voice, path, value, lambda v: self.check(v, strict), self.default)
        if problem is None:
            return used
        notes.append(problem)
        return MISSING if strict else used


class BoolField(Field):
    def __init__(self, default: bool) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> bool:
        return check_bool(value, lenient=not strict)


class IntField(Field):
    def __init__(self, default: int, low: int, high: int) -> None:
        self.default, self.low, self.high = default, low, high

    def check(self, value: Any, strict: bool) -> int:
        return check_int(value, self.low, self.high, lenient=not strict)


class TextField(Field):
    def __init__(self, default: str, max_chars: int, allow_empty: bool, strip: bool) -> None:
        self.default, self.max_chars = default, max_chars
        self.allow_empty, self.strip = allow_empty, strip

    def check(self, value: Any, strict: bool) -> str:
        return check_text(
            value, max_chars=self.max_chars, allow_empty=self.allow_empty, strip=self.strip
        )


class ChoiceField(Field):
    def __init__(self, default: str, options: tuple[str, ...]) -> None:
        self.default, self.options = default, options

    def check(self, value: Any, strict: bool) -> str:
        return check_choice(value, self.options)


class QuietHoursField(Field):
    def __init__(self, default: str) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> str:
        if not isinstance(value, str):
            raise BadValue("is not text like 23:00-07:00")
        try:
            parse_quiet_hours(value)
        except ValueError as err:
            raise BadValue(f"is not valid quiet hours ({err})") from None
        return value.strip()


class RegexField(Field):
    def __init__(self, default: str) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> str:
        if not isinstance(value, str) or not value:
            raise BadValue("is not a regular expression")
        if len(value) > MAX_REGEX_CHARS:
            raise BadValue(f"is longer than {MAX_REGEX_CHARS} characters")
        try:
            re.compile(value)
        except (re.error, RecursionError, OverflowError, ValueError) as err:
            raise BadValue(f"is not a valid regular expression ({err})") from None
        return value


class IntervalField(Field):
    """``"1.5, 3.5"``: the pause between segments, min and max seconds (0-60)."""

    def __init__(self, default: str) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> str:
        low, high = interval_bounds(value)
        return f"{number_text(low)}, {number_text(high)}"


def interval_bounds(value: Any) -> tuple[float, float]:
    """``"1.5, 3.5"`` -> ``(1.5, 3.5)``, as written (min may exceed max); raise BadValue."""
    if not isinstance(value, str):
        raise BadValue("is not text like '1.5, 3.5'")
    parts = [part for part in re.split(r"[\s,，]+", value.strip()) if part]
    numbers = [finite_number(part) for part in parts]
    if not 1 <= len(numbers) <= 2 or any(n is None for n in numbers):
        raise BadValue("is not two numbers of seconds like '1.5, 3.5'")
    rounded = [round(n, 3) for n in numbers if n is not None]
    if any(not 0 <= n <= MAX_PAUSE_SECONDS for n in rounded):
        raise BadValue(f"is outside 0-{MAX_PAUSE_SECONDS:g} seconds")
    return rounded[0], rounded[-1]


def number_text(value: float) -> str:
    """``1.5`` / ``3``: how a seconds or log-base value is written back into the config."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


class LogBaseField(Field):
    def __init__(self, default: str) -> None:
        self.default = default

    def check(self, value: Any, strict: bool) -> str:
        number = finite_number(value) if isinstance(value, (str, int, float)) else None
        if number is None or not 1 < round(number, 6) <= 100:
            raise BadValue("is not a number above 1 (at most 100)")
        return number_text(round(number, 6))


class _ListField(Field):
    """A list checked item by item: a refused item is dropped with its own note."""

    split: str | None = None  # lenient only: a hand-written "a, b, c" is split on it

    def item(self, item: Any) -> Any:
        raise NotImplementedError

    def collect(self, value: Any, path: str, notes: list[str], strict: bool) -> Any:
        voice = STRICT if strict else LENIENT
        split = None if strict else self.split
        kept, found = settle_list(voice, path, value, self.item, self.default, split=split)
        notes.extend(found)
        if kept is None:
            return MISSING if strict else list(self.default)
        return kept


class WordsField(_ListField):
    """``split_words``: a list of non-empty strings, kept exactly (``\\n`` is a word)."""

    def __init__(self, default: list[str]) -> None:
        self.default = default

    def item(self, item: Any) -> str:
        if not isinstance(item, str):
            raise BadValue("is not text")
        if not item or len(item) > 20:
            raise BadValue("is not 1-20 characters")
        return item


class NamesField(_ListField):
    """A list of provider or tool names (ids), kept in order, each once."""

    split = r"[,，;\n]"

    def __init__(self) -> None:
        self.default: list[str] = []

    def item(self, item: Any) -> str:
        if not isinstance(item, str):
            raise BadValue("is not text")
        name = item.strip()
        if not name or len(name) > 256 or any(ord(ch) < 32 for ch in name):
            raise BadValue("is not a name of 1-256 characters")
        return name

    def collect(self, value: Any, path: str, notes: list[str], strict: bool) -> Any:
        kept = super().collect(value, path, notes, strict)
        return kept if kept is MISSING else list(dict.fromkeys(kept))


class SessionListField(_ListField):
    """``session_list``: full UMOs of this kind, or bare ids (the 1.x style)."""

    split = r"[,，;\n]"

    def __init__(self, kind: str) -> None:
        self.default: list[str] = []
        self.kind = kind

    def item(self, item: Any) -> str:
        entry = check_text(item, strip=True, allow_empty=False)
        if ":" not in entry:
            if len(entry) > MAX_UMO_LENGTH or any(ord(ch) < 32 for ch in entry):
                raise BadValue("is not a session id")
            return entry
        try:
            umo = parse_umo(entry)
        except ValueError:
            raise BadValue(f"is not a session id like {self._example()}") from None
        if umo.kind != self.kind:
            raise BadValue(f"is a {umo.kind} chat, not a {self.kind} chat")
        return entry

    def _example(self) -> str:
        kind = "FriendMessage" if self.kind == FRIEND else "GroupMessage"
        return f"aiocqhttp:{kind}:12345"


class MomentsField(_ListField):
    """``moment_settings.moments``: entries ``HH:MM | days | prompt`` (moment_calendar.py),
    written back canonical and sorted by time. A bad entry, a second one at the same time
    and any past ``MAX_MOMENTS`` are dropped with a note each; the good ones are kept."""

    def __init__(self, default: list[str]) -> None:
        self.default = default

    def item(self, item: Any) -> str:
        try:
            return str(parse_moment(item))
        except ValueError as err:
            raise BadValue(str(err)) from None

    def collect(self, value: Any, path: str, notes: list[str], strict: bool) -> Any:
        voice = STRICT if strict else LENIENT
        if not isinstance(value, list):
            notes.append(voice.rejected(path, value, "is not a list", self.default))
            return MISSING if strict else list(self.default)
        by_time: dict[str, str] = {}
        for index, entry in enumerate(value):
            try:
                moment = self.item(entry)
            except BadValue as bad:
                notes.append(voice.ignored(path, index, entry, bad.why))
                continue
            key = moment.split(" ", 1)[0]
            if key in by_time:
                why = f"is a second moment at {key}"
            elif len(by_time) >= MAX_MOMENTS:
                why = f"is more than {MAX_MOMENTS} moments"
            else:
                by_time[key] = moment
                continue
            notes.append(voice.ignored(path, index, entry, why))
        return [by_time[key] for key in sorted(by_time)]
