"""Adversarial checks of the panel pages in Debian's Chromium against the real AstrBot
core (see test_panel_pages.py for the setting): hostile text from chats, models, the
journal and the config stays text (first render and live); the events badge does not
say "reloading" for ever when the plugin stays off, and the pages come back live; a
"send now" the platform cannot deliver says so, and what to do, in the page's language;
a double click sends once; a page left open under a flood of events stays bounded;
badges are readable (WCAG AA) in both themes.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote

import pytest

from harness import panel_browser as pb

pytestmark = [pytest.mark.browser, pytest.mark.host]

HOSTILE = pb.HOSTILE
HOSTILE_TEXT = " ".join(HOSTILE)
injected = pb.injected


async def toast_texts(page: Any, kind: str = "") -> list[str]:
    return await page.eval_on_selector_all(
        f"#toasts .toast{'.toast-' + kind if kind else ''} .toast-text",
        "nodes => nodes.map(n => n.textContent)",
    )


async def test_hostile_text_stays_text_first_render_and_live(panel_rig: pb.PanelRig):
    from harness import stand_ins

    rig = panel_rig
    engine = rig.engine
    group_id = stand_ins.unique_id("g")
    await rig.im.inject_and_wait(
        "hi", sender_id=stand_ins.unique_id(), sender_name=HOSTILE[2],
        group_id=group_id, group_name=HOSTILE[1],
    )  # fmt: skip
    engine.journal(rig.friend, "sent", HOSTILE_TEXT, text=HOSTILE_TEXT, why=HOSTILE[3])
    engine.journal(rig.friend, "llm_failed", HOSTILE[0], error=HOSTILE_TEXT)
    await engine.store.flush()
    rig.llm.always(HOSTILE_TEXT)
    panel = await rig.panel()
    problems: list[str] = []
    try:
        page = await panel.new_page()
        # The config: a free-text value saved through the panel, shown back everywhere.
        await panel.goto(page, "/config")
        prompt = page.locator('#config-form [name="friend_settings.proactive_prompt"]')
        await prompt.fill("{current_time} " + HOSTILE_TEXT)
        await prompt.dispatch_event("input")
        await prompt.dispatch_event("change")
        await page.wait_for_selector('#config-dirty[data-dirty="true"]', timeout=3000)
        await asyncio.sleep(0.3)  # the diff is drawn after a short debounce
        if (found := await injected(page))["pwn"] or found["nodes"]:
            problems.append(f"/config diff: {found}")
        await page.click("#config-save")
        await page.wait_for_selector('#config-dirty[data-dirty="false"]', timeout=5000)

        paths = {
            **{k: v for k, v in rig.pages().items() if k != "logs"},
            "journal-filtered": f"/journal?umo={quote(rig.friend, safe='')}&kind=sent,llm_failed",
            "sessions-search": "/sessions?q=" + quote("<img"),
        }
        for name, path in paths.items():
            await panel.goto(page, path)
            await asyncio.sleep(0.3)
            found = await injected(page)
            if found["pwn"] or found["nodes"]:
                problems.append(f"{name}: {found}")

        # Live: the same text arriving over /ws/events on open pages.
        live = {}
        for name in ("journal", "session", "overview", "sessions"):
            live[name] = await panel.new_page()
            await panel.goto(live[name], rig.pages()[name])
            await pb.wait_live(live[name])
        before = len(rig.im.sent_to(rig.friend))
        engine.journal(rig.friend, "send_failed", HOSTILE_TEXT, error=HOSTILE_TEXT, at=1)
        engine.request_trigger(rig.friend)
        await rig.im.wait_for_sent(before + 1, umo=rig.friend, timeout=10)
        await live["journal"].wait_for_selector(
            f'#journal-table tr[data-kind="sent"][data-umo="{rig.friend}"].jr-new', timeout=5000
        )
        await asyncio.sleep(1.0)  # session events are batched
        for name, live_page in live.items():
            found = await injected(live_page)
            if found["pwn"] or found["nodes"]:
                problems.append(f"live {name}: {found}")
        shown = await live["journal"].inner_text("#journal-table tbody")
        if HOSTILE[1] not in shown:
            problems.append("the hostile text is not shown as text on the journal")
        for watch in panel.watches.values():
            problems += watch.problems()
    finally:
        await panel.close()
    assert not problems, "\n".join(problems)


async def test_badge_leaves_reloading_when_the_plugin_stays_off_and_pages_come_back(
    panel_rig: pb.PanelRig,
):
    rig = panel_rig
    panel = await rig.panel()
    try:
        pages = {}
        for name in ("journal", "sessions", "session", "overview", "config", "help"):
            pages[name] = await panel.new_page()
            await panel.goto(pages[name], rig.pages()[name])
            await pb.wait_live(pages[name])
        await rig.host.turn_off()
        # A reload takes about a second; a plugin that stays off must not be shown as
        # "reloading" for ever: the badge says the link is lost and when it retries.
        for name, page in pages.items():
            try:
                await page.wait_for_selector(
                    "#events-state[data-state=reconnecting]", timeout=15000
                )
            except Exception:
                state = await page.inner_text("#events-state")
                raise AssertionError(
                    f"/{name}: badge still {state!r} with the plugin off"
                ) from None
        await rig.host.turn_on()
        for page in pages.values():
            # Nudge the retry (as a tab coming back does) instead of waiting out the back-off.
            await page.evaluate("() => window.dispatchEvent(new Event('online'))")
        for page in pages.values():
            await pb.wait_live(page, 15)
        # Refetched and live again: new entries appear once, nothing twice.
        engine = rig.engine
        for index in range(3):
            engine.journal(rig.friend, "manual", f"back {index}")
        journal = pages["journal"]
        await journal.wait_for_function(
            "() => document.querySelectorAll('#journal-table tbody tr[data-kind=manual]').length >= 3",
            timeout=5000,
        )
        ids = await journal.eval_on_selector_all(
            "#journal-table tbody tr[data-id]", "rows => rows.map(r => r.dataset.id)"
        )
        assert len(ids) == len(set(ids)), f"duplicate journal rows after the reconnect: {ids}"
        problems = []
        for watch in panel.watches.values():
            problems += watch.page_errors + watch.http_errors
            # The refused reconnects while the plugin was off are expected; nothing else.
            problems += [
                e for e in watch.console_errors
                if not re.search(r"WebSocket connection|ERR_CONNECTION_REFUSED", e)
            ]  # fmt: skip
        assert not problems, problems
    finally:
        await panel.close()


async def test_send_now_the_platform_cannot_deliver_says_what_to_do(panel_rig: pb.PanelRig):
    rig = panel_rig
    umo = rig.friend2
    panel = await rig.panel(locale="zh-CN")
    rig.im.support_proactive_message = False
    try:
        page = await panel.new_page()
        await page.goto(rig.base + "/lang/zh?next=" + quote(f"/session?umo={quote(umo, safe='')}"))
        await pb.wait_ready(page)
        await pb.wait_live(page)
        await page.click("#act-trigger")
        toast = await page.wait_for_selector("#toasts .toast-error", timeout=10000)
        text = await toast.inner_text()
        assert "AstrBot" in text and re.search(r"[\u4e00-\u9fff]", text), text
        assert await page.is_enabled("#act-trigger"), "Send now stays disabled after a failure"
    finally:
        rig.im.support_proactive_message = True
        await panel.close()

    # A double click sends once.
    panel = await rig.panel()
    try:
        page = await panel.new_page()
        await panel.goto(page, f"/session?umo={quote(umo, safe='')}")
        await pb.wait_live(page)
        before = len(rig.im.sent_to(umo))
        await page.dblclick("#act-trigger")
        await rig.im.wait_for_sent(before + 1, umo=umo, timeout=10)
        await page.wait_for_function(
            "() => [...document.querySelectorAll('#toasts .toast-ok')].length >= 2", timeout=5000
        )  # "writing started" and then "sent"
        await asyncio.sleep(1.5)
        assert len(rig.im.sent_to(umo)) == before + 1, "a double click sent twice"
        assert await toast_texts(page, "error") == []
        assert panel.watch(page).problems() == []
    finally:
        await panel.close()


async def test_open_pages_stay_bounded_under_a_flood_of_events(panel_rig: pb.PanelRig):
    rig = panel_rig
    panel = await rig.panel()
    try:
        journal, session = await panel.new_page(), await panel.new_page()
        await panel.goto(journal, "/journal")
        await panel.goto(session, rig.pages()["session"])
        for page in (journal, session):
            await pb.wait_live(page)
        engine = rig.engine
        for index in range(700):
            engine.journal(rig.friend, "manual", f"flood {index}")
            if index % 25 == 0:
                await asyncio.sleep(0.01)
        cap = await journal.evaluate(
            "() => JSON.parse(document.getElementById('journal-env').textContent).maxRows"
        )
        await journal.wait_for_function(
            "() => [...document.querySelectorAll('#journal-table tbody tr')].some(r => r.textContent.includes('flood 699'))",
            timeout=10000,
        )
        ids = await journal.eval_on_selector_all(
            "#journal-table tbody tr[data-id]", "rows => rows.map(r => Number(r.dataset.id))"
        )
        assert len(ids) <= cap, f"{len(ids)} rows kept, the cap is {cap}"
        assert len(ids) == len(set(ids)) and ids == sorted(ids, reverse=True)
        await session.wait_for_function(
            "() => document.querySelector('#session-journal li').textContent.includes('flood 699')",
            timeout=10000,
        )
        kept = await session.eval_on_selector_all("#session-journal li", "items => items.length")
        assert kept <= 50, f"the session page keeps {kept} journal items"
        for page in (journal, session):
            assert await page.get_attribute("#events-state", "data-state") == "live"
            assert panel.watch(page).problems() == []
    finally:
        await panel.close()


CONTRAST = """() => {
  const ctx = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = "#000"; ctx.fillStyle = css; ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data; return [r, g, b, a / 255];
  };
  const over = (top, under) => top.slice(0, 3).map((c, i) => c * top[3] + under[i] * (1 - top[3]));
  const background = (node) => {
    const layers = [];
    for (let n = node; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let color = rgba(getComputedStyle(document.documentElement).backgroundColor);
    if (color[3] < 1) color = [255, 255, 255, 1];
    for (const layer of layers.reverse()) color = [...over(layer, color), 1];
    return color;
  };
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const out = [];
  for (const node of document.querySelectorAll(".badge, #events-state, .toast-text")) {
    if (!node.textContent.trim() || !node.getClientRects().length) continue;
    const bg = background(node);
    const fg = over(rgba(getComputedStyle(node).color), bg);
    const [a, b] = [lum(fg), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) out.push(`${ratio.toFixed(2)} ${node.className} "${node.textContent.trim()}"`);
  }
  return [...new Set(out)];
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_badges_are_readable_in_both_themes(panel_rig: pb.PanelRig, scheme: str):
    rig = panel_rig
    rig.engine.journal(rig.friend, "send_failed", "x", error="y")
    rig.engine.journal(rig.friend, "capped", "1 message(s) unanswered: waiting for a reply")
    panel = await rig.panel(color_scheme=scheme)
    problems = []
    try:
        page = await panel.new_page()
        for name, path in rig.pages().items():
            if name == "logs":
                continue
            await panel.goto(page, path)
            await pb.wait_live(page)
            problems += [f"{name}: {low}" for low in await page.evaluate(CONTRAST)]
    finally:
        await panel.close()
    assert not problems, "contrast below 4.5:1:\n" + "\n".join(problems)
