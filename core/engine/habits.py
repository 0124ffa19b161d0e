"""Habits learned per session: when the user writes, and which proactive messages they
answer and how soon. Pure data; the engine's use of it is in habit_learning.py.

A ``HabitProfile`` is 3 × 168 unsigned 16-bit counters, one per hour of the week (local
time in AstrBot's zone, Monday 00:00 first), and a 44-byte header: ``BLOB_BYTES`` (1,052)
bytes per session, in memory and in the store, whatever the session's traffic.

- ``active``: hours in which the user wrote (one count per clock hour, however many
  messages: a chatty hour weighs as much as a single line),
- ``sent``: proactive messages sent in that hour of the week,
- ``answered``: those of them the user answered (before the next one, within
  ``ANSWER_WINDOW``), plus a decayed mean of the answer delay.

Counts are fixed point (``UNIT`` per event, saturating) and halve every ``HALF_LIFE``.
The decay is applied lazily, at most once per ``DECAY_STEP`` per profile, when the
profile is next touched: a day's first message of a session pays it, so it is a few
big-integer operations over all 504 counters at once (``_scale_counts``), not a
Python loop over them.

The draw's weights (habit_draw.py) are cached on the profile in ``weights``; learning
does not invalidate them: they are re-weighed at most once a day (habit_learning.py).
"""

from __future__ import annotations

import struct
import sys
from array import array
from typing import Any

HOURS_OF_WEEK = 168
UNIT = 256  # one event; fixed point keeps a few weeks of decay from rounding to zero
MAX_COUNT = 0xFFFF
HALF_LIFE = 28 * 86_400.0  # four weeks: a new routine shows within a fortnight
DECAY_STEP = 86_400.0
ANSWER_WINDOW = 24 * 3600.0  # a reply later than this is not counted as an answer
EPOCH_HOUR_OF_WEEK = 72  # 1970-01-01 00:00 was a Thursday: Monday-first bucket 3 × 24

_MAGIC = b"PCH1"
# magic, started_at, decayed_at, sent_at, last active local hour, sent bucket (-1: none),
# mean answer delay (s), its decayed weight
_HEADER = struct.Struct("<4sdddiiff")
BLOB_BYTES = _HEADER.size + 3 * HOURS_OF_WEEK * 2
_SWAP = sys.byteorder != "little"  # the blob is little-endian on every machine

ACTIVE, SENT, ANSWERED = 0, HOURS_OF_WEEK, 2 * HOURS_OF_WEEK
_COUNTERS = 3 * HOURS_OF_WEEK
_ZEROS = array("H", bytes(_COUNTERS * 2))  # copied by slicing: a memcpy, not a parse
# Every other 16-bit counter of the profile read as one integer, each in a 32-bit slot:
# there a counter times a 16-bit factor cannot carry into its neighbour.
_ALTERNATE = sum(0xFFFF << (32 * slot) for slot in range(_COUNTERS // 2))


def _scale_counts(counts: array, factor: float) -> array:
    """``counts`` times ``factor`` (0 <= factor < 1), each rounded down (within one
    count of ``int(c * factor)``): the 504 counters as one big integer, the even and
    the odd ones multiplied in two steps of a few microseconds together."""
    multiplier = int(factor * 0x10000)
    whole = int.from_bytes(counts, sys.byteorder)
    even = ((whole & _ALTERNATE) * multiplier >> 16) & _ALTERNATE
    odd = (((whole >> 16) & _ALTERNATE) * multiplier >> 16) & _ALTERNATE
    scaled = array("H")
    scaled.frombytes((even | odd << 16).to_bytes(_COUNTERS * 2, sys.byteorder))
    return scaled


def hour_of_week(local_hour: int) -> int:
    """The bucket (Monday 00-01 = 0 ... Sunday 23-24 = 167) of a local hour index
    (whole hours since 1970-01-01 00:00 local time)."""
    return (local_hour + EPOCH_HOUR_OF_WEEK) % HOURS_OF_WEEK


class CorruptProfile(ValueError):
    """A stored profile that cannot be read (wrong size, magic or values)."""


class HabitProfile:
    """One session's learned habits (see the module doc). Mutated in place."""

    __slots__ = (
        "counts",
        "decayed_at",
        "delay_mean",
        "delay_weight",
        "last_hour",
        "sent_at",
        "sent_bucket",
        "started_at",
        "weights",
    )

    def __init__(self, started_at: float) -> None:
        self.counts = _ZEROS[:]
        self.started_at = started_at
        self.decayed_at = started_at
        self.sent_at = 0.0
        self.last_hour = -1
        self.sent_bucket = -1
        self.delay_mean = 0.0
        self.delay_weight = 0.0
        self.weights: Any = None  # the draw's HabitWeights (habit_draw.py); None: not made

    # -- learning ---------------------------------------------------------------------
    def note_active(self, local_hour: int, at: float) -> bool:
        """The user wrote in this local hour; True when the profile changed (the first
        message of the hour)."""
        if local_hour == self.last_hour:
            return False
        self.last_hour = local_hour
        if at - self.decayed_at >= DECAY_STEP:
            self.decay_to(at)
        counts = self.counts  # inlined _bump: this runs for every first message of an hour
        index = ACTIVE + (local_hour + EPOCH_HOUR_OF_WEEK) % HOURS_OF_WEEK
        value = counts[index] + UNIT
        counts[index] = value if value < MAX_COUNT else MAX_COUNT
        return True

    def note_sent(self, local_hour: int, at: float) -> None:
        """A proactive message went out in this local hour."""
        self.decay_to(at)
        bucket = hour_of_week(local_hour)
        self._bump(SENT + bucket)
        self.sent_bucket = bucket
        self.sent_at = at

    def note_answered(self, at: float) -> bool:
        """The user wrote after proactive messages; True when it counted as an answer to
        the last one (within ``ANSWER_WINDOW``). Each message is answered once."""
        bucket, self.sent_bucket = self.sent_bucket, -1
        delay = at - self.sent_at
        if bucket < 0 or not 0.0 <= delay <= ANSWER_WINDOW:
            return False
        self.decay_to(at)
        counts = self.counts
        if counts[ANSWERED + bucket] < counts[SENT + bucket]:
            self._bump(ANSWERED + bucket)
        self.delay_weight += 1.0
        self.delay_mean += (delay - self.delay_mean) / self.delay_weight
        return True

    def _bump(self, index: int) -> None:
        counts = self.counts
        counts[index] = min(MAX_COUNT, counts[index] + UNIT)

    def decay_to(self, at: float) -> None:
        """Halve every ``HALF_LIFE`` since the last decay; applied at most once per
        ``DECAY_STEP`` (the lazy part: a profile nobody touches costs nothing)."""
        elapsed = at - self.decayed_at
        if elapsed < DECAY_STEP:
            return
        factor = 0.5 ** (elapsed / HALF_LIFE)
        self.counts = _scale_counts(self.counts, factor)
        self.delay_weight *= factor
        self.decayed_at = at

    # -- reading ----------------------------------------------------------------------
    def active_hours(self) -> float:
        """The decayed number of hours in which the user wrote."""
        return sum(self.counts[ACTIVE:SENT]) / UNIT

    def row(self, start: int) -> list[float]:
        """One of the three tables (``ACTIVE``, ``SENT``, ``ANSWERED``) in events."""
        return [c / UNIT for c in self.counts[start : start + HOURS_OF_WEEK]]

    # -- the stored form --------------------------------------------------------------
    def to_bytes(self) -> bytes:
        counts = self.counts
        if _SWAP:
            counts = array("H", counts)
            counts.byteswap()
        header = _HEADER.pack(
            _MAGIC,
            self.started_at,
            self.decayed_at,
            self.sent_at,
            self.last_hour,
            self.sent_bucket,
            self.delay_mean,
            self.delay_weight,
        )
        return header + counts.tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> HabitProfile:
        """The profile stored in ``blob``; ``CorruptProfile`` saying why when it is not one."""
        if not isinstance(blob, bytes | bytearray | memoryview) or len(blob) != BLOB_BYTES:
            raise CorruptProfile(f"expected {BLOB_BYTES} bytes")
        magic, started, decayed, sent_at, last_hour, bucket, mean, weight = _HEADER.unpack_from(
            blob
        )
        if magic != _MAGIC:
            raise CorruptProfile("not a habits profile")
        numbers = (started, decayed, sent_at, mean, weight)
        if not all(0.0 <= x < 1e12 for x in numbers) or not -1 <= bucket < HOURS_OF_WEEK:
            raise CorruptProfile("values out of range")
        profile = cls(started)
        profile.decayed_at, profile.sent_at = decayed, sent_at
        profile.last_hour, profile.sent_bucket = last_hour, bucket
        profile.delay_mean, profile.delay_weight = mean, weight
        counts = array("H")
        counts.frombytes(bytes(blob[_HEADER.size :]))
        if _SWAP:
            counts.byteswap()
        profile.counts = counts
        return profile
