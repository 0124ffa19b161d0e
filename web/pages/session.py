"""What the session page shows (its template: templates/session.html).

How pages are built: docs/panel-pages.md.

``/session?umo=<umo>``: one session's state, actions, effective settings (what its
override changes marked) and recent journal. static/js/session.js makes it live and adds
the override editor (static/js/schema_form.js).

Context: ``mode`` (``"ok"``, ``"not_found"``, ``"invalid"`` or ``"no_engine"``), ``umo``;
with an engine and a known session also ``view`` (the session view of
``GET /api/sessions/{umo}``), ``effective_rows`` ([{key, label, value, global, overridden}]),
``overridden_count``, ``journal`` (the last entries, newest first) and ``journal_problem``,
``schema_form_url`` (None while that script is missing) and ``session_data`` (JSON for the
script). ``status_code`` is 404 for an unknown or malformed session id.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request

from ...core.engine.config import GROUP_OF_KIND
from ...core.engine.engine import journal_dict
from ...core.store.session_store import StoreUnavailable
from ...core.umo import parse_umo
from ..api.access import app_deps, current_service, running_engine
from ..api.overrides import override_view
from ..config_texts import schema_for
from ..i18n import pick_language, translator
from .habits_map import habit_map

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates

    from ...core.store.session_store import SessionStore

JOURNAL_LIMIT = 20
SCHEMA_STATE = "session_page_labels"  # app.state cache: {lang: {kind: {dotted key: label}}}


async def context(request: Request) -> dict[str, Any]:
    deps = app_deps(request)
    umo = request.query_params.get("umo", "")
    base: dict[str, Any] = {
        "umo": umo,
        "journal_url": f"/journal?umo={quote(umo, safe='')}",
        "engine_problem": None,
    }
    try:
        kind = parse_umo(umo).kind
    except ValueError:
        return _other(base, "invalid", status_code=404)
    engine, problem = running_engine(deps)
    if engine is None:
        return _other({**base, "engine_problem": problem}, "no_engine")
    state = engine.sessions.get(umo)
    if state is None:
        return _other(base, "not_found", status_code=404)

    lang = pick_language(request)
    t = translator(lang)
    view = engine.session_view(state)
    override = override_view(engine, umo, kind)
    texts = await _labels(request, lang)
    labels = texts.get(kind, {})
    options = texts.get(f"{kind}:options", {})
    rows = effective_rows(override, labels, t, options)
    service = current_service(deps)
    assert service is not None  # an engine is always some service's
    journal, journal_problem = await _journal(service.store, umo)
    return {
        **base,
        "mode": "ok",
        "view": view,
        "effective_rows": rows,
        "overridden_count": sum(1 for row in rows if row["overridden"]),
        "journal": journal,
        "journal_problem": journal_problem,
        "habits": habit_map(engine.habits_view(umo), t),
        "schema_form_url": _static_or_none(deps.templates, "js/schema_form.js"),
        "session_data": {
            "mode": "ok",
            "umo": umo,
            "kind": kind,
            "group": GROUP_OF_KIND[kind],
            "view": view,
            "override": override,
            "labels": labels,
            "options": options,
            "lang": lang,
        },
    }


def _other(base: dict[str, Any], mode: str, **extra: Any) -> dict[str, Any]:
    """The page without a session to show; its script only waits for one to appear."""
    return {**base, **extra, "mode": mode, "session_data": {"mode": mode, "umo": base["umo"]}}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; an empty object stays one key."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            out.update(flatten(item, f"{path}."))
        else:
            out[path] = item
    return out


def effective_rows(
    override: dict[str, Any],
    labels: dict[str, str],
    t: Any,
    options: dict[str, dict[str, str]] | None = None,
) -> list[dict]:
    """One row per dotted setting, in the config's order; ``overridden`` when this
    session sets it (an override of a whole group marks each of its keys)."""
    effective = flatten(override["effective"])
    shared = flatten(override["global"])
    own = flatten(override["override"])
    return [
        {
            "key": key,
            "label": labels.get(key, ""),
            "value": show_value(value, t, (options or {}).get(key)),
            "global": show_value(shared.get(key), t, (options or {}).get(key)),
            "overridden": key in own or any(k.startswith(f"{key}.") for k in own),
        }
        for key, value in effective.items()
    ]


def show_value(value: Any, t: Any, choices: dict[str, str] | None = None) -> str:
    """A setting as a person reads it (static/js/session.js formats the same way); a
    choice shows as its label with the value (``Session's own (off)``)."""
    if choices and isinstance(value, str) and value in choices:
        return f"{choices[value]} ({value})"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else t("session.empty_value")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False) if value else t("session.empty_value")
    if value == "":
        return t("session.empty_value")
    return str(value)


async def _journal(store: SessionStore, umo: str) -> tuple[list[dict], str | None]:
    try:
        entries = await store.query_journal(umo=umo, limit=JOURNAL_LIMIT)
    except StoreUnavailable as exc:
        return [], str(exc)
    return [journal_dict(entry) for entry in entries], None


async def _labels(request: Request, lang: str) -> dict[str, dict[str, Any]]:
    """Each setting's description and each choice's label in ``lang`` (the schema as
    ``web/config_texts.py`` localizes it), per kind; worked out once per app and language."""
    cached: dict[str, dict[str, dict[str, Any]]] | None = getattr(
        request.app.state, SCHEMA_STATE, None
    )
    if cached is None:
        cached = {}
        setattr(request.app.state, SCHEMA_STATE, cached)
    if lang not in cached:
        try:
            schema = await schema_for(request, lang)
        except (OSError, ValueError):
            return {}  # the table still shows the keys; the next request tries again
        cached[lang] = _labels_of(schema)
    return cached[lang]


def _labels_of(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind, group in GROUP_OF_KIND.items():
        items = schema.get(group, {}).get("items", {})
        out[kind] = _walk_labels(items, "", "")
        out[f"{kind}:options"] = _walk_options(items, "")
    return out


def _walk_options(items: dict, prefix: str) -> dict[str, dict[str, str]]:
    """``{"persona_settings.mode": {"off": "Session's own", ...}}``: the schema's labels
    of each choice, so a setting shows as its label, not its internal value."""
    out: dict[str, dict[str, str]] = {}
    for key, spec in items.items():
        if not isinstance(spec, dict):
            continue
        if spec.get("type") == "object" and isinstance(spec.get("items"), dict):
            out.update(_walk_options(spec["items"], f"{prefix}{key}."))
            continue
        options, texts = spec.get("options"), spec.get("labels")
        if isinstance(options, list) and isinstance(texts, list) and len(options) == len(texts):
            choices = {str(option): str(text) for option, text in zip(options, texts, strict=True)}
            out[f"{prefix}{key}"] = choices
    return out


def _walk_labels(items: dict, prefix: str, parent: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, spec in items.items():
        if not isinstance(spec, dict):
            continue
        label = str(spec.get("description", ""))
        full = f"{parent} › {label}" if parent else label
        if spec.get("type") == "object" and isinstance(spec.get("items"), dict):
            out.update(_walk_labels(spec["items"], f"{prefix}{key}.", full))
        else:
            out[f"{prefix}{key}"] = full
    return out


def _static_or_none(templates: Jinja2Templates | None, path: str) -> str | None:
    if templates is None:  # create_app always builds them; only a bare AppDeps lacks them
        return None
    try:
        return templates.env.globals["static"](path)  # type: ignore[operator]
    except LookupError:
        return None
