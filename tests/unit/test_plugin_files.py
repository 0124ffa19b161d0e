"""The files AstrBot reads: metadata.yaml, _conf_schema.json, requirements.txt."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from proactive_chat.core.constants import PLUGIN_NAME, PLUGIN_VERSION
from proactive_chat.web.settings import WebAdminSettings, parse_web_admin

ROOT = Path(__file__).resolve().parents[2]


def test_metadata_names_the_plugin_and_quotes_its_version():
    text = (ROOT / "metadata.yaml").read_text(encoding="utf-8")
    meta = yaml.safe_load(text)
    for key in ("name", "display_name", "desc", "version", "author", "repo", "astrbot_version"):
        assert meta.get(key), key
    assert meta["name"] == PLUGIN_NAME
    assert meta["version"] == PLUGIN_VERSION
    assert re.search(r'^version: "[^"]+"$', text, re.M), "version must be quoted"


def test_schema_describes_every_web_admin_key_in_chinese_with_a_hint():
    schema = json.loads((ROOT / "_conf_schema.json").read_text(encoding="utf-8"))
    items = schema["web_admin"]["items"]
    assert set(items) >= {"enabled", "host", "port", "password", "allowed_hosts"}
    for key, item in items.items():
        assert re.search(r"[\u4e00-\u9fff]", item["description"]), key
        assert item.get("hint"), key
        assert item["type"] in {"bool", "string", "int", "list"}, key


def test_schema_defaults_are_the_settings_defaults():
    schema = json.loads((ROOT / "_conf_schema.json").read_text(encoding="utf-8"))
    defaults = {key: item["default"] for key, item in schema["web_admin"]["items"].items()}
    settings, problems = parse_web_admin(defaults)
    assert problems == []
    assert settings == WebAdminSettings()
    assert (defaults["host"], defaults["port"], defaults["password"]) == ("127.0.0.1", 4100, "")


def test_requirements_pin_nothing_astrbot_already_brings():
    lines = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    ]
    names = {re.split(r"[<>=!~\[ ]", line)[0].lower() for line in lines if line}
    assert names == {"uvicorn", "jinja2"}
