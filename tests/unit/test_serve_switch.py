"""Serving a chat is listing it: ``ProactiveService.set_served`` writes the kind's
``session_list`` back through ``update_config`` (saved, applied at once), and
``/proactive on|off|status`` (main.py, texts in core/command_texts.py) use it and say
what the panel says. The real command through AstrBot: tests/host/test_serve_host.py."""

from __future__ import annotations

import asyncio
import json

import pytest

from harness.engine_rig import FRIEND, GROUP, OTHER_FRIEND, Rig, engine_config
from proactive_chat.core.command_texts import status_text, switch_reply
from proactive_chat.core.engine.serving import session_list_with
from proactive_chat.core.service import ProactiveService


class SavedConfig(dict):
    """Stands for AstrBotConfig: ``save_config()`` writes the file AstrBot reads."""

    def __init__(self, path, *args, fail: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.path, self.fail, self.saves = path, fail, 0

    def save_config(self) -> None:
        if self.fail:
            raise OSError("disk full")
        self.saves += 1
        self.path.write_text(json.dumps(self), encoding="utf-8")

    def saved(self) -> dict:
        return json.loads(self.path.read_text(encoding="utf-8"))


@pytest.fixture
async def served(tmp_path, clock):
    """(rig, service, config): the engine rig with a service whose config saves a file."""
    from harness.engine_rig import START

    clock.now = START
    config = SavedConfig(tmp_path / "config.json", engine_config())
    rig = Rig(tmp_path, clock, config)
    await rig.start()
    try:
        yield rig, rig.service(config=config), config
    finally:
        await rig.stop()


def test_the_list_gains_the_full_id_and_loses_it_with_its_bare_id():
    assert session_list_with([FRIEND], OTHER_FRIEND, True) == ([FRIEND, OTHER_FRIEND], [])
    assert session_list_with([FRIEND], FRIEND, True) == ([FRIEND], [])
    assert session_list_with(["bob"], OTHER_FRIEND, True) == (["bob"], [])  # listed already
    assert session_list_with([FRIEND, "bob", OTHER_FRIEND], OTHER_FRIEND, False) == (
        [FRIEND],
        ["bob"],
    )
    assert session_list_with([FRIEND], OTHER_FRIEND, False) == ([FRIEND], [])


async def test_serving_a_seen_chat_saves_the_list_and_plans_at_once(served, clock):
    rig, service, config = served
    engine = rig.engine
    engine.on_user_message(OTHER_FRIEND, "Bob")
    assert not engine.is_served(OTHER_FRIEND)
    view = engine.session_view(engine.sessions[OTHER_FRIEND])
    assert view["serve"]["why"] == "not_listed" and view["why_no_plan"] is None

    outcome = await service.set_served(OTHER_FRIEND, True)
    assert outcome.served and outcome.changed and not outcome.refused
    assert config.saved()["friend_settings"]["session_list"] == [FRIEND, OTHER_FRIEND]
    assert engine.is_served(OTHER_FRIEND)
    state = engine.sessions[OTHER_FRIEND]
    assert state.phase == "planned" and state.next_reason == "newly_listed"
    assert engine.session_view(state)["serve"]["why"] == "listed"

    outcome = await service.set_served(OTHER_FRIEND, False)
    assert not outcome.served and outcome.changed
    assert config.saved()["friend_settings"]["session_list"] == [FRIEND]
    assert not engine.is_served(OTHER_FRIEND) and state.phase == "idle"


async def test_serving_twice_changes_nothing_the_second_time(served):
    _rig, service, config = served
    assert (await service.set_served(FRIEND, True)).changed is False
    assert config.saves == 0


async def test_two_switches_at_once_both_land(served):
    _rig, service, config = served
    other = "test:FriendMessage:carol"
    await asyncio.gather(service.set_served(OTHER_FRIEND, True), service.set_served(other, True))
    assert sorted(config.saved()["friend_settings"]["session_list"]) == sorted(
        [FRIEND, OTHER_FRIEND, other]
    )


async def test_a_switched_off_kind_is_refused_and_nothing_changes(tmp_path, clock):
    raw = engine_config()
    raw["group_settings"]["enable"] = False
    raw["group_settings"]["session_list"] = []
    config = SavedConfig(tmp_path / "config.json", raw)
    rig = Rig(tmp_path, clock, config)
    await rig.start()
    try:
        rig.engine.on_user_message(GROUP, "G")
        view = rig.engine.session_view(rig.engine.sessions[GROUP])
        assert view["serve"]["why"] == "kind_off" and not view["serve"]["kind_enabled"]
        outcome = await rig.service(config=config).set_served(GROUP, True)
        assert outcome.refused == "kind_off" and not outcome.served
        assert config.saves == 0 and config["group_settings"]["session_list"] == []
    finally:
        await rig.stop()


async def test_a_failed_save_is_an_error_and_loses_nothing(tmp_path, clock):
    config = SavedConfig(tmp_path / "config.json", engine_config(), fail=True)
    rig = Rig(tmp_path, clock, config)
    await rig.start()
    try:
        rig.engine.on_user_message(OTHER_FRIEND, "Bob")
        with pytest.raises(OSError):
            await rig.service(config=config).set_served(OTHER_FRIEND, True)
        assert config["friend_settings"]["session_list"] == [FRIEND]
        assert not rig.engine.is_served(OTHER_FRIEND)
    finally:
        await rig.stop()


async def test_an_old_enable_override_is_shown_and_the_switch_replaces_it(served):
    rig, service, _config = served
    engine = rig.engine
    engine.on_user_message(OTHER_FRIEND, "Bob")
    await engine.set_override(OTHER_FRIEND, {"enable": True, "proactive_prompt": "hi"})
    view = engine.session_view(engine.sessions[OTHER_FRIEND])
    assert view["served"] and view["serve"]["why"] == "override_on"
    assert not view["serve"]["listed"]

    outcome = await service.set_served(OTHER_FRIEND, True)
    assert outcome.dropped_override and outcome.changed
    assert engine.overrides[OTHER_FRIEND] == {"proactive_prompt": "hi"}
    assert engine.is_served(OTHER_FRIEND)

    await engine.set_override(OTHER_FRIEND, {"enable": False})
    assert engine.session_view(engine.sessions[OTHER_FRIEND])["serve"]["why"] == "override_off"
    outcome = await service.set_served(OTHER_FRIEND, True)
    assert outcome.dropped_override and OTHER_FRIEND not in engine.overrides
    assert engine.is_served(OTHER_FRIEND)


# -- the commands (main.py calls these) ---------------------------------------------------
class Commands:
    """``/proactive on|off|status`` as main.py answers them, without AstrBot."""

    def __init__(self, service: ProactiveService) -> None:
        self.service = service

    async def switch(self, umo: str, served: bool) -> str:
        try:
            outcome = await self.service.set_served(umo, served)
        except OSError as exc:
            return f"Failed, the config is unchanged: {exc}"
        return switch_reply(self.service.engine, umo, outcome)

    def status(self, umo: str) -> str:
        return status_text(self.service.engine, umo)


async def test_proactive_on_and_off_write_the_list_and_status_says_why(served):
    rig, service, config = served
    commands = Commands(service)
    rig.engine.on_user_message(OTHER_FRIEND, "Bob")
    status = commands.status(OTHER_FRIEND)
    assert "not served" in status and "friend_settings.session_list" in status
    assert "/proactive on" in status and "Serve" in status

    reply = await commands.switch(OTHER_FRIEND, True)
    assert "served list" in reply and "next" in reply.lower()
    assert OTHER_FRIEND in config.saved()["friend_settings"]["session_list"]
    assert OTHER_FRIEND not in rig.engine.overrides  # a list entry, not an override
    status = commands.status(OTHER_FRIEND)
    assert "this chat is served" in status and "on the served list" in status
    assert "next:" in status  # the plan the switch made

    reply = await commands.switch(OTHER_FRIEND, False)
    assert "off the served list" in reply
    assert OTHER_FRIEND not in config.saved()["friend_settings"]["session_list"]
    assert "not served" in commands.status(OTHER_FRIEND)


async def test_proactive_on_in_a_switched_off_kind_points_to_config(tmp_path, clock):
    raw = engine_config()
    raw["group_settings"]["enable"] = False
    config = SavedConfig(tmp_path / "config.json", raw)
    rig = Rig(tmp_path, clock, config)
    await rig.start()
    try:
        commands = Commands(rig.service(config=config))
        reply = await commands.switch(GROUP, True)
        assert "group_settings.enable" in reply and "Config" in reply
        assert config.saves == 0
        assert "group_settings.enable" in commands.status(GROUP)
    finally:
        await rig.stop()


async def test_an_old_override_is_named_in_the_status(served):
    rig, service, _config = served
    rig.engine.on_user_message(OTHER_FRIEND, "Bob")
    await rig.engine.set_override(OTHER_FRIEND, {"enable": False})
    status = Commands(service).status(OTHER_FRIEND)
    assert "own settings switch it off" in status and "/proactive on" in status


# -- the panel's switch: PUT /api/sessions/{umo}/served --------------------------------------
async def test_the_api_switch_serves_and_answers_the_plan(served):
    from urllib.parse import quote

    from harness.panel_app import panel_client, panel_deps
    from proactive_chat.web.app import create_app

    rig, service, config = served
    rig.engine.on_user_message(OTHER_FRIEND, "Bob")
    deps = panel_deps(service, "Serve-Api-Passw0rd")
    async with panel_client(create_app(deps), deps.auth.issue_token()) as client:
        url = f"/api/sessions/{quote(OTHER_FRIEND, safe='')}/served"
        answer = await client.put(url, json={"served": True})
        assert answer.status_code == 200, answer.text
        view = answer.json()
        assert view["served"] and view["phase"] == "planned" and view["next_at"]
        assert view["serve"] == {
            "served": True,
            "listed": True,
            "kind_enabled": True,
            "override": None,
            "why": "listed",
            "group": "friend_settings",
        }
        assert OTHER_FRIEND in config.saved()["friend_settings"]["session_list"]

        answer = await client.put(url, json={"served": False})
        assert answer.status_code == 200 and not answer.json()["served"]
        assert answer.json()["serve"]["why"] == "not_listed"

        unknown = f"/api/sessions/{quote('test:FriendMessage:nobody', safe='')}/served"
        assert (await client.put(unknown, json={"served": True})).status_code == 404
        assert (await client.put(url, json={"served": "yes please"})).status_code == 400


async def test_the_api_switch_refuses_a_switched_off_kind(tmp_path, clock):
    from urllib.parse import quote

    from harness.panel_app import panel_client, panel_deps
    from proactive_chat.web.app import create_app

    raw = engine_config()
    raw["group_settings"]["enable"] = False
    config = SavedConfig(tmp_path / "config.json", raw)
    rig = Rig(tmp_path, clock, config)
    await rig.start()
    try:
        rig.engine.on_user_message(GROUP, "G")
        deps = panel_deps(rig.service(config=config), "Serve-Api-Passw0rd")
        async with panel_client(create_app(deps), deps.auth.issue_token()) as client:
            answer = await client.put(
                f"/api/sessions/{quote(GROUP, safe='')}/served", json={"served": True}
            )
        assert answer.status_code == 409 and answer.json()["error"] == "kind_off"
        assert "group_settings.enable" in answer.json()["message"]
        assert config.saves == 0
    finally:
        await rig.stop()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_pages_render_a_labelled_switch_and_what_happens_next(served, lang):
    from harness.panel_app import panel_client, panel_deps
    from proactive_chat.web.app import create_app
    from proactive_chat.web.i18n import translator

    t = translator(lang)
    rig, service, _config = served
    rig.engine.on_user_message(OTHER_FRIEND, "Bob")
    rig.engine.on_user_message(FRIEND, "Alice")
    deps = panel_deps(service, "Serve-Page-Passw0rd")
    async with panel_client(create_app(deps), deps.auth.issue_token(), lang=lang) as client:
        html = (await client.get("/sessions")).text
        assert f'data-serve="{OTHER_FRIEND}"' in html and f'data-serve="{FRIEND}"' in html
        assert t("serve.switch_label", name="Bob") in html
        page = (await client.get("/session", params={"umo": OTHER_FRIEND})).text
        assert 'id="serve-box"' in page and 'role="switch"' in page
        assert t("serve.why.not_listed", group="friend_settings") in page
        page = (await client.get("/session", params={"umo": FRIEND})).text
        assert t("serve.why.listed", group="friend_settings") in page
        assert t("serve.next.planned") in page  # the plan, at once
