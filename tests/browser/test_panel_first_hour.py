"""A new owner's first hour (issue 14), in Debian's headless Chromium against a real
AstrBot core (in-process; see test_panel_pages.py for the setting): the Config page's
save bar stays visible and clickable below the header after scrolling, on a desktop
and a phone, and its section navigation jumps to each section; no page scrolls
sideways at 360 px or 390x844, and every navigation item stays reachable there;
the journal marks a plan that a newer plan replaced; English plurals ("1 session",
"sent (1 part)").

Artifacts (``test-artifacts/``): ``page-first-hour-<page>-<desktop|phone>-<en|zh>.png``
for every page in both languages, ``page-first-hour-config-scrolled-<desktop|phone>.png``.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import pytest

from harness import panel_browser as pb

pytestmark = [pytest.mark.browser, pytest.mark.host]

NARROW = {"width": 360, "height": 740}
PHONE = {"width": 390, "height": 844}

# Is the Save button the topmost element at its own centre (nothing covers it), and is
# the bar below the header? Answers what covers it when it is not.
SAVE_BAR_SEEN = """() => {
  const save = document.getElementById("config-save");
  const bar = document.querySelector(".config-bar").getBoundingClientRect();
  const header = document.querySelector(".topbar").getBoundingClientRect();
  const box = save.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return {
    on_top: !!hit && (hit === save || save.contains(hit)),
    hit: hit ? hit.tagName + "." + hit.className : null,
    in_view: box.top >= 0 && box.bottom <= window.innerHeight,
    below_header: getComputedStyle(document.querySelector(".topbar")).position !== "sticky"
      || bar.top >= header.bottom - 1,
  };
}"""

NAV_REACHABLE = """() => [...document.querySelectorAll(".mainnav a")].map(a => {
  const box = a.getBoundingClientRect();
  return { href: a.getAttribute("href"), shown: box.width > 0 && box.height > 0
    && box.left >= 0 && box.right <= window.innerWidth + 1 };
})"""


# The first row's cells: where they end, and the column name each shows (data-label).
FIRST_ROW_CELLS = """sel => [...document.querySelectorAll(sel)].map(td => {
  const box = td.getBoundingClientRect();
  return { label: td.dataset.label || "", right: box.right, width: box.width };
})"""
CARD_ROWS = {
    "sessions": ("#sessions-table tr[data-umo]:first-child td", 8),
    "journal": ("#journal-table tbody tr:first-child td", 4),
}


async def card_problems(page: Any, name: str, width: int) -> list[str]:
    """Sessions and Journal as cards on a phone: every column of a row on the screen
    (served, next message, unanswered; kind, reason), each named but the first."""
    selector, columns = CARD_ROWS[name]
    cells = await page.evaluate(FIRST_ROW_CELLS, selector)
    problems = [] if len(cells) >= columns else [f"{name}: {len(cells)} cells in a row"]
    problems += [f"{name}: cell off screen {c}" for c in cells if not 0 < c["right"] <= width]
    problems += [f"{name}: cell without a label {c}" for c in cells[1:] if not c["label"]]
    return problems


async def save_bar_problems(page: Any, label: str) -> list[str]:
    problems = []
    for scroll in (1500, 4000):
        await page.evaluate("y => window.scrollTo(0, y)", scroll)
        await asyncio.sleep(0.15)
        seen = await page.evaluate(SAVE_BAR_SEEN)
        if not (seen["on_top"] and seen["in_view"] and seen["below_header"]):
            problems.append(f"{label}, scrolled to {scroll}: save bar {seen}")
    return problems


async def test_config_save_bar_stays_usable_and_sections_are_one_click_away(
    panel_rig: pb.PanelRig,
):
    problems: list[str] = []
    for label, viewport in (("desktop", pb.DESKTOP), ("phone", PHONE)):
        panel = await panel_rig.panel(viewport=viewport)
        try:
            page = await panel.new_page()
            await panel.goto(page, "/config")
            # A change makes the button live: it must be clickable wherever the page is.
            prompt = page.locator('#config-form [name="friend_settings.proactive_prompt"]')
            if label == "phone":
                await page.click('.config-sections a[href="#config-h-friend_settings"]')
            await prompt.fill(f"{{current_time}} say hello ({label})")
            await page.wait_for_selector('#config-dirty[data-dirty="true"]', timeout=3000)
            problems += await save_bar_problems(page, label)
            shot = pb.artifact_path(f"page-first-hour-config-scrolled-{label}.png")
            await page.screenshot(path=str(shot))  # the window only: the bar after scrolling
            await page.click("#config-save", timeout=3000)  # fails if anything covers it
            await page.wait_for_selector('#config-dirty[data-dirty="false"]', timeout=5000)

            # Each section link brings its heading into view, below the header and the bar.
            links = await page.eval_on_selector_all(
                ".config-sections a", "links => links.map(a => a.getAttribute('href'))"
            )
            assert len(links) >= 4, f"section navigation has {links}"
            for href in links:
                await page.click(f'.config-sections a[href="{href}"]')
                await asyncio.sleep(0.3)
                box = await page.evaluate(
                    """id => { const h = document.getElementById(id).getBoundingClientRect();
                      const bar = document.querySelector('.config-bar').getBoundingClientRect();
                      return { top: h.top, bottom: h.bottom, bar: bar.bottom, height: innerHeight }; }""",
                    href[1:],
                )
                last = href == links[-1]  # the last section may not scroll up to the bar
                if box["bottom"] > box["height"] or (not last and box["top"] < box["bar"] - 1):
                    problems.append(f"{label}: {href} lands at {box}")
            assert not panel.watch(page).problems(), panel.watch(page).problems()
        finally:
            await panel.close()
    assert not problems, "\n".join(problems)


async def test_no_page_scrolls_sideways_on_a_phone_and_every_page_is_reachable(
    panel_rig: pb.PanelRig,
):
    """At 360 px and 390x844, in both languages, with screenshots of every page; on a
    phone, Sessions and Journal show one card per row with every column on screen."""
    problems: list[str] = []
    for lang, locale in (("en", "en-US"), ("zh", "zh-CN")):
        sizes = [("desktop", pb.DESKTOP), ("phone", PHONE)]
        if lang == "en":  # the narrowest width once: the layout does not depend on the language
            sizes.append(("narrow", NARROW))
        for label, viewport in sizes:
            panel = await panel_rig.panel(viewport=viewport, locale=locale)
            try:
                page = await panel.new_page()
                for name, path in panel_rig.pages().items():
                    await panel.goto(page, path)
                    await asyncio.sleep(0.1)
                    if label != "desktop":
                        overflow = await pb.overflow_px(page)
                        if overflow > 0:
                            wide = await pb.overflowing_elements(page)
                            problems.append(f"{lang} {label} {name}: {overflow}px wider: {wide}")
                        hidden = [
                            n["href"] for n in await page.evaluate(NAV_REACHABLE) if not n["shown"]
                        ]
                        if hidden:
                            problems.append(f"{lang} {label} {name}: nav items off screen {hidden}")
                    if label != "desktop" and name in CARD_ROWS:
                        problems += await card_problems(page, name, viewport["width"])
                    if label != "narrow":
                        await pb.screenshot(page, f"first-hour-{name}", f"{label}-{lang}")
                assert not panel.watch(page).problems(), panel.watch(page).problems()
            finally:
                await panel.close()
    assert not problems, "\n".join(problems)


async def test_journal_marks_replaced_plans_and_names_sessions(panel_rig: pb.PanelRig):
    """Two messages in a row from the user re-plan the chat: the first plan is marked
    replaced (and can be hidden); rows name the session, the full id is behind a copy
    button; English plurals read right."""
    rig = panel_rig
    bob_id = rig.friend2.rsplit(":", 1)[-1]
    await rig.im.inject_and_wait("one", sender_id=bob_id, sender_name="Bob")
    await rig.im.inject_and_wait("two", sender_id=bob_id, sender_name="Bob")
    await rig.engine.store.flush()
    panel = await rig.panel()
    try:
        page = await panel.new_page()
        await panel.goto(page, f"/journal?umo={quote(rig.friend2, safe='')}&kind=planned")
        rows = await page.eval_on_selector_all(
            "#journal-table tbody tr",
            """rows => rows.map(r => ({ replaced: r.classList.contains('jr-replaced'),
                badge: !!r.querySelector('.jr-replaced-badge'),
                name: r.querySelector('.jr-name')?.textContent.trim(),
                copy: r.querySelector('.jr-copy')?.dataset.copy,
                text: r.textContent }))""",
        )
        assert len(rows) >= 2, rows
        assert not rows[0]["replaced"], "the newest plan is not replaced"
        assert all(row["replaced"] and row["badge"] for row in rows[1:]), rows
        assert all(row["name"] == "Bob" and row["copy"] == rig.friend2 for row in rows), rows
        assert all(rig.friend2 not in row["text"] for row in rows), "the full id shows in a row"
        await page.check("#journal-hide-replaced")
        shown = await page.eval_on_selector_all(
            "#journal-table tbody tr", "rows => rows.filter(r => r.offsetParent).length"
        )
        assert shown == 1, f"{shown} rows shown with replaced plans hidden"

        # The filter picks a session from a list fed by the sessions API.
        await panel.goto(page, "/journal")
        await page.fill("#jf-umo", "Bob")
        await page.wait_for_function(
            "() => document.querySelectorAll('#jf-sessions option').length > 0", timeout=5000
        )
        values = await page.eval_on_selector_all(
            "#jf-sessions option", "os => os.map(o => o.value)"
        )
        assert rig.friend2 in values, values

        # Plurals: one sent message of one part; one session found.
        await panel.goto(page, "/journal?kind=sent")
        text = await page.inner_text("#journal-table")
        assert "part(s)" not in text and "sent (1 part)" in text, text
        await panel.goto(page, "/sessions?q=" + quote(rig.friend2, safe=""))
        assert (await page.inner_text("#sessions-total")).strip() == "1 session"
        await pb.screenshot(page, "first-hour-sessions-search", "desktop-en")
        assert not panel.watch(page).problems(), panel.watch(page).problems()
    finally:
        await panel.close()
