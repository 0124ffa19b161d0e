"""The learned habits on the panel: ``GET /api/sessions/{umo}/habits`` (behind login)
and the week heat-map on the session page, in both languages."""

from __future__ import annotations

import re
from datetime import UTC
from urllib.parse import quote

import pytest

from harness.engine_rig import Rig
from harness.panel_app import panel_client, panel_deps
from proactive_chat.core.engine.habits import HabitProfile
from proactive_chat.core.engine.local_hours import LocalHours
from proactive_chat.web.app import create_app

ALICE = "test:FriendMessage:alice"
NOW = 1_700_000_000.0
DAY = 86_400.0


def raw_config() -> dict:
    return {
        "friend_settings": {
            "session_list": [ALICE],
            "schedule_settings": {"quiet_hours": "0-0", "max_unanswered_times": 3},
        },
    }


def seeded(hours_of_day: range, days: int = 14, until: float = NOW) -> HabitProfile:
    """Someone who wrote in each of ``hours_of_day`` (UTC) on the ``days`` days before."""
    hours = LocalHours(UTC)
    first = until - until % DAY - days * DAY
    profile = HabitProfile(first)
    for day in range(days):
        for hour in hours_of_day:
            at = first + day * DAY + hour * 3600 + 60
            profile.note_active(hours.hour(at), at)
    return profile


@pytest.fixture
async def site(tmp_path, clock):
    clock.now = NOW
    rig = Rig(tmp_path, clock, raw_config())
    await rig.start()
    deps = panel_deps(rig.service(), "Habits-Page-Passw0rd")
    client = panel_client(create_app(deps), deps.auth.issue_token())
    try:
        async with client:
            yield rig, client
    finally:
        await rig.stop()


async def test_the_api_answers_the_profile(site):
    rig, client = site
    path = f"/api/sessions/{quote(ALICE, safe='')}/habits"
    assert (await client.get(path)).status_code == 404  # no such session yet
    rig.engine.on_user_message(ALICE, "Alice")
    body = (await client.get(path)).json()
    assert body["learned"] and body["enabled"] and not body["enough_history"]
    assert len(body["active"]) == 168 and sum(body["active"]) == 1.0
    assert body["weights"] is None
    rig.engine.habits[ALICE] = seeded(range(8, 23), until=NOW)
    body = (await client.get(path)).json()
    assert body["enough_history"] and len(body["weights"]) == 168
    assert body["sleep"] == "23–08"
    client.cookies.clear()
    client.headers.pop("Authorization", None)
    assert (await client.get(path)).status_code == 401


@pytest.mark.parametrize(("lang", "word"), [("en", "Mon"), ("zh", "周一")])
async def test_the_session_page_shows_a_week_heat_map(site, lang, word):
    rig, client = site
    rig.engine.on_user_message(ALICE, "Alice")
    rig.engine.habits[ALICE] = seeded(range(8, 23), until=NOW)
    client.cookies.set("pc_lang", lang)
    response = await client.get("/session", params={"umo": ALICE})
    assert response.status_code == 200
    cell = r'<span class="hm-cell hm-(\d)( hm-asleep)?" role="img" title="([^"]*)"'
    cells = re.findall(cell, response.text)
    assert len(cells) == 7 * 24
    assert all(text.startswith(word) for _, _, text in cells[:24])
    assert sum(1 for _, asleep, _ in cells if asleep) == 7 * 9  # 23:00-08:00 every day
    assert max(int(level) for level, _, _ in cells) == 4
    assert 'id="habits-sleep"' in response.text


async def test_a_session_with_nothing_learned_says_so(site):
    rig, client = site
    rig.engine.on_user_message(ALICE, "Alice")
    rig.engine.habits.clear()
    response = await client.get("/session", params={"umo": ALICE})
    assert 'id="habits-none"' in response.text
