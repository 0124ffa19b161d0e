"""Jinja2 set-up for the admin pages: autoescape, content-hashed static URLs, one base context.

What every page template receives (added by ``render``):

- ``request``: the Starlette request.
- ``lang``: ``"zh"`` or ``"en"``; ``html_lang``: the value for ``<html lang>``.
- ``t``: ``t(key, **kw) -> str`` in that language (keys in ``web/i18n.py``).
- ``js_i18n``: dict of the strings the page scripts need; render with ``|tojson``.
- ``static``: global, ``static("css/app.css") -> "/static/css/app.css?v=<10 hex>"``.
- ``short_umo``: global, ``short_umo(umo) -> str``: a short stand-in for an unnamed
  session (``core.umo.short_id``); the full id goes behind a copy button.
- ``version`` / ``astrbot_version``: plugin and AstrBot versions (strings).
- ``logged_in``: bool, shows the logout button.
- ``current_path``: path (and query) of this page, where the language switch returns to.
- ``fmt_time(ts, seconds=False)`` / ``iso_time(ts)``: a Unix time in AstrBot's timezone
  (``web/timefmt.py``); ``zone``: that zone's label; ``js_env``: the zone for the scripts
  (``<script type="application/json" id="pc-env">``).
- ``reason_text(reason)``: a journal reason in this language (``web/reasons.py``);
  ``js_reasons``: the same table for the scripts (``<script id="pc-reasons">``).
- ``nav``: ``[(path, text key)]`` of the main navigation; ``section``: the current one.

Per page (passed by ``web/pages/routes.py``):

- ``login.html``: ``next_path``: the safe local path to open after logging in (``"/logs"``).
- ``logs.html``: ``levels``: the level names for the filter, lowest first;
  ``default_level``: the level selected at first; ``default_scope``: ``"plugin"``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from ...core.umo import short_id
from ..api.access import app_deps
from ..i18n import HTML_LANG, js_strings, pick_language, translator
from ..reasons import browser_table, reason_text
from ..timefmt import browser_env, format_ts, iso_ts, panel_timezone, zone_label
from .tool_calls import tool_call_list

NAV = (
    ("/overview", "nav.overview"),
    ("/sessions", "nav.sessions"),
    ("/upcoming", "nav.upcoming"),
    ("/journal", "nav.journal"),
    ("/logs", "nav.logs"),
    ("/config", "nav.config"),
    ("/help", "nav.help"),
)
REASON_TABLE = browser_table()
STATIC_PREFIX = "/static/"
HASH_LENGTH = 10


def hash_static_files(static_dir: Path) -> dict[str, str]:
    """``{"css/app.css": "<first 10 hex of sha256>"}`` for every file under ``static_dir``."""
    hashes: dict[str, str] = {}
    if not static_dir.is_dir():
        return hashes
    for path in sorted(static_dir.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
            hashes[path.relative_to(static_dir).as_posix()] = digest
    return hashes


def make_static_url(hashes: Mapping[str, str]) -> Any:
    """The ``static(path)`` template global; an unknown path fails loudly instead of 404ing."""

    def static(path: str) -> str:
        key = path.lstrip("/")
        try:
            digest = hashes[key]
        except KeyError:
            raise LookupError(f"static file not found: {path!r}") from None
        return f"{STATIC_PREFIX}{quote(key)}?v={digest}"

    return static


def build_templates(templates_dir: Path, static_dir: Path) -> Jinja2Templates:
    """Templates with autoescape on, undefined variables as errors, and ``static()``.

    Static hashes are computed once, here: restart (or reload the plugin) after editing a file.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates change only with the plugin (a reload builds a new environment):
        # no stat() of the file on every page view.
        auto_reload=False,
    )
    env.globals["static"] = make_static_url(hash_static_files(static_dir))
    env.globals["short_umo"] = short_id
    env.globals["tool_call_list"] = tool_call_list
    return Jinja2Templates(env=env)


def current_path(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def base_context(request: Request) -> dict[str, Any]:
    deps = app_deps(request)
    lang = pick_language(request)
    tz = panel_timezone(deps)
    path = request.url.path
    section = next((p for p, _ in NAV if path == p or path.startswith(p + "/")), "")
    if path == "/session":
        section = "/sessions"
    t = translator(lang)
    return {
        "request": request,
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "t": t,
        "reason_text": lambda reason: reason_text(str(reason), t),
        "js_reasons": REASON_TABLE,
        "js_i18n": js_strings(lang),
        "version": str(deps.version),
        "astrbot_version": str(deps.astrbot_version),
        "logged_in": bool(deps.auth.is_authenticated(request)),
        "current_path": current_path(request),
        "fmt_time": lambda ts, seconds=False: format_ts(ts, tz, seconds=seconds),
        "iso_time": lambda ts: iso_ts(ts, tz),
        "zone": zone_label(tz),
        "js_env": browser_env(tz),
        "nav": NAV,
        "section": section,
    }


async def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """Render ``name`` with the base context plus ``context``; pages are never cached.

    Names and texts from IM platforms may hold lone surrogates (half an emoji), which
    UTF-8 cannot carry: they become ``?`` instead of failing the whole page with a 500
    (JSON blocks are ``\\u``-escaped and keep them). The template is looked up in a
    worker thread: the first view of each page after a (re)load compiles it (up to 45 ms),
    which must not hold AstrBot's event loop."""
    templates = app_deps(request).templates
    assert templates is not None  # create_app builds them before any route runs
    full = base_context(request)
    full.update(context or {})
    template = await asyncio.to_thread(templates.get_template, name)
    html = template.render(full)
    return HTMLResponse(
        html.encode("utf-8", "replace"),
        status_code=status_code,
        headers={"Cache-Control": "no-store", "Vary": "Cookie, Accept-Language"},
    )
