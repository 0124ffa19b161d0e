"""A fixed-size ring of log lines with sequence numbers, read by many cursors.

Every client keeps its own cursor (the seq of the next line it wants), so a slow
client never holds up the writer or the others: when the writer laps it, its next
read skips ahead and reports how many lines it missed. The storage lives in the
process stash, so the sequence continues across a hot reload and a page can
resume with ``since=<seq>`` without gaps or duplicates.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from json import encoder as json_encoder
from typing import Any, NamedTuple

_json_string = json_encoder.encode_basestring  # C implementation, keeps non-ASCII as is

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50}
SCOPES = ("plugin", "all")


def level_number(name: str) -> int:
    return LEVELS.get(name.upper(), 20)


class LogLine(NamedTuple):
    seq: int
    time: float
    level: int
    text: str
    plugin: bool
    json: str  # the line already serialised once, shared by every client


def make_line(seq: int, time: float, level_name: str, text: str, plugin: bool) -> LogLine:
    level_name = level_name.upper()
    if level_name == "WARN":
        level_name = "WARNING"
    # Hand-built (about 5x faster than json.dumps of a dict): this runs for every line.
    payload = (
        f'{{"seq":{seq},"time":{time:.3f},"level":{_json_string(level_name)},'
        f'"text":{_json_string(text)},"plugin":{"true" if plugin else "false"}}}'
    )
    return LogLine(seq, time, level_number(level_name), text, plugin, payload)


@dataclass(frozen=True)
class LogFilter:
    min_level: int = 0
    plugin_only: bool = False
    query: str = ""

    def matches(self, line: LogLine) -> bool:
        if line.level < self.min_level:
            return False
        if self.plugin_only and not line.plugin:
            return False
        return not self.query or self.query in line.text.casefold()

    @classmethod
    def problem(cls, level: str | None, scope: str | None) -> str | None:
        """Why ``level`` or ``scope`` makes no sense (for a clear 400 or close reason),
        or None; empty values mean the defaults."""
        if level and level.upper() not in LEVELS:
            return f"level must be one of {', '.join(sorted(LEVELS))}"
        if scope and scope not in SCOPES:
            return f"scope must be one of {', '.join(SCOPES)}"
        return None

    @classmethod
    def from_params(cls, level: str | None, scope: str | None, query: str | None) -> LogFilter:
        min_level = level_number(level) if level and level.upper() in LEVELS else 0
        text = (query or "").strip().casefold()[:200]
        return cls(min_level=min_level, plugin_only=(scope == "plugin"), query=text)


class ReadResult(NamedTuple):
    lines: list[LogLine]
    missed: int
    cursor: int


class LogRing:
    """Seq numbers start at 1; a cursor is the seq of the next wanted line."""

    def __init__(self, capacity: int, storage: dict[str, Any] | None = None) -> None:
        self._store = storage if storage is not None else {}
        self._adopt(capacity)
        self._changed = asyncio.Event()

    def _adopt(self, capacity: int) -> None:
        store = self._store
        buf = store.get("buf")
        next_seq = store.get("next_seq")
        if not isinstance(buf, list) or not isinstance(next_seq, int) or next_seq < 1:
            store["buf"] = [None] * capacity
            store["next_seq"] = 1
            # Names this numbering: a page that kept seqs from another process sees a new id.
            store["stream_id"] = secrets.token_hex(4)
            return
        if len(buf) != capacity:
            old_cap = len(buf)
            first = max(1, next_seq - old_cap)
            keep = range(max(first, next_seq - capacity), next_seq)
            new_buf: list[LogLine | None] = [None] * capacity
            for seq in keep:
                new_buf[seq % capacity] = buf[seq % old_cap]
            store["buf"] = new_buf
            store["oldest_seq"] = keep.start
        # Lines made by a previous instance are instances of that instance's LogLine
        # class; re-making them as ours lets the old module go (one pass per reload).
        buf = store["buf"]
        for index, line in enumerate(buf):
            if line is not None and type(line) is not LogLine:
                buf[index] = LogLine._make(line)

    @property
    def stream_id(self) -> str:
        return self._store.setdefault("stream_id", secrets.token_hex(4))

    @property
    def capacity(self) -> int:
        return len(self._store["buf"])

    @property
    def next_seq(self) -> int:
        return self._store["next_seq"]

    @property
    def first_seq(self) -> int:
        return max(1, self.next_seq - self.capacity, self._store.get("oldest_seq", 1))

    def append(self, time: float, level: str, text: str, plugin: bool) -> None:
        store = self._store
        seq = store["next_seq"]
        buf = store["buf"]
        buf[seq % len(buf)] = make_line(seq, time, level, text, plugin)
        store["next_seq"] = seq + 1

    def notify(self) -> None:
        """Wake every waiting reader; called once per appended batch."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def read(self, cursor: int, limit: int = 1000) -> ReadResult:
        next_seq = self.next_seq
        if cursor > next_seq or cursor < 1:
            # A cursor from the future (a different process) starts afresh at the tail.
            cursor = next_seq if cursor > next_seq else self.first_seq
        first = self.first_seq
        missed = first - cursor if cursor < first else 0
        start = max(cursor, first)
        end = min(next_seq, start + limit)
        buf = self._store["buf"]
        cap = len(buf)
        lines = [buf[seq % cap] for seq in range(start, end)]
        return ReadResult(lines, missed, end)

    async def wait_beyond(self, cursor: int) -> None:
        """Return once a line with seq >= ``cursor`` exists."""
        while self.next_seq <= cursor:
            await self._changed.wait()
