"""The "see it before it happens" API end to end: the real app over httpx, a real engine
and store, a scripted model (harness/engine_rig.py). Preview, draft and the forward
view need the login, know unknown sessions (404), and never send."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from harness.engine_rig import RecordingSender, ScriptedComposer
from harness.panel_app import SavedConfig, panel_client, panel_deps, start_service
from proactive_chat.web.app import create_app

PASSWORD = "Foresight-Api-Passw0rd"
ALICE = "test:FriendMessage:alice"
BOB = "test:FriendMessage:bob"
ROOM = "test:GroupMessage:room1"


def plugin_config() -> SavedConfig:
    return SavedConfig(
        {
            "friend_settings": {
                "session_list": [ALICE, BOB],
                "schedule_settings": {"quiet_hours": "0-0"},
            },
            "group_settings": {"enable": True, "session_list": [ROOM]},
            "web_admin": {"password": PASSWORD},
        }
    )


@pytest.fixture
async def api(tmp_path):
    composer, sender = ScriptedComposer(default="Hi there", provider_id="prov-1"), RecordingSender()
    service = await start_service(tmp_path, plugin_config(), composer, sender)
    deps = panel_deps(service, PASSWORD)
    app = create_app(deps)
    try:
        async with panel_client(app, deps.auth.issue_token()) as client:
            client.app, client.engine, client.sender = app, service.engine, sender
            client.composer = composer
            yield client
    finally:
        await service.stop()


def path_of(umo: str, suffix: str) -> str:
    return f"/api/sessions/{quote(umo, safe='')}{suffix}"


async def test_the_routes_need_the_login(api):
    api.engine.on_user_message(ALICE, "Alice")
    async with panel_client(api.app, None) as anonymous:
        for method, path in (
            ("GET", path_of(ALICE, "/preview")),
            ("POST", path_of(ALICE, "/draft")),
            ("GET", path_of(ALICE, "/forecast")),
            ("GET", "/api/forecast"),
        ):
            response = await anonymous.request(method, path)
            assert response.status_code == 401, (method, path)
    assert api.composer.calls == []


async def test_unknown_sessions_are_404_and_bad_ids_400(api):
    for method, suffix in (("GET", "/preview"), ("POST", "/draft"), ("GET", "/forecast")):
        assert (await api.request(method, path_of(BOB, suffix))).status_code == 404
        assert (await api.request(method, path_of("nonsense", suffix))).status_code == 400
    assert (await api.get(path_of(ALICE, "/forecast?days=99"))).status_code == 400


async def test_preview_masks_secrets(api):
    api.engine.on_user_message(ALICE, "api_key=sk-abcdefghijklmnop1234")
    view = (await api.get(path_of(ALICE, "/preview"))).json()
    assert [m["role"] for m in view["messages"]] == ["system", "user", "user"]
    assert "sk-abcdefghijklmnop1234" not in str(view) and "***" in view["prompt"]
    assert PASSWORD not in str(view)


async def test_draft_writes_and_never_sends(api):
    api.engine.on_user_message(ALICE, "Alice")
    response = await api.post(path_of(ALICE, "/draft"))
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["ok"] and draft["text"] == "Hi there" and draft["provider"] == "prov-1"
    assert api.sender.sent == []
    assert api.engine.sessions[ALICE].unanswered == 0


async def test_forecast_of_one_and_of_all(api):
    api.engine.on_user_message(ALICE, "Alice")
    api.engine.on_user_message(ROOM, "Room")
    one = (await api.get(path_of(ALICE, "/forecast?days=7"))).json()
    assert one["speaks"][0]["at"] == api.engine.sessions[ALICE].next_at
    assert one["gaps"][-1]["reasons"] == ["capped"] and "from" in one["gaps"][0]
    page = (await api.get("/api/forecast?days=7&size=1")).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["days"] == 7
    assert (await api.get("/api/forecast?size=51")).status_code == 400
    assert api.sender.sent == []


async def test_the_view_of_all_stays_responsive_with_100k_sessions(api):
    """The walk over every session yields to the loop a chunk at a time; only the page's
    sessions are simulated."""
    import asyncio
    import time

    from harness.panel_app import seed_sessions

    seed_sessions(api.engine, 100_000, time.time())
    api.engine.on_user_message(ALICE, "Alice")
    stalls: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            stalls.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    try:
        page = (await api.get("/api/forecast?size=50")).json()
    finally:
        task.cancel()
    assert page["total"] == 1 and page["items"][0]["umo"] == ALICE
    assert max(stalls) < 0.5, max(stalls)  # generous: the machine is shared
