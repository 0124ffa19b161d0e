"""One session's override of its kind's settings: read, replace, reset. Their paths and
OpenAPI entries are in the route table, web/api/engine.py.

An override is checked (``validate_override``) before the engine sees it; every answer
shows the kind's settings, the override and both merged (``override_view``, which the
session page renders too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Body, Request

from ...core.engine.config import merge_override, normalize_kind_dict, validate_override
from ..errors import PanelError
from .access import require_engine
from .checks import refuse_lone_surrogates, umo_kind

if TYPE_CHECKING:
    from ...core.engine.engine import ProactiveEngine


async def get_override(request: Request, umo: str) -> dict[str, Any]:
    engine = require_engine(request)
    return override_view(engine, umo, umo_kind(umo))


async def put_override(
    request: Request, umo: str, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    engine = require_engine(request)
    kind = umo_kind(umo)
    refuse_lone_surrogates(body)
    cleaned, errors = validate_override(body, kind)
    if errors:
        raise PanelError(400, "invalid_settings", "; ".join(errors[:5]), errors=errors)
    await engine.set_override(umo, cleaned)
    return override_view(engine, umo, kind)


async def delete_override(request: Request, umo: str) -> dict[str, Any]:
    engine = require_engine(request)
    kind = umo_kind(umo)
    if umo in engine.overrides:  # nothing to reset otherwise: no journal, no session
        await engine.set_override(umo, {})
    return override_view(engine, umo, kind)


def override_view(engine: ProactiveEngine, umo: str, kind: str) -> dict[str, Any]:
    """``OverrideView``: the kind's settings, this session's override, both merged."""
    settings = engine.settings
    shared = dict(settings.group_dict if kind == "group" else settings.friend_dict)
    shared.pop("session_list", None)
    override = engine.overrides.get(umo) or {}
    effective, _ = normalize_kind_dict(merge_override(shared, override), kind)
    effective.pop("session_list", None)
    return {
        "umo": umo,
        "kind": kind,
        "global": shared,
        "override": override,
        "effective": effective,
    }
