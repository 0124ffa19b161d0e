"""The files AstrBot reads: metadata.yaml, _conf_schema.json, requirements.txt."""

from __future__ import annotations

import json
import re
import struct
import tomllib
from pathlib import Path

import yaml

from proactive_chat.core.constants import PLUGIN_NAME, PLUGIN_VERSION
from proactive_chat.web.settings import WebAdminSettings, parse_web_admin

ROOT = Path(__file__).resolve().parents[2]


def test_metadata_names_the_plugin_and_quotes_its_version():
    text = (ROOT / "metadata.yaml").read_text(encoding="utf-8")
    meta = yaml.safe_load(text)
    keys = ("name", "display_name", "short_desc", "desc", "version", "author", "repo")
    for key in (*keys, "astrbot_version", "support_platforms"):
        assert meta.get(key), key
    assert meta["name"] == PLUGIN_NAME
    assert meta["version"] == PLUGIN_VERSION
    assert re.search(r'^version: "[^"]+"$', text, re.M), "version must be quoted"
    assert len(meta["display_name"]) <= 8, "the dashboard's card cuts a longer title"
    assert all(isinstance(p, str) and p for p in meta["support_platforms"])


def test_one_version_read_by_the_rest():
    """metadata.yaml holds the version; core/constants.py reads it; pyproject.toml equals it."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == PLUGIN_VERSION != "unknown"
    constants = (ROOT / "core" / "constants.py").read_text(encoding="utf-8")
    assert PLUGIN_VERSION not in constants  # read, not written twice


def test_astrbot_version_floor_is_the_tested_version():
    """The floor in metadata.yaml is the AstrBot the tests install and the README names."""
    meta = yaml.safe_load((ROOT / "metadata.yaml").read_text(encoding="utf-8"))
    dev = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    tested = re.search(r"^astrbot==(\S+)", dev, re.M)
    assert tested, "requirements-dev.txt pins the tested AstrBot"
    assert meta["astrbot_version"] == f">={tested.group(1)}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"AstrBot {tested.group(1)}" in readme


def test_logo_is_a_256_square_png():
    data = (ROOT / "logo.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (256, 256)


def test_security_fields_have_an_obvious_hint_and_the_panel_is_linked():
    schema = json.loads((ROOT / "_conf_schema.json").read_text(encoding="utf-8"))
    web = schema["web_admin"]
    for key in ("host", "password", "allowed_hosts"):
        assert web["items"][key].get("obvious_hint") is True, key
    # Field hints are rendered as Markdown by the dashboard: the address becomes a link.
    assert "http://127.0.0.1:4100/" in web["items"]["enabled"]["hint"]


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


def test_uvicorn_is_bounded_to_the_tested_versions():
    """We subclass uvicorn's internals: requirements.txt admits the installed (tested)
    version and no later minor one."""
    from importlib.metadata import version

    from packaging.requirements import Requirement
    from packaging.version import Version

    reqs = {
        r.name.lower(): r
        for r in (
            Requirement(line.split("#")[0].strip())
            for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
            if line.split("#")[0].strip()
        )
    }
    uvicorn = reqs["uvicorn"].specifier
    installed = Version(version("uvicorn"))
    assert installed in uvicorn
    assert Version(f"{installed.major}.{installed.minor + 1}") not in uvicorn
    assert Version(version("jinja2")) in reqs["jinja2"].specifier
