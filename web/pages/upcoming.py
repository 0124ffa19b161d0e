"""What the Upcoming page shows (its template: templates/upcoming.html).

How pages are built: docs/panel-pages.md.

``/upcoming``: the forward view of every served session (``GET /api/forecast``), a page
at a time, filled by static/js/upcoming.js. Context: ``days``, ``page_size`` and
``problem`` (why there is no engine, or None).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..api.access import app_deps, running_engine

DAYS = 7
PAGE_SIZE = 20


async def context(request: Request) -> dict[str, Any]:
    _, problem = running_engine(app_deps(request))
    return {"days": DAYS, "page_size": PAGE_SIZE, "problem": problem}
