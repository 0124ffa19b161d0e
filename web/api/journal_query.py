"""The journal as the panel reads it: one checked filter and one page reader, shared by
``GET /api/journal``, the Journal page's first render and ``GET /api/journal.csv``.

Pages come from the store's async keyset query: no SQL here, nothing on the event loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Query

from ...core.engine.engine import journal_dict
from ...core.umo import MAX_UMO_LENGTH
from .access import current_engine
from .checks import journal_kinds, umo_kind

if TYPE_CHECKING:
    from ...core.engine.models import SessionState
    from ...core.store.session_store import SessionStore
    from ..app import AppDeps


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """What ``/api/journal`` filters on, already checked; None = no filter."""

    umo: str | None = None
    kinds: tuple[str, ...] | None = None
    since: float | None = None
    until: float | None = None

    def store_args(self) -> dict[str, Any]:
        return {"umo": self.umo, "kinds": self.kinds, "since": self.since, "until": self.until}

    def query(self) -> dict[str, str]:
        """The same filter as URL parameters (``/api/journal``, ``/api/journal.csv``)."""
        out: dict[str, str] = {}
        if self.umo:
            out["umo"] = self.umo
        if self.kinds is not None:
            out["kind"] = ",".join(self.kinds)
        if self.since is not None:
            out["since"] = _number(self.since)
        if self.until is not None:
            out["until"] = _number(self.until)
        return out


def journal_filter(
    umo: str | None = None,
    kind: str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> JournalFilter:
    """Check a filter as ``/api/journal`` does; ``PanelError`` 400 when it is wrong."""
    if umo:
        umo_kind(umo)
    kinds = journal_kinds(kind)
    return JournalFilter(umo or None, tuple(kinds) if kinds is not None else None, since, until)


def journal_filter_query(
    umo: str | None = Query(None, max_length=MAX_UMO_LENGTH),
    kind: str | None = Query(None, max_length=1000, description="comma-separated journal kinds"),
    since: float | None = Query(None, ge=0, le=1e11, allow_inf_nan=False),
    until: float | None = Query(None, ge=0, le=1e11, allow_inf_nan=False),
) -> JournalFilter:
    """The filter parameters of ``/api/journal`` and ``/api/journal.csv`` (a dependency)."""
    return journal_filter(umo, kind, since, until)


# A route parameter of this type reads and checks the filter from the query string.
JournalFilterParam = Annotated[JournalFilter, Depends(journal_filter_query)]


async def journal_page(
    store: SessionStore,
    flt: JournalFilter,
    *,
    before_id: int | None = None,
    limit: int = 50,
    count: bool = True,
) -> dict[str, Any]:
    """``{"items", "next_before_id", "total"}`` exactly as ``GET /api/journal`` answers
    (``count=False`` skips the total). Raises ``StoreUnavailable``."""
    entries = await store.query_journal(**flt.store_args(), before_id=before_id, limit=limit)
    total = None
    if before_id is None and count:
        total = await store.count_journal(**flt.store_args())
    items = [journal_dict(entry) for entry in entries]
    next_before_id = items[-1]["id"] if len(items) == limit else None
    return {"items": items, "next_before_id": next_before_id, "total": total}


def session_names(deps: AppDeps) -> Mapping[str, SessionState]:
    """The engine's sessions by UMO (for names); empty while the engine is down."""
    engine = current_engine(deps)
    return engine.sessions if engine is not None else {}


def name_of(sessions: Mapping[str, SessionState], umo: str) -> str:
    state = sessions.get(umo)
    return str(getattr(state, "name", "") or "") if state is not None else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
