"""``GET /api/logs``: a snapshot of the live-log buffer (the same lines ``/ws/logs``
streams), filtered by level, scope and text. Its path is in the route table,
web/api/panel.py. Bounded: at most 10,000 lines per answer."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from ...core.logs.ring import LogFilter
from ..errors import PanelError
from .access import app_deps

MAX_LINES = 10_000


async def logs_snapshot(
    request: Request,
    since: int | None = None,
    level: str | None = None,
    scope: str | None = None,
    q: str | None = None,
    limit: int = 1000,
) -> dict[str, Any]:
    ring = app_deps(request).log_stream.ring
    problem = LogFilter.problem(level, scope)
    if problem is not None:
        raise PanelError(400, "bad_filter", problem)
    line_filter = LogFilter.from_params(level, scope, q)
    limit = max(1, min(limit, MAX_LINES))
    cursor = since + 1 if since is not None else max(ring.first_seq, ring.next_seq - limit)
    result = ring.read(cursor, limit)
    return {
        "first_seq": ring.first_seq,
        "next_seq": ring.next_seq,
        "missed": result.missed,
        "lines": [json.loads(line.json) for line in result.lines if line_filter.matches(line)],
    }
