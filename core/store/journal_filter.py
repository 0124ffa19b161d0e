"""Which journal entries a query asks for, as SQL for the stored ones and as a test for
the ones still buffered on the loop (so the two always agree).

``since`` is inclusive, ``until`` exclusive, ``before_id`` pages on from the last id
seen; ``kinds=()`` matches nothing, and a filter that matches nothing runs no SQL.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine.models import JournalEntry


@dataclass(frozen=True)
class JournalFilter:
    umo: str | None = None
    kinds: Collection[str] | None = None
    since: float | None = None
    until: float | None = None
    before_id: int | None = None

    def where(self) -> tuple[str, list] | None:
        """(`` WHERE ...``, params), or None when the filter matches nothing."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.umo is not None:
            clauses.append("umo = ?")
            params.append(self.umo)
        if self.kinds is not None:
            kind_list = kind_list_of(self.kinds)
            if not kind_list:
                return None
            clauses.append(f"kind IN ({', '.join('?' * len(kind_list))})")
            params.extend(kind_list)
        if self.since is not None:
            clauses.append("at >= ?")
            params.append(float(self.since))
        if self.until is not None:
            clauses.append("at < ?")
            params.append(float(self.until))
        if self.before_id is not None:
            clauses.append("id < ?")
            params.append(int(self.before_id))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def newest_first(self, entries: Sequence[JournalEntry]) -> list[JournalEntry]:
        """The entries (oldest first, as buffered) that match, newest first."""
        wanted = None if self.kinds is None else set(kind_list_of(self.kinds))
        umo, since, until, before_id = self.umo, self.since, self.until, self.before_id
        return [
            e
            for e in reversed(entries)
            if (umo is None or e.umo == umo)
            and (wanted is None or e.kind in wanted)
            and (since is None or e.at >= since)
            and (until is None or e.at < until)
            and (before_id is None or (e.id or 0) < before_id)
        ]


def kind_list_of(kinds: Collection[str]) -> list[str]:
    """Distinct kinds, sorted; a single string is one kind, not its letters."""
    return [kinds] if isinstance(kinds, str) else sorted({str(k) for k in kinds})
