"""``GET /api/journal``: the journal, newest first, a keyset page at a time, with the
filters of web/api/journal_query.py (shared with the Journal page and the CSV export)."""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request

from .access import require_service
from .journal_query import JournalFilterParam, journal_page

MAX_JOURNAL_LIMIT = 1000
MAX_SQLITE_INT = 2**63 - 1


async def journal(
    request: Request,
    flt: JournalFilterParam,
    before_id: int | None = Query(None, ge=1, le=MAX_SQLITE_INT),
    limit: int = Query(50, ge=1, le=MAX_JOURNAL_LIMIT),
) -> dict[str, Any]:
    store = require_service(request).store
    return await journal_page(store, flt, before_id=before_id, limit=limit)
