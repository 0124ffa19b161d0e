"""The Serve switch (issue 14) in Debian's headless Chromium against a real AstrBot core
(in-process; see test_panel_first_hour.py for the rig): a chat the bot has seen but does
not serve appears in Sessions, is served with one click on its labelled switch (a row on
a desktop, a card on a phone), and at once shows its plan there and on its page; the
switch on the session page turns it off and on again, and the list AstrBot holds follows.

Artifacts (``test-artifacts/``): ``page-serve-<sessions|session>-<desktop|phone>-<en|zh>.png``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from harness import panel_browser as pb

pytestmark = [pytest.mark.browser, pytest.mark.host]

PHONE = {"width": 390, "height": 844}
SIZES = (("desktop", pb.DESKTOP), ("phone", PHONE))
LANGS = (("en", "en-US"), ("zh", "zh-CN"))
SWITCH_NAME = {"en": "Serve this chat: {name}", "zh": "服务此会话：{name}"}


def friend_list(rig: pb.PanelRig) -> list[str]:
    return list(rig.host.plugin_instance().config["friend_settings"]["session_list"])


async def newcomer(rig: pb.PanelRig, name: str) -> str:
    """A chat that wrote to the bot once and is not on the served list."""
    from harness import stand_ins

    user = stand_ins.unique_id("n")
    await rig.im.inject_and_wait("hi, anyone?", sender_id=user, sender_name=name)
    umo = rig.im.umo_for(sender_id=user)
    assert umo in rig.engine.sessions and not rig.engine.is_served(umo)
    return umo


async def serve_from_the_list(rig: pb.PanelRig, page: Any, umo: str, name: str, lang: str):
    """Sessions: the newcomer is among the chats not served; one click on its switch
    serves it and its row shows the plan."""
    switch = page.get_by_role("switch", name=SWITCH_NAME[lang].format(name=name))
    await page.goto(f"{rig.base}/sessions?served=no&q={quote(name)}", wait_until="load")
    await pb.wait_ready(page)
    assert not await switch.is_checked()  # listed among the chats not served
    # Without the filter: a served row would leave a "not served" list at its next refresh.
    await page.goto(f"{rig.base}/sessions?q={quote(name)}", wait_until="load")
    await pb.wait_ready(page)
    assert not await switch.is_checked()
    await switch.click()
    row = page.locator(f'#sessions-table tr[data-umo="{umo}"]')
    await row.locator("input[data-serve]:checked").wait_for(timeout=5000)
    # The plan, at once: the row's "next" cell shows a time (a click checks the box
    # before the server answers, and the row's last-activity cell had a time already).
    await row.locator("td.cell-next time.ts").wait_for(timeout=5000)
    assert umo in friend_list(rig)
    state = rig.engine.sessions[umo]
    assert state.phase == "planned" and state.next_reason == "newly_listed"


async def test_a_seen_chat_is_served_with_one_click_and_shows_its_plan(panel_rig: pb.PanelRig):
    rig = panel_rig
    problems: list[str] = []
    for lang, locale in LANGS:
        for label, viewport in SIZES:
            name = f"Newcomer {lang} {label}"
            umo = await newcomer(rig, name)
            panel = await rig.panel(viewport=viewport, locale=locale)
            try:
                page = await panel.new_page()
                await serve_from_the_list(rig, page, umo, name, lang)
                await pb.screenshot(page, "serve-sessions", f"{label}-{lang}")
                if label == "phone" and await pb.overflow_px(page) > 0:
                    problems.append(f"{lang} phone sessions: {await pb.overflowing_elements(page)}")

                await panel.goto(page, f"/session?umo={quote(umo, safe='')}")
                await page.locator("#serve-next time.ts").wait_for(timeout=5000)
                await pb.screenshot(page, "serve-session", f"{label}-{lang}")
                if label == "phone" and await pb.overflow_px(page) > 0:
                    problems.append(f"{lang} phone session: {await pb.overflowing_elements(page)}")
                assert not panel.watch(page).problems(), panel.watch(page).problems()
            finally:
                await panel.close()
    assert not problems, "\n".join(problems)


async def test_the_session_pages_switch_turns_it_off_and_on(panel_rig: pb.PanelRig):
    rig = panel_rig
    umo = await newcomer(rig, "Dora")
    panel = await rig.panel()
    try:
        page = await panel.new_page()
        await panel.goto(page, f"/session?umo={quote(umo, safe='')}")
        switch = page.locator("#serve-box input[data-serve]")
        why = page.locator("#serve-why")
        assert "Not served" in await why.inner_text()
        assert await page.locator("#serve-next").is_hidden()

        await switch.click()
        await page.locator("#serve-next time.ts").wait_for(timeout=5000)
        assert "served list" in await why.inner_text()
        assert umo in friend_list(rig)

        await switch.click()
        await page.wait_for_function(
            "() => !document.querySelector('#serve-box input[data-serve]').checked"
            " && document.getElementById('serve-next').hidden",
            timeout=5000,
        )
        assert umo not in friend_list(rig) and not rig.engine.is_served(umo)
        assert "Not served" in await why.inner_text()
        assert not panel.watch(page).problems(), panel.watch(page).problems()
    finally:
        await panel.close()
