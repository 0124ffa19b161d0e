"""The config's texts in the reader's language, from the plugin's AstrBot i18n files.

``.astrbot-plugin/i18n/zh-CN.json`` and ``en-US.json`` are the files AstrBot's dashboard
reads (``PluginManager._load_plugin_i18n``) for the plugin's card and config dialog:
``metadata`` (display_name, short_desc, desc) and ``config``, nested by config key, each
with ``description``, ``hint`` and (for a choice) ``labels``. ``_conf_schema.json`` carries
Chinese only, AstrBot's fallback for a locale without a file.

The panel's pages show the schema with these texts put in (``localized_schema``), so the
panel and AstrBot's dialog read one translation source and nothing splits strings. A
text missing from a file keeps the schema's; a file that cannot be read leaves the
schema as it is (the pages still work, in Chinese).
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from starlette.requests import Request

from ..core.constants import PLUGIN_ROOT
from .api.config import cached_schema

I18N_DIR = PLUGIN_ROOT / ".astrbot-plugin" / "i18n"
# The panel's languages -> the dashboard's locales (the file names).
LOCALES = {"zh": "zh-CN", "en": "en-US"}
TEXT_KEYS = ("description", "hint", "labels")
_STATE = "conf_schema_by_lang"  # app.state cache: {lang: localized schema}


def read_texts(lang: str) -> dict[str, Any]:
    """The whole i18n file of ``lang`` (``{}`` if it is missing or broken). Blocking."""
    path = I18N_DIR / f"{LOCALES.get(lang, LOCALES['zh'])}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def localized_schema(schema: dict[str, Any], texts: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` whose descriptions, hints and labels come from ``texts``
    (an i18n file's ``config`` part) where it has them."""
    out = copy.deepcopy(schema)
    _put_texts(out, texts)
    return out


def _put_texts(items: dict[str, Any], texts: Any) -> None:
    if not isinstance(texts, dict):
        return
    for key, entry in items.items():
        own = texts.get(key)
        if not isinstance(entry, dict) or not isinstance(own, dict):
            continue
        for name in TEXT_KEYS:
            value = own.get(name)
            if name == "labels" and not _same_length_list(value, entry.get("options")):
                continue
            if value is not None and (name == "labels" or isinstance(value, str)):
                entry[name] = value
        if entry.get("type") == "object" and isinstance(entry.get("items"), dict):
            _put_texts(entry["items"], own)


def _same_length_list(labels: Any, options: Any) -> bool:
    return isinstance(labels, list) and isinstance(options, list) and len(labels) == len(options)


async def schema_for(request: Request, lang: str) -> dict[str, Any]:
    """The schema in ``lang``, worked out once per app and language (off the loop).
    Raises as ``cached_schema`` does when the schema itself cannot be read."""
    cache: dict[str, dict[str, Any]] | None = getattr(request.app.state, _STATE, None)
    if cache is None:
        cache = {}
        setattr(request.app.state, _STATE, cache)
    if lang not in cache:
        schema = await cached_schema(request)
        texts = await asyncio.to_thread(read_texts, lang)
        cache[lang] = localized_schema(schema, texts.get("config") or {})
    return cache[lang]
