"""See it before it happens, in Debian's headless Chromium against a real AstrBot core
(in-process; the setting of test_panel_pages.py): the session page shows the next
days, the prompt preview (the real conversation and the rendered prompt) and a draft
written by the session's model that is never sent; the Upcoming page lists the served
sessions. Desktop and 390 px wide, no console error, nothing wider than the window.

Artifacts: ``page-foresight-session-<variant>.png``, ``page-foresight-upcoming-<variant>.png``.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from harness import panel_browser as pb

pytestmark = [pytest.mark.browser, pytest.mark.host]

PHONE_390 = {"width": 390, "height": 844}


async def check_page(panel: pb.PanelBrowser, page, name: str, variant: str) -> None:
    assert await pb.overflow_px(page) <= 0, await pb.overflowing_elements(page)
    assert panel.watch(page).problems() == []
    await pb.screenshot(page, f"foresight-{name}", variant)


async def test_session_page_preview_draft_and_next_days(panel_rig: pb.PanelRig):
    sent_before = len(panel_rig.im.sent)
    for variant, viewport in (("desktop", pb.DESKTOP), ("phone390", PHONE_390)):
        panel = await panel_rig.panel(viewport=viewport)
        try:
            page = await panel.new_page()
            await panel.goto(page, f"/session?umo={quote(panel_rig.friend2, safe='')}")
            await page.wait_for_selector("#fs-forecast .fs-speaks li", timeout=10_000)
            first = float(await page.get_attribute("#fs-forecast .fs-speaks li", "data-at"))
            assert first == panel_rig.engine.sessions[panel_rig.friend2].next_at
            assert "capped" in await page.inner_text("#fs-forecast") or await page.query_selector(
                "#fs-forecast .fs-gaps li[data-reasons~=capped]"
            )

            await page.click("#fs-preview-show")
            await page.wait_for_selector("#fs-preview .fs-msg", timeout=10_000)
            roles = await page.eval_on_selector_all(
                "#fs-preview .fs-msg", "items => items.map(i => i.dataset.role)"
            )
            assert roles[-1] == "user" and "hello" in await page.inner_text("#fs-preview")

            await page.click("#fs-draft")
            await page.wait_for_selector("#fs-draft-out .fs-draft-text", timeout=15_000)
            assert pb.RIG_MODEL_TEXT in await page.inner_text("#fs-draft-out")
            await check_page(panel, page, "session", variant)
        finally:
            await panel.close()
    assert len(panel_rig.im.sent) == sent_before  # drafts are never sent
    state = panel_rig.engine.sessions[panel_rig.friend2]
    assert state.unanswered == 0


async def test_upcoming_page_lists_served_sessions(panel_rig: pb.PanelRig):
    for variant, viewport in (("desktop", pb.DESKTOP), ("phone390", PHONE_390)):
        panel = await panel_rig.panel(viewport=viewport)
        try:
            page = await panel.new_page()
            await panel.goto(page, "/upcoming")
            umos = await page.eval_on_selector_all(
                "#upcoming-list li[data-umo]", "items => items.map(i => i.dataset.umo)"
            )
            assert panel_rig.friend2 in umos and panel_rig.group in umos
            await page.click(f'#upcoming-list li[data-umo="{panel_rig.friend2}"] summary')
            await page.wait_for_selector(
                f'#upcoming-list li[data-umo="{panel_rig.friend2}"] .fs-speaks li', timeout=5000
            )
            nav = await page.eval_on_selector_all(
                ".mainnav a", "links => links.map(a => a.getAttribute('href'))"
            )
            assert "/upcoming" in nav
            await check_page(panel, page, "upcoming", variant)
        finally:
            await panel.close()
