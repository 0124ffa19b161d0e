"""What the sessions page shows (its template: templates/sessions.html).

How pages are built: docs/panel-pages.md.

The first page is rendered here from the URL (``q``, ``kind``, ``served``, ``sort``,
``page``, ``size``; see ``web/api/session_query.py``), so the list works before the script
loads; static/js/sessions.js then pages, sorts and searches through ``/api/sessions``.

Context: ``query`` (SessionQuery), ``columns`` ([(sort field or None, text key, css)]),
``page_sizes``, ``result`` ({items, total, page, pages, size} or None without an engine),
``engine_problem`` (str or None), ``list_state`` (JSON for the script).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from starlette.requests import Request

from ..api.access import app_deps, running_engine
from ..api.session_query import DESCENDING_FIRST, PAGE_SIZES, SessionQuery, session_page

# (sort field or None, header text key, cell class)
COLUMNS: tuple[tuple[str | None, str, str], ...] = (
    ("name", "sessions.col.name", ""),
    (None, "sessions.col.platform", ""),
    ("kind", "sessions.col.kind", ""),
    (None, "sessions.col.enabled", ""),
    ("phase", "sessions.col.phase", ""),
    ("next_at", "sessions.col.next", ""),
    ("unanswered", "sessions.col.unanswered", "num"),
    ("last_activity_at", "sessions.col.last_activity", ""),
)


async def context(request: Request) -> dict[str, Any]:
    query = SessionQuery.from_params(request.query_params)
    engine, problem = running_engine(app_deps(request))
    result = None
    if engine is not None:
        result = await session_page(engine, query)
        query = replace(query, page=result["page"])
    return {
        "query": query,
        "columns": COLUMNS,
        "page_sizes": PAGE_SIZES,
        "result": result,
        "engine_problem": problem,
        "list_state": {
            "query": asdict(query),
            "defaults": asdict(SessionQuery()),
            "descending_first": sorted(DESCENDING_FIRST),
            "total": result["total"] if result else 0,
            "pages": result["pages"] if result else 1,
        },
    }
