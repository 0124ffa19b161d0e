"""What the sessions page shows (its template: templates/sessions.html)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request


async def context(request: Request) -> dict[str, Any]:
    return {}
