"""The Config page: rendered over the real app with a real engine (the shared rig) or with
none; the embedded JSON blocks; ``PUT /api/config`` announcing the change on the engine's
event hub so open config pages refresh."""

from __future__ import annotations

import asyncio
import json
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from harness.engine_rig import Rig
from harness.panel_app import SavedConfig, panel_client, panel_deps
from proactive_chat.core.engine.config import SCHEMA_GROUPS
from proactive_chat.core.service import ProactiveService
from proactive_chat.web.app import create_app
from proactive_chat.web.i18n import EN, ZH

PASSWORD = "Config-Page-Passw0rd-9f3c"
ROOT = Path(__file__).resolve().parents[2]
ALICE = "test:FriendMessage:alice"
ROOM = "test:GroupMessage:room1"


def raw_config() -> dict:
    return {
        "friend_settings": {
            "session_list": [ALICE],
            "schedule_settings": {"quiet_hours": "0-0", "min_interval_minutes": 45},
        },
        "group_settings": {"enable": True, "session_list": [ROOM]},
        "web_admin": {"password": PASSWORD},
    }


def build_app(service):
    deps = panel_deps(service, PASSWORD)
    return create_app(deps), deps


def client_for(app, deps, lang: str) -> httpx.AsyncClient:
    return panel_client(app, deps.auth.issue_token(), lang=lang)


@pytest.fixture
async def rigged(tmp_path, clock):
    """A service whose engine is the rig's real engine over a real store."""
    rig = Rig(tmp_path, clock, raw_config())
    await rig.start()
    service = rig.service(config=SavedConfig(raw_config()))
    try:
        yield service
    finally:
        await rig.stop()


class PageParser(HTMLParser):
    """Ids, the JSON blocks, the text and the elements of interest of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.json_blocks: dict[str, str] = {}
        self.banners: list[str] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._json_id: str | None = None
        self._banner_depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "script":
            if attrs.get("type") == "application/json":
                self._json_id = attrs.get("id")
                self.json_blocks[self._json_id] = ""
            elif attrs.get("src"):
                self.scripts.append(attrs["src"])
        if "banner" in (attrs.get("class") or "").split() and "hidden" not in attrs:
            self._banner_depth = 1
            self.banners.append("")
        elif self._banner_depth:
            self._banner_depth += 1

    def handle_endtag(self, tag):
        if tag == "script":
            self._json_id = None
        if self._banner_depth:
            self._banner_depth -= 1

    def handle_data(self, data):
        if self._json_id is not None:
            self.json_blocks[self._json_id] += data
            return
        self.text.append(data)
        if self._banner_depth:
            self.banners[-1] += data


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_page_renders_with_a_real_engine(rigged, lang):
    app, deps = build_app(rigged)
    async with client_for(app, deps, lang) as client:
        response = await client.get("/config")
    assert response.status_code == 200
    page = parse(response.text)
    assert {"config-form", "config-save", "config-revert", "config-diff", "config-dirty"} <= (
        page.ids
    )
    assert {"events-state", "config-data", "config-remote", "config-web-admin"} <= page.ids
    assert {f"config-h-{group}" for group in SCHEMA_GROUPS} <= page.ids
    assert page.banners == []
    assert any("/static/js/config.js?v=" in src for src in page.scripts)
    assert any("/static/js/schema_form.js?v=" in src for src in page.scripts)
    text = " ".join(page.text)
    table = ZH if lang == "zh" else EN
    assert table["config.intro"] in text
    assert table["config.web_admin_note"] in text
    # Group headings in the page's language, from the plugin's AstrBot i18n files.
    assert ("私聊主动消息" if lang == "zh" else "Private chats") in text
    assert ("Private chats" if lang == "zh" else "私聊主动消息") not in text

    data = json.loads(page.json_blocks["config-data"])
    assert data["lang"] == lang
    assert set(data["values"]) == set(SCHEMA_GROUPS)
    friend = data["values"]["friend_settings"]
    assert friend["session_list"] == [ALICE]
    assert friend["schedule_settings"]["min_interval_minutes"] == 45
    assert data["values"]["group_settings"]["enable"] is True


async def test_schema_block_parses_and_carries_the_servers_ranges(rigged):
    app, deps = build_app(rigged)
    async with client_for(app, deps, "en") as client:
        page = parse((await client.get("/config")).text)
        api_schema = (await client.get("/api/config/schema")).json()
    schema = json.loads(page.json_blocks["config-data"])["schema"]
    assert set(schema) == set(SCHEMA_GROUPS)  # web_admin is shown read-only, not as a form
    for group in SCHEMA_GROUPS:
        assert schema[group].keys() == api_schema[group]["items"].keys()
    schedule = schema["friend_settings"]["schedule_settings"]["items"]
    assert (schedule["min_interval_minutes"]["min"], schedule["min_interval_minutes"]["max"]) == (
        1,
        10080,
    )
    assert schema["engine_settings"]["llm_timeout_seconds"]["min"] == 5
    assert schema["group_settings"]["group_idle_trigger_minutes"]["max"] == 10080
    # The cached schema the API serves is not changed by the page's copy.
    assert "min" not in api_schema["engine_settings"]["items"]["llm_timeout_seconds"]
    mode = schema["friend_settings"]["persona_settings"]["items"]["mode"]
    assert mode["options"] == ["off", "select", "custom"]


async def test_the_form_follows_the_schemas_order(rigged):
    app, deps = build_app(rigged)
    async with client_for(app, deps, "en") as client:
        page = parse((await client.get("/config")).text)
    schema = json.loads(page.json_blocks["config-data"])["schema"]
    on_disk = json.loads(ROOT.joinpath("_conf_schema.json").read_text(encoding="utf-8-sig"))
    for group in SCHEMA_GROUPS:
        assert list(schema[group]) == list(on_disk[group]["items"])  # not sorted
    persona = schema["friend_settings"]["persona_settings"]["items"]
    assert list(persona) == ["mode", "select_persona", "custom_persona"]


async def test_config_text_cannot_end_the_json_block(rigged):
    hostile = "</script><script>alert(1)</script><!-- & 'quote'"
    rigged.config["friend_settings"]["proactive_prompt"] = hostile
    rigged.engine.settings.friend_dict["proactive_prompt"] = hostile
    app, deps = build_app(rigged)
    async with client_for(app, deps, "en") as client:
        response = await client.get("/config")
    assert "<script>alert(1)" not in response.text
    data = json.loads(parse(response.text).json_blocks["config-data"])
    assert data["values"]["friend_settings"]["proactive_prompt"] == hostile


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_page_never_contains_the_password(rigged, lang):
    app, deps = build_app(rigged)
    async with client_for(app, deps, lang) as client:
        response = await client.get("/config")
    assert response.status_code == 200
    assert PASSWORD not in response.text
    page = parse(response.text)
    data = page.json_blocks["config-data"]
    assert PASSWORD not in data
    assert "web_admin" not in json.loads(data)["schema"]
    assert (ZH if lang == "zh" else EN)["config.password_set"] in " ".join(page.text)


async def test_page_without_an_engine_shows_why(tmp_path):
    app, deps = build_app(None)
    async with client_for(app, deps, "en") as client:
        response = await client.get("/config")
    assert response.status_code == 200
    page = parse(response.text)
    assert len(page.banners) == 1
    assert "not loaded" in page.banners[0]
    assert "config-data" not in page.json_blocks
    assert "config-form" not in page.ids
    assert "events-state" in page.ids
    assert PASSWORD not in response.text


async def test_page_with_a_stopped_engine_still_edits_the_config(tmp_path):
    service = ProactiveService(
        context=object(), config=SavedConfig(raw_config()), data_dir=tmp_path
    )
    service.problem = "the store cannot be opened"
    app, deps = build_app(service)
    async with client_for(app, deps, "en") as client:
        response = await client.get("/config")
    page = parse(response.text)
    assert any("the store cannot be opened" in banner for banner in page.banners)
    data = json.loads(page.json_blocks["config-data"])
    assert data["values"]["friend_settings"]["session_list"] == [ALICE]
    assert "config-form" in page.ids


async def test_put_config_announces_the_change(rigged):
    app, deps = build_app(rigged)
    subscription = rigged.engine.events.subscribe()
    try:
        async with client_for(app, deps, "en") as client:
            bad = await client.put("/api/config", json={"engine_settings": {"nope": 1}})
            assert bad.status_code == 400
            assert subscription.queue.empty()  # nothing changed: nothing announced
            response = await client.put(
                "/api/config", json={"engine_settings": {"missed_window_minutes": 15}}
            )
        assert response.status_code == 200, response.text
        event = await asyncio.wait_for(subscription.get(), 2)
        while event.get("type") != "config":  # the engine may publish session changes too
            event = await asyncio.wait_for(subscription.get(), 2)
        assert event == {"type": "config"}
        assert rigged.config.saves == 1
    finally:
        subscription.close()


async def test_put_config_without_an_engine_still_saves(tmp_path):
    service = ProactiveService(
        context=object(), config=SavedConfig(raw_config()), data_dir=tmp_path
    )
    app, deps = build_app(service)
    async with client_for(app, deps, "en") as client:
        response = await client.put(
            "/api/config", json={"engine_settings": {"journal_keep_days": 9}}
        )
    assert response.status_code == 200, response.text
    assert service.config.saves == 1
