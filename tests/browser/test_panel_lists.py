"""The list pages and the session page in Debian's headless Chromium against a real
AstrBot core (in-process; see test_panel_pages.py for the setting): the sessions list
pages, sorts and filters on the server; the journal filters, loads more and exports;
the session page's actions and override editor act on the engine and show the result
live, without a reload.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import pytest

from harness import panel_browser as pb
from harness.waiting import async_wait_for

pytestmark = [pytest.mark.browser, pytest.mark.host]


async def row_umos(page: Any) -> list[str]:
    return await page.eval_on_selector_all(
        "#sessions-table tr[data-umo]", "rows => rows.map(r => r.dataset.umo)"
    )


async def test_sessions_list_pages_sorts_and_filters(panel_rig: pb.PanelRig):
    await panel_rig.make_crowd()
    known = len(panel_rig.engine.sessions)
    panel = await panel_rig.panel()
    try:
        page = await panel.new_page()
        await panel.goto(page, "/sessions")
        total = await page.inner_text("#sessions-total")
        assert str(known) in total.replace(",", ""), f"#sessions-total {total!r}, {known} known"
        first = await row_umos(page)
        assert len(first) == 50, f"first page shows {len(first)} rows, not a page of 50"
        assert len(set(first)) == len(first)

        # Next page: other rows, and the way back is open.
        await page.click("#pager-next")
        await page.wait_for_function(
            """first => { const rows = [...document.querySelectorAll('#sessions-table tr[data-umo]')];
              return rows.length > 0 && rows[0].dataset.umo !== first; }""",
            arg=first[0],
            timeout=5000,
        )
        await pb.wait_ready(page)
        second = await row_umos(page)
        assert second and not set(second) & set(first), "page 2 repeats rows of page 1"
        assert len(first) + len(second) == min(known, 100)
        assert not await page.is_disabled("#pager-prev")

        # A header sorts (on the server), and a second click turns the order around.
        await panel.goto(page, "/sessions")
        fields = await page.eval_on_selector_all(
            "th[data-sort]", "ths => ths.map(th => th.dataset.sort)"
        )
        assert fields, "no sortable column (th[data-sort])"
        name = "name" if "name" in fields else fields[0]
        header = f'th[data-sort="{name}"]'
        orders = []
        for _ in range(2):
            before = await row_umos(page)
            sort_before = await page.get_attribute(header, "aria-sort")
            await page.click(f"{header} button")
            await page.wait_for_function(
                """([sel, prev]) => { const th = document.querySelector(sel);
                  return th && th.getAttribute('aria-sort') && th.getAttribute('aria-sort') !== 'none'
                    && th.getAttribute('aria-sort') !== prev; }""",
                arg=[header, sort_before],
                timeout=5000,
            )
            try:
                await page.wait_for_function(
                    """prev => { const rows = [...document.querySelectorAll('#sessions-table tr[data-umo]')]
                      .map(r => r.dataset.umo); return rows.join() !== prev.join(); }""",
                    arg=before,
                    timeout=5000,
                )
            except Exception:
                sort = await page.get_attribute(header, "aria-sort")
                names = await page.eval_on_selector_all(
                    "#sessions-table tr[data-umo]", "rows => rows.slice(0, 5).map(r => r.innerText)"
                )
                raise AssertionError(
                    f"sorting by {name} ({sort}) did not change the rows; url {page.url}; "
                    f"first rows {names}"
                ) from None
            orders.append(await page.get_attribute(header, "aria-sort"))
        assert set(orders) == {"ascending", "descending"}, orders

        # The kind filter: groups only.
        await panel.goto(page, "/sessions")
        await page.select_option("#session-kind", "group")
        await page.wait_for_function(
            """() => { const rows = [...document.querySelectorAll('#sessions-table tr[data-umo]')];
              return rows.length > 0 && rows.every(r => r.dataset.umo.includes(':GroupMessage:')); }""",
            timeout=5000,
        )
        groups = await row_umos(page)
        assert panel_rig.group in groups or len(groups) == 50
        await pb.screenshot(page, "sessions", "groups")
        assert panel.watch(page).problems() == [], panel.watch(page).problems()
    finally:
        await panel.close()


async def journal_rows(page: Any) -> list[dict]:
    return await page.eval_on_selector_all(
        "#journal-table tr[data-id]",
        "rows => rows.map(r => ({id: +r.dataset.id, kind: r.dataset.kind, umo: r.dataset.umo}))",
    )


async def test_journal_filters_more_and_export(panel_rig: pb.PanelRig):
    await panel_rig.make_crowd()
    panel = await panel_rig.panel()
    try:
        page = await panel.new_page()
        await panel.goto(page, "/journal")
        await pb.wait_live(page)
        first = await journal_rows(page)
        assert first, "the journal page shows no entry"
        ids = [r["id"] for r in first]
        assert ids == sorted(ids, reverse=True), "newest first"
        assert await page.is_visible("#journal-more"), (
            "more than a page of entries, no #journal-more"
        )

        await page.click("#journal-more")
        await page.wait_for_function(
            """low => [...document.querySelectorAll('#journal-table tr[data-id]')]
              .some(r => +r.dataset.id < low)""",
            arg=min(ids),
            timeout=5000,
        )
        await pb.wait_ready(page)
        more = [r["id"] for r in await journal_rows(page)]
        assert len(more) == len(set(more)), "an entry is shown twice after 'more'"

        # Kind filter.
        await panel.goto(page, "/journal")
        await page.select_option("#jf-kind", "sent")
        await page.wait_for_function(
            """() => { const rows = [...document.querySelectorAll('#journal-table tr[data-id]')];
              return rows.length > 0 && rows.every(r => r.dataset.kind === 'sent'); }""",
            timeout=5000,
        )
        # Session filter (typed, then Enter).
        await panel.goto(page, "/journal")
        await page.fill("#jf-umo", panel_rig.friend)
        await page.press("#jf-umo", "Enter")
        await page.wait_for_function(
            """umo => { const rows = [...document.querySelectorAll('#journal-table tr[data-id]')];
              return rows.length > 0 && rows.every(r => r.dataset.umo === umo); }""",
            arg=panel_rig.friend,
            timeout=5000,
        )
        await pb.wait_ready(page)
        kinds = {r["kind"] for r in await journal_rows(page)}
        assert "sent" in kinds, kinds

        # Export: a download of what the filters select.
        href = await page.get_attribute("#journal-export", "href")
        assert href, "#journal-export has no href"
        response = await panel.context.request.get(
            panel.base + href if href.startswith("/") else href
        )
        assert response.status == 200, (href, response.status)
        body = await response.text()
        assert panel_rig.friend in body, f"the export of {href} does not name the session"
        assert panel.watch(page).problems() == [], panel.watch(page).problems()
    finally:
        await panel.close()


async def test_session_actions_and_override_editor_apply_live(panel_rig: pb.PanelRig):
    umo = panel_rig.friend2
    key = "schedule_settings.max_unanswered_times"
    engine = panel_rig.engine
    panel = await panel_rig.panel()
    try:
        page = await panel.new_page()
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await panel.goto(page, f"/session?umo={quote(umo, safe='')}")
        await pb.wait_live(page)
        mark = await pb.set_marker(page)
        state = engine.sessions[umo]

        async def act(button: str, check, what: str) -> None:
            await page.click(button)
            await async_wait_for(check, 5, 0.02, what)
            await page.wait_for_selector(
                f"{button}[aria-busy=true]", state="detached", timeout=5000
            )

        await act("#act-pause", lambda: state.paused, "paused")
        await page.wait_for_selector("#act-resume:not([disabled])", timeout=5000)
        await act("#act-resume", lambda: not state.paused, "resumed")
        await page.wait_for_selector("#act-cancel:not([disabled])", timeout=5000)
        await act("#act-cancel", lambda: state.phase == "idle", "plan cancelled")
        await act("#act-reschedule", lambda: state.phase == "planned", "re-planned")
        await page.wait_for_function(
            "() => document.querySelectorAll('#session-journal [data-kind=manual]').length >= 4",
            timeout=5000,
        )

        # The override editor: override one value, save, see it applied and marked.
        field_ = page.locator(f'#override-editor .sf-field[data-path="{key}"]')
        assert await field_.count() == 1, f"no override field for {key}"
        await field_.locator(".sf-override-input").check()
        await field_.locator(f'[name="override.{key}"]').fill("9")
        await field_.locator(f'[name="override.{key}"]').dispatch_event("change")
        await page.wait_for_selector("#override-save:not([disabled])", timeout=3000)
        await page.click("#override-save")
        toast = await page.wait_for_selector("#toasts .toast", timeout=5000)
        assert "toast-error" not in (await toast.get_attribute("class")), await toast.inner_text()
        await async_wait_for(
            lambda: (
                (engine.overrides.get(umo) or {})
                .get("schedule_settings", {})
                .get("max_unanswered_times")
                == 9
            ),
            5,
            0.02,
            "the override in the engine",
        )
        assert engine.settings_for(umo).schedule.max_unanswered_times == 9
        await page.wait_for_selector(
            f'#effective-config tr[data-key="{key}"].overridden', timeout=5000
        )
        await pb.screenshot(page, "session", "overridden")

        # Reset (confirmed): back to the global settings.
        await page.click("#override-reset")
        await async_wait_for(lambda: not engine.overrides.get(umo), 5, 0.02, "override reset")
        await page.wait_for_selector(
            f'#effective-config tr[data-key="{key}"]:not(.overridden)', timeout=5000
        )
        assert await pb.marker_kept(page, mark), "the session page reloaded itself"
        assert panel.watch(page).problems() == [], panel.watch(page).problems()
    finally:
        await panel.close()
