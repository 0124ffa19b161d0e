"""The plugin config as the panel reads and writes it: ``GET``/``PUT /api/config`` and
``GET /api/config/schema``. Their paths and OpenAPI entries are in the route table,
web/api/engine.py.

``web_admin`` is shown but never written here (AstrBot's dashboard owns it), and the
password is never shown: only whether one is set, and the schema loses its default.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Literal

from fastapi import Query, Request

from ...core.constants import PLUGIN_ROOT
from ..errors import PanelError
from .access import app_deps, require_service
from .checks import refuse_lone_surrogates
from .models import ConfigUpdate

SCHEMA_FILE = PLUGIN_ROOT / "_conf_schema.json"
WEB_ADMIN_NOTE = (
    "web_admin is read-only here: change it in AstrBot's dashboard (plugin config). "
    "/ 管理面板设置只能在 AstrBot 管理面板的插件配置中修改。"
)


async def get_config(request: Request) -> dict[str, Any]:
    return config_view_body(request)


async def put_config(request: Request, body: ConfigUpdate) -> dict[str, Any]:
    service = require_service(request)
    raw = body.model_dump(exclude_unset=True)
    refuse_lone_surrogates(raw)
    try:
        errors = await service.update_config(raw)
    except OSError as exc:
        raise PanelError(503, "save_failed", f"the config could not be saved: {exc}") from None
    if errors:
        raise PanelError(400, "invalid_config", "; ".join(errors[:5]), errors=errors)
    if service.engine is not None:  # open config pages reload it (static/js/config.js)
        service.engine.events.publish({"type": "config"})
    return config_view_body(request)


async def config_schema(
    request: Request,
    lang: Literal["zh", "en"] | None = Query(
        None, description="the texts in this language (the plugin's AstrBot i18n files)"
    ),
) -> dict[str, Any]:
    """``_conf_schema.json`` as AstrBot shows it, minus the password's default; with
    ``lang``, its descriptions, hints and labels in that language."""
    # Imported here: web/config_texts.py builds on cached_schema below.
    from ..config_texts import schema_for

    try:
        return await (schema_for(request, lang) if lang else cached_schema(request))
    except (OSError, ValueError) as exc:
        raise PanelError(
            503, "schema_unavailable", f"{SCHEMA_FILE.name} cannot be read: {exc}"
        ) from None


def config_view_body(request: Request) -> dict[str, Any]:
    """``ConfigView``: the service's config groups plus the panel's own settings (read-only)."""
    deps = app_deps(request)
    view = require_service(request).config_view()
    web = deps.settings
    view["web_admin"] = {
        "enabled": web.enabled,
        "host": web.host,
        "port": web.port,
        "allowed_hosts": list(web.allowed_hosts),
        "log_buffer_size": web.log_buffer_size,
        "session_hours": web.session_hours,
        "password_set": bool(web.password),
        "read_only": True,
        "note": WEB_ADMIN_NOTE,
    }
    return view


async def cached_schema(request: Request) -> dict[str, Any]:
    """``read_schema`` once per app (off the loop), shared by the API and the pages.
    Raises ``OSError`` / ``ValueError`` when the file cannot be read; the next call retries."""
    state = request.app.state
    cached: dict[str, Any] | None = getattr(state, "conf_schema", None)
    if cached is None:
        cached = await asyncio.to_thread(read_schema, SCHEMA_FILE)
        state.conf_schema = cached
    return cached


def read_schema(path: Path) -> dict[str, Any]:
    schema = json.loads(path.read_text(encoding="utf-8-sig"))
    if not isinstance(schema, dict):
        raise ValueError("it is not a JSON object")
    password = schema.get("web_admin", {}).get("items", {}).get("password")
    if isinstance(password, dict):
        password.pop("default", None)
    return schema
