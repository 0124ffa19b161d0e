"""The learned habits of one session (``GET /api/sessions/{umo}/habits``): what the
session page's week heat-map shows. Read-only; behind login like every API route.

Per hour of the week (168 values, Monday 00:00 first, in AstrBot's time zone): the
decayed count of hours in which the user wrote, of proactive messages sent and of
those answered, and the draw's weight (null until the session has enough history).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ..errors import PanelError
from .access import require_engine
from .checks import umo_kind


async def get_habits(request: Request, umo: str) -> dict[str, Any]:
    engine = require_engine(request)
    umo_kind(umo)
    if umo not in engine.sessions:
        raise PanelError(404, "unknown_session", f"no session {umo!r} is known")
    view = engine.habits_view(umo)
    return {"umo": umo, "learned": view is not None, **(view or {})}
