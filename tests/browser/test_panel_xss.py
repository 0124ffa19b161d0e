"""Hostile log lines on the Live logs page, in Debian's Chromium against the real AstrBot
core: a line logged through AstrBot's logger that carries markup renders as text, in the
backlog the page loads and live, and in a search for it. No element is injected, no
script runs, no dialog opens.

Chat names, model answers, journal reasons and config values are covered the same way on
the other pages by test_panel_review.py.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from harness import panel_browser as pb

pytestmark = [pytest.mark.browser, pytest.mark.host]

# pb.HOSTILE, plus one that would open a dialog if it ever ran.
PAYLOADS = [*pb.HOSTILE, '<img src=x onerror="alert(1)"><b>bold?</b>']


async def lines_shown(page, tag: str, count: int) -> None:
    """Until the log view holds ``count`` rows whose text has ``tag``."""
    try:
        await page.wait_for_function(
            """([tag, count]) => [...document.querySelectorAll('#log .row[data-seq]')]
                .filter(r => r.textContent.includes(tag)).length >= count""",
            arg=[tag, count],
            timeout=10000,
        )
    except Exception as exc:
        rows = await page.eval_on_selector_all("#log .row", "rows => rows.map(r => r.innerHTML)")
        raise AssertionError(
            f"{count} rows with {tag!r} never shown; injected: {await pb.injected(page)}; "
            f"rows: {[r for r in rows if tag in r]}"
        ) from exc


async def row_texts(page, tag: str) -> list[str]:
    return await page.eval_on_selector_all(
        "#log .row[data-seq] .msg",
        "(rows, tag) => rows.map(r => r.textContent).filter(t => t.includes(tag))",
        tag,
    )


async def test_hostile_log_lines_stay_text_backlog_live_and_searched(panel_rig: pb.PanelRig):
    logger = logging.getLogger("astrbot")
    # Before the page opens: the backlog it loads. Plugin lines, and one of AstrBot's own.
    for index, payload in enumerate(PAYLOADS):
        logger.warning("[ProactiveChat] xss-backlog-%d %s", index, payload)
    logger.error("xss-backlog-core %s", PAYLOADS[1])
    panel = await panel_rig.panel()
    dialogs: list[str] = []
    problems: list[str] = []
    try:
        page = await panel.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        await panel.goto(page, "/logs")
        await page.select_option("#scope", "all")
        await page.wait_for_selector("#conn-state[data-state=live]", timeout=10000)
        await lines_shown(page, "xss-backlog-", len(PAYLOADS) + 1)

        # While it is open: live lines.
        for index, payload in enumerate(PAYLOADS):
            logger.warning("[ProactiveChat] xss-live-%d %s", index, payload)
        await lines_shown(page, "xss-live-", len(PAYLOADS))
        await asyncio.sleep(0.3)  # anything a bad render would trigger has run
        found = await pb.injected(page)
        if found["pwn"] or found["nodes"]:
            problems.append(f"backlog + live: {found}")

        for phase in ("backlog", "live"):
            shown = await row_texts(page, f"xss-{phase}-")
            for index, payload in enumerate(PAYLOADS):
                want = f"xss-{phase}-{index} {payload}"
                if not any(text.endswith(want) for text in shown):
                    problems.append(f"{phase}: {want!r} is not shown as text; rows: {shown}")
        core = await row_texts(page, "xss-backlog-core")
        if not any(text.endswith(PAYLOADS[1]) for text in core):
            problems.append(f"AstrBot's own line is not shown as text: {core}")

        assert dialogs == [], f"a log line opened a dialog: {dialogs}"
        assert not problems, "\n".join(problems)

        # A search for the markup itself: the server filters, the page shows the matches.
        await page.fill("#search", "<img src=x")
        await page.dispatch_event("#search", "input")
        await page.wait_for_function(
            """() => { const rows = [...document.querySelectorAll('#log .row[data-seq]')];
                 return rows.length > 0 && rows.every(r => r.textContent.includes('<img src=x')); }""",
            timeout=10000,
        )
        found = await pb.injected(page)
        if found["pwn"] or found["nodes"]:
            problems.append(f"search: {found}")
        problems += panel.watch(page).problems()
        await pb.screenshot(page, "logs", "hostile-lines")
    finally:
        await panel.close()
    assert dialogs == [], f"a log line opened a dialog: {dialogs}"
    assert not problems, "\n".join(problems)
