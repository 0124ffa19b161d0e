"""What AstrBot's dashboard shows of the plugin, read by AstrBot's own loader: the card
(logo, names, short description, platforms) and the config dialog's texts per locale.

The dialog's texts are resolved as the dashboard's ``configText`` does (the plugin's
i18n of the current locale, ``config.<dotted key>.<attr>``, else the schema's text), so
each locale shows one language, fully.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.host

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _resolve(texts: dict, dotted: str):
    node = texts
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _dialog_texts(schema: dict, i18n: dict, prefix: str = ""):
    """(key, attr, text shown) for every description, hint and label of the dialog."""
    for key, entry in schema.items():
        path = f"{prefix}{key}"
        for attr in ("description", "hint", "labels"):
            if attr in entry:
                shown = _resolve(i18n, f"config.{path}.{attr}")
                yield path, attr, entry[attr] if shown is None else shown
        if entry.get("type") == "object":
            yield from _dialog_texts(entry["items"], i18n, f"{path}.")


async def test_the_dashboard_shows_one_language_per_locale(host) -> None:
    from astrbot.dashboard.services.config_service import ConfigDisplayService

    metadata = host.metadata()
    assert set(metadata.i18n) == {"zh-CN", "en-US"}
    # What GET /api/plugins/{name}/config answers (the method uses no state of the service).
    body = ConfigDisplayService.__new__(ConfigDisplayService).get_plugin_config(host.plugin_name)
    assert body["i18n"] is metadata.i18n
    schema = metadata.config.schema
    for locale, chinese in (("zh-CN", True), ("en-US", False)):
        shown = list(_dialog_texts(schema, metadata.i18n[locale]))
        assert len(shown) > 150
        for path, attr, text in shown:
            for piece in text if isinstance(text, list) else [text]:
                assert " / " not in piece, (locale, path, attr, piece)
                assert bool(CJK.search(piece)) == chinese, (locale, path, attr, piece)
        meta = metadata.i18n[locale]["metadata"]
        assert meta["display_name"] == ("主动消息" if chinese else "Proactive Chat")


async def test_the_plugin_card(host) -> None:
    metadata = host.metadata()
    assert metadata.display_name == "主动消息"
    assert metadata.short_desc and len(metadata.short_desc) < 40
    assert "aiocqhttp" in metadata.support_platforms
    assert metadata.logo_path and Path(metadata.logo_path).name == "logo.png"
    assert metadata.astrbot_version == ">=4.29.3"
