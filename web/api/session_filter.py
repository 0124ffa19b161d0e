"""The filter and the sort of the sessions list, shared by ``GET /api/sessions`` and the
Sessions page (web/api/session_query.py), so both always select the same rows.

Bounded: filtering looks at the sessions in chunks (``SCAN_CHUNK``) and yields to the
loop between them, so 100,000 sessions never block it.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from ..errors import PanelError

if TYPE_CHECKING:
    from ...core.engine.engine import ProactiveEngine
    from ...core.engine.models import SessionState

SCAN_CHUNK = 5000  # sessions looked at per loop turn when filtering
MAX_QUERY_CHARS = 200
SORT_FIELDS = (
    "next_at",
    "last_activity_at",
    "last_user_at",
    "last_bot_at",
    "created_at",
    "unanswered",
    "sent_total",
    "name",
    "umo",
    "kind",
    "phase",
)
TEXT_FIELDS = frozenset({"name", "umo", "kind", "phase"})
SortParam = Literal[
    "next_at",
    "-next_at",
    "last_activity_at",
    "-last_activity_at",
    "last_user_at",
    "-last_user_at",
    "last_bot_at",
    "-last_bot_at",
    "created_at",
    "-created_at",
    "unanswered",
    "-unanswered",
    "sent_total",
    "-sent_total",
    "name",
    "-name",
    "umo",
    "-umo",
    "kind",
    "-kind",
    "phase",
    "-phase",
]


async def filter_sessions(
    engine: ProactiveEngine, q: str | None, kind: str | None, served: bool | None
) -> list[SessionState]:
    """The states that match, looked at in chunks so 100,000 sessions never block the loop."""
    states = list(engine.sessions.values())
    needle = q.strip().casefold() if q and q.strip() else None
    if needle is None and kind is None and served is None:
        return states
    matched: list[SessionState] = []
    for index, state in enumerate(states):
        if index % SCAN_CHUNK == SCAN_CHUNK - 1:
            await asyncio.sleep(0)
        if kind is not None and state.kind != kind:
            continue
        if (
            needle is not None
            and needle not in state.umo.casefold()
            and needle not in state.name.casefold()
        ):
            continue
        if served is not None and engine.is_served(state.umo) != served:
            continue
        matched.append(state)
    return matched


def sorted_sessions(states: list[SessionState], sort: str) -> list[SessionState]:
    """Sorted by one field (``-`` = descending); sessions without a value come last.

    Synchronous on purpose: the values cannot change between the split and the sort.
    The sort reads each key once (C ``attrgetter``) and builds no per-item tuples,
    which keeps 100,000 sessions in the tens of milliseconds.
    """
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in SORT_FIELDS:
        raise PanelError(400, "bad_request", f"sort: unknown field {field!r}")
    get = operator.attrgetter(field)
    present = [state for state in states if get(state) not in (None, "")]
    if len(present) < len(states):
        missing = [state for state in states if get(state) in (None, "")]
    else:
        missing = []
    key = _casefolded(get) if field in TEXT_FIELDS else get
    present.sort(key=key, reverse=descending)
    return present + missing


def _casefolded(get: Callable[[SessionState], str]) -> Callable[[SessionState], str]:
    return lambda state: get(state).casefold()
