"""What the config page shows (its template: templates/config.html).

How pages are built: docs/panel-pages.md.

The page embeds the schema in the reader's language (``web/config_texts.py``: the
texts of AstrBot's i18n files, the same the dashboard's config dialog shows) and the
config as it is in effect (the body of ``GET /api/config``, built by the same code, so
never the password) as JSON for static/js/config.js, which builds the form; saves go
through ``PUT /api/config``.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from starlette.requests import Request

from ...core.engine.config import SCHEMA_GROUPS, int_ranges
from ..api.access import app_deps
from ..api.config import SCHEMA_FILE, config_view_body
from ..config_texts import schema_for
from ..errors import PanelError
from ..i18n import pick_language, translator

WEB_ADMIN_KEYS = (
    "enabled",
    "host",
    "port",
    "allowed_hosts",
    "log_buffer_size",
    "session_hours",
    "password",
)
INT_RANGES = int_ranges()


def _with_limits(items: dict[str, Any], ranges: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """A copy of a group's schema items with each whole-number field's range from the
    server's validators (``min``/``max``), so the form can say so before saving."""
    out = copy.deepcopy(items)

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, entry in node.items():
            if not isinstance(entry, dict):
                continue
            path = f"{prefix}{key}"
            if entry.get("type") == "object":
                walk(entry.get("items") or {}, f"{path}.")
            elif entry.get("type") == "int" and path in ranges:
                entry["min"], entry["max"] = ranges[path]

    walk(out, "")
    return out


def _json_block(value: Any) -> Markup:
    return htmlsafe_json_dumps(value, dumps=json.dumps)


def _web_admin_rows(schema: dict[str, Any], view: dict[str, Any], lang: str) -> list[Any]:
    t = translator(lang)
    items = schema.get("web_admin", {}).get("items", {})
    rows = []
    for key in WEB_ADMIN_KEYS:
        label = items.get(key, {}).get("description", key)
        if key == "password":
            value = t(
                "config.password_set" if view.get("password_set") else "config.password_unset"
            )
        elif key == "enabled":
            value = t("common.yes" if view.get(key) else "common.no")
        elif key == "allowed_hosts":
            value = ", ".join(view.get(key) or ()) or t("common.none")
        else:
            value = str(view.get(key, ""))
        rows.append((label, value))
    return rows


async def context(request: Request) -> dict[str, Any]:
    deps = app_deps(request)
    lang = pick_language(request)
    out: dict[str, Any] = {"problem": None, "engine_problem": None, "groups": [], "web_admin": []}
    service = deps.service
    if service is None:
        out["problem"] = "the proactive engine is not loaded in this panel"
        return out
    try:
        schema = await schema_for(request, lang)
    except (OSError, ValueError) as exc:
        out["problem"] = f"{SCHEMA_FILE.name} cannot be read: {exc}"
        return out
    try:
        if service.engine is None:  # parsed from the plugin config: off the loop
            view = await asyncio.to_thread(config_view_body, request)
        else:
            view = config_view_body(request)
    except PanelError as exc:
        out["problem"] = exc.message
        return out
    if service.engine is None:
        out["engine_problem"] = service.problem or "starting or stopped"
    groups = []
    for group in SCHEMA_GROUPS:
        entry = schema.get(group, {})
        groups.append(
            {
                "key": group,
                "title": entry.get("description", group),
                "hint": entry.get("hint", ""),
            }
        )
    out["groups"] = groups
    data = {
        "lang": lang,
        "schema": {
            group: _with_limits(schema.get(group, {}).get("items", {}), INT_RANGES[group])
            for group in SCHEMA_GROUPS
        },
        "values": {group: view[group] for group in SCHEMA_GROUPS},
    }
    # Not ``|tojson``: it sorts keys, and the form follows the schema's order. The same
    # escaping (``<``, ``>``, ``&``, ``'`` as \u escapes), so the block cannot end early.
    out["config_json"] = _json_block(data)
    web_schema = schema.get("web_admin", {})
    out["web_admin_title"] = web_schema.get("description", "web_admin")
    out["web_admin"] = _web_admin_rows(schema, view["web_admin"], lang)
    return out
