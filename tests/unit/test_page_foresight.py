"""The Upcoming page and the session page's preview/draft/next-days section render in
both languages behind the login; the scripts they load exist (the browser test drives
them: tests/browser/test_panel_foresight.py)."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from harness.engine_rig import RecordingSender, ScriptedComposer
from harness.panel_app import SavedConfig, panel_client, panel_deps, start_service
from proactive_chat.web.app import create_app
from proactive_chat.web.i18n import translator

PASSWORD = "Foresight-Page-Passw0rd"
ALICE = "test:FriendMessage:alice"


@pytest.fixture
async def site(tmp_path):
    config = SavedConfig(
        {"friend_settings": {"session_list": [ALICE]}, "web_admin": {"password": PASSWORD}}
    )
    service = await start_service(tmp_path, config, ScriptedComposer(), RecordingSender())
    deps = panel_deps(service, PASSWORD)
    app = create_app(deps)
    try:
        async with panel_client(app, deps.auth.issue_token()) as client:
            client.app, client.engine = app, service.engine
            yield client
    finally:
        await service.stop()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_upcoming_page_and_nav(site, lang):
    t = translator(lang)
    site.cookies.set("pc_lang", lang)
    response = await site.get("/upcoming")
    assert response.status_code == 200
    html = response.text
    assert t("fs.up.title") in html and t("fs.fc.assume") in html
    assert 'href="/upcoming" aria-current="page"' in html
    assert "js/upcoming.js" in html and "js/foresight.js" in html


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_session_page_has_the_section(site, lang):
    t = translator(lang)
    site.engine.on_user_message(ALICE, "Alice")
    site.cookies.set("pc_lang", lang)
    response = await site.get(f"/session?umo={quote(ALICE, safe='')}")
    assert response.status_code == 200
    html = response.text
    for key in ("fs.preview.title", "fs.draft.button", "fs.preview.show"):
        assert t(key) in html
    assert 'id="foresight"' in html and "js/session_foresight.js" in html


async def test_the_page_needs_the_login(site):
    async with panel_client(site.app, None) as anonymous:
        response = await anonymous.get("/upcoming", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_the_scripts_are_served(site):
    for name in ("foresight.js", "session_foresight.js", "upcoming.js"):
        assert (await site.get(f"/static/js/{name}")).status_code == 200
    assert (await site.get("/static/css/foresight.css")).status_code == 200
