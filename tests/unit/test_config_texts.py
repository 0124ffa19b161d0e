"""The config's texts: one language in _conf_schema.json (Chinese, AstrBot's fallback),
both in the plugin's AstrBot i18n files, which the panel's pages read too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.engine_rig import Rig
from harness.panel_app import SavedConfig, panel_client, panel_deps
from proactive_chat.web.app import create_app
from proactive_chat.web.config_texts import I18N_DIR, LOCALES, localized_schema, read_texts

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Config-Texts-Passw0rd-7"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def schema() -> dict:
    return json.loads((ROOT / "_conf_schema.json").read_text(encoding="utf-8-sig"))


def fields(items: dict, prefix: str = ""):
    """(dotted path, entry) of every schema entry, objects too."""
    for key, entry in items.items():
        yield f"{prefix}{key}", entry
        if entry.get("type") == "object":
            yield from fields(entry["items"], f"{prefix}{key}.")


def lookup(texts: dict, path: str) -> dict:
    """``config.<path>`` as AstrBot's dashboard resolves it (split on dots)."""
    node = texts["config"]
    for part in path.split("."):
        node = node[part]
    return node


def test_the_files_are_where_astrbot_looks_and_name_the_dashboards_locales():
    assert I18N_DIR == ROOT / ".astrbot-plugin" / "i18n"
    assert sorted(p.name for p in I18N_DIR.glob("*.json")) == ["en-US.json", "zh-CN.json"]
    assert set(LOCALES.values()) == {"zh-CN", "en-US"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_field_has_its_texts_in_one_language(lang):
    texts = read_texts(lang)
    meta = texts["metadata"]
    assert {"display_name", "short_desc", "desc"} <= set(meta)
    assert len(meta["display_name"]) <= 16  # fits the dashboard's plugin card
    for path, entry in fields(schema()):
        own = lookup(texts, path)
        for name in ("description", "hint"):
            if entry.get(name):
                text = own[name]
                assert text and " / " not in text, (path, name)
                assert bool(CJK.search(text)) == (lang == "zh"), (path, name, text)
        if "labels" in entry:
            assert len(own["labels"]) == len(entry["options"]), path
            assert all(bool(CJK.search(label)) == (lang == "zh") for label in own["labels"])


def test_the_schema_carries_the_chinese_texts_only():
    zh = read_texts("zh")
    for path, entry in fields(schema()):
        own = lookup(zh, path)
        for name in ("description", "hint", "labels"):
            if name in entry:
                assert entry[name] == own[name], (path, name)


def test_the_localized_schema_takes_each_text_and_keeps_the_rest():
    raw = {
        "g": {
            "description": "组",
            "type": "object",
            "items": {
                "mode": {"description": "模式", "type": "string", "options": ["a", "b"]},
                "n": {"description": "数", "type": "int", "default": 3},
            },
        }
    }
    texts = {
        "g": {
            "description": "Group",
            "mode": {"description": "Mode", "labels": ["A", "B"]},
            "n": {"labels": ["wrong length"]},
        }
    }
    out = localized_schema(raw, texts)
    assert out["g"]["description"] == "Group"
    assert out["g"]["items"]["mode"] == {
        "description": "Mode",
        "type": "string",
        "options": ["a", "b"],
        "labels": ["A", "B"],
    }
    assert out["g"]["items"]["n"] == raw["g"]["items"]["n"]
    assert raw["g"]["description"] == "组"  # the cached schema is never changed


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_schema_api_answers_in_one_language_for_the_override_editor(
    tmp_path, clock, lang
):
    rig = Rig(tmp_path, clock)
    await rig.start()
    try:
        service = rig.service(config=SavedConfig(rig.raw_config))
        deps = panel_deps(service, PASSWORD)
        app = create_app(deps)
        async with panel_client(app, deps.auth.issue_token(), lang=lang) as client:
            localized = (await client.get(f"/api/config/schema?lang={lang}")).json()
            raw = (await client.get("/api/config/schema")).json()
            bad = await client.get("/api/config/schema?lang=fr")
    finally:
        await rig.stop()
    title = localized["friend_settings"]["description"]
    assert title == ("私聊主动消息" if lang == "zh" else "Private chats")
    assert raw["friend_settings"]["description"] == "私聊主动消息"
    assert "default" not in localized["web_admin"]["items"]["password"]
    assert bad.status_code == 400
