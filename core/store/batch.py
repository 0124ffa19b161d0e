"""One flush's batch on the loop side: taken from the store's buffers, and given back
when its write fails or is cancelled.

Taking copies rows a chunk at a time, so 100,000 dirty sessions never block the loop;
a session's recent lines (a deque the loop appends to) are copied into a tuple here, so
the store's thread never reads them while they change.
Giving back never loses a newer change (a put or delete made during the write wins)
and keeps the journal buffer bounded: what does not fit drops the oldest entries,
counted so the store can say how many.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from ..engine.models import JournalEntry, SessionState
from .schema import SESSION_COLUMNS, row_of

TALK_COLUMN = SESSION_COLUMNS.index("talk")  # a deque in memory (chat_context.py)

SNAPSHOT_CHUNK = 2000  # rows copied per loop turn: 100,000 dirty sessions never block it


async def snapshot(sessions: dict[str, SessionState | None]) -> tuple[list[tuple], list[str]]:
    """Rows to write and UMOs to delete, copied on the loop a chunk at a time."""
    rows: list[tuple] = []
    deletes: list[str] = []
    for index, (umo, state) in enumerate(sessions.items()):
        if state is None:
            deletes.append(umo)
        else:
            row = row_of(state)
            if type(row[TALK_COLUMN]) is deque:  # appended to on the loop: copy it here
                row = (*row[:TALK_COLUMN], tuple(row[TALK_COLUMN]), *row[TALK_COLUMN + 1 :])
            rows.append(row)
        if index % SNAPSHOT_CHUNK == SNAPSHOT_CHUNK - 1:
            await asyncio.sleep(0)
    return rows, deletes


def blobs(habits: dict[str, Callable[[], bytes]]) -> dict[str, bytes]:
    """The learned-habit profiles to write, serialized now (once per flush, however often
    each changed since the last one)."""
    return {umo: serialize() for umo, serialize in habits.items()}


def give_back_sessions(
    pending: dict[str, SessionState | None], taken: dict[str, SessionState | None]
) -> None:
    for umo, state in taken.items():
        pending.setdefault(umo, state)  # a newer put or delete wins


def give_back_journal(
    taken: list[JournalEntry], buffered: deque[JournalEntry]
) -> tuple[deque[JournalEntry], int]:
    """The taken entries before the ones buffered since, within the buffer's bound;
    and how many of the oldest did not fit."""
    merged = taken + list(buffered)
    limit = buffered.maxlen or len(merged)
    overflow = max(0, len(merged) - limit)
    return deque(merged[overflow:], maxlen=limit), overflow
