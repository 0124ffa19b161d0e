"""The admin panel's pages in Debian's headless Chromium against a real AstrBot core
(in-process, with the scripted LLM and the recording IM platform of harness/stand_ins).

Playwright's ASYNC API shares the test's event loop with the in-process host; no
fixture of this module touches the sync ``browser``/``page`` fixtures of conftest.py.

What is checked, as the issue asks: every page loads with no console error and no
failed request (light, dark, phone); a wrong password shows an error; "send now" on a
session reaches the test platform and the journal entry appears on the open Journal
page within 2 s, without a reload; a config change made in the panel applies without a
plugin reload while the other open pages stay connected; the language switch changes
the visible texts; Tab reaches the main navigation and a page's primary action, Enter
activates it; nothing leaves 127.0.0.1; times are shown in AstrBot's zone (live-log lines too);
the tools a message used read as a list in rows that arrive live.

Artifacts (``test-artifacts/``, ``PC_ARTIFACTS`` overrides): ``page-<name>-<variant>.png``
for every page in light (1280x800), dark and phone (375x740), and ``render-timings.json``
(navigation timings per page, the send-now-to-journal latency).

Over 400 lines on purpose: every test shares one Chromium and one in-process AstrBot
(the module's fixtures); split files would each pay that start-up again.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from harness import panel_browser as pb
from harness.waiting import async_wait_for

pytestmark = [pytest.mark.browser, pytest.mark.host]

ZONE = pb.RIG_ZONE
ENGINE_PAGES = ("overview", "sessions", "session", "journal", "config", "help")
LIVE_TIMEOUT = 10.0


# -- checks shared by the tests --------------------------------------------------------

KEY_PREFIXES = (
    "nav.", "events.", "err.", "time.", "kind.", "phase.", "jkind.", "common.", "overview.",
    "sessions.", "session.", "journal.", "config.", "help.", "login.", "logs.", "app.",
    "theme.", "lang.", "toast.", "auth.", "footer.", "a11y.",
)  # fmt: skip
KEY_TEXT = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


async def untranslated_keys(page: Any) -> list[str]:
    """Visible text that is exactly a text key (``tr``/``t`` found no translation)."""
    texts = await page.evaluate(
        """() => {
          const out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const text = walker.currentNode.textContent.trim();
            const parent = walker.currentNode.parentElement;
            if (text && parent && !parent.closest("script,style,template,[hidden]")) out.push(text);
          }
          for (const node of document.querySelectorAll("[placeholder],[aria-label],[title]")) {
            for (const name of ["placeholder", "aria-label", "title"]) {
              const value = node.getAttribute(name);
              if (value) out.push(value.trim());
            }
          }
          return out;
        }"""
    )
    return sorted({t for t in texts if KEY_TEXT.match(t) and t.startswith(KEY_PREFIXES)})


@dataclass
class PageReport:
    name: str
    problems: list[str] = field(default_factory=list)
    timings: dict | None = None
    times_shown: int = 0

    def add(self, problem: str) -> None:
        self.problems.append(problem)


async def log_time_problems(page: Any) -> list[str]:
    """Live-log lines are stamped in AstrBot's zone, like every other page (the browser
    runs in another zone): the newest line's full time is within minutes of now there."""
    try:
        await page.wait_for_selector(".row[data-seq] .ts[title]", timeout=5000)
    except Exception:
        return ["no live-log line appeared within 5 s"]
    title = await page.locator(".row[data-seq] .ts").last.get_attribute("title") or ""
    try:
        shown = datetime.strptime(title, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=ZoneInfo(ZONE))
    except ValueError:
        return [f"live-log time {title!r} is not YYYY-MM-DD HH:MM:SS.mmm"]
    off = shown.timestamp() - time.time()
    if abs(off) > 600:
        return [f"live-log line stamped {title}: {off / 3600:+.1f} h from now in {ZONE}"]
    return []


async def load_and_check(
    panel: pb.PanelBrowser,
    name: str,
    path: str,
    *,
    variant: str,
    live: bool,
    want_times: bool,
) -> tuple[Any, PageReport]:
    """Open ``path`` in a new page and check it as every page must be; never raises
    for a page problem (they are collected, so one run shows all of them)."""
    report = PageReport(name)
    page = await panel.new_page()
    watch = panel.watch(page)
    try:
        response = await panel.goto(page, path, ready=False)
    except Exception as exc:  # a timeout: the page never loaded
        report.add(f"did not load: {exc}")
        return page, report
    if response is None or response.status != 200:
        report.add(f"HTTP {response.status if response else '?'} for {path}")
    if not page.url.startswith(panel.base + path.split("?")[0]):
        report.add(f"ended at {page.url}, not {path}")
    try:
        await pb.wait_ready(page, 5)
    except Exception:
        report.add("pageReady was never set (document.documentElement.dataset.pageReady)")
    if live:
        try:
            await pb.wait_live(page, LIVE_TIMEOUT)
        except Exception:
            state = (
                await page.get_attribute("#events-state", "data-state")
                if await page.query_selector("#events-state")
                else None
            )
            report.add(f"#events-state never went live (data-state={state!r})")
    report.timings = await pb.timings(page)
    count, problems = await pb.time_problems(page, ZONE)
    report.times_shown = count
    report.problems += problems
    if want_times and count == 0:
        report.add("no <time class=ts> on a page that lists sessions or journal entries")
    if name == "logs":
        report.problems += await log_time_problems(page)
    if await page.query_selector("#pc-xss"):
        report.add("a chat user's name was parsed as HTML (#pc-xss exists)")
    if keys := await untranslated_keys(page):
        report.add(f"untranslated text keys shown: {keys}")
    if variant == "dark" and await page.get_attribute("html", "data-theme") != "dark":
        report.add("html[data-theme] is not 'dark' in a dark-scheme browser")
    if variant == "phone":
        overflow = await pb.overflow_px(page)
        if overflow > 0:
            wide = await pb.overflowing_elements(page)
            report.add(f"{overflow}px wider than a 375px screen; sticking out: {wide}")
    await asyncio.sleep(0.2)  # late console errors (a handler failing after the hello)
    report.problems += watch.problems()
    await pb.screenshot(page, name, variant)
    return page, report


def failures(reports: list[PageReport]) -> str:
    lines = []
    for report in reports:
        lines += [f"[{report.name}] {problem}" for problem in report.problems]
    return "\n".join(lines)


# -- the tests -------------------------------------------------------------------------


async def test_wrong_password_shows_an_error_and_the_right_one_logs_in(panel_rig: pb.PanelRig):
    panel = await pb.PanelBrowser.open(panel_rig.browser, panel_rig.base, None)
    try:
        page = await panel.new_page(allowed_statuses={401})
        watch = panel.watch(page)
        await page.goto(panel_rig.base + "/sessions", wait_until="load")
        assert "/login" in page.url, f"not logged in, /sessions must send us to login: {page.url}"
        await pb.screenshot(page, "login", "light")

        await page.fill("#password", "not the password")
        await page.click("#login-btn")
        await page.wait_for_function(
            "() => document.getElementById('login-error').textContent.trim().length > 0",
            timeout=5000,
        )
        assert await page.is_visible("#login-error")
        assert "/login" in page.url
        assert panel_rig.engine is not None  # still the same host, nothing crashed
        await pb.screenshot(page, "login", "error")

        # The keyboard way: the password field has the focus, Tab reaches the button.
        await page.fill("#password", pb.RIG_PASSWORD)
        await page.focus("#password")
        for _ in range(5):
            await page.keyboard.press("Tab")
            if await page.evaluate("() => document.activeElement.id === 'login-btn'"):
                break
        else:
            raise AssertionError("Tab from the password field never reached #login-btn")
        await page.keyboard.press("Enter")
        await page.wait_for_url(panel_rig.base + "/sessions", timeout=5000)
        await pb.wait_ready(page)
        assert watch.problems() == [], watch.problems()

        # Logging out ends the session: the next page goes to the login again.
        await page.click("#logout")
        await page.wait_for_url(re.compile(r".*/login.*"), timeout=5000)
        await page.goto(panel_rig.base + "/overview", wait_until="load")
        assert "/login" in page.url
    finally:
        await panel.close()


@pytest.mark.parametrize("variant", ["light", "dark", "phone"])
async def test_every_page_loads_clean(panel_rig: pb.PanelRig, variant: str):
    """No console error, no failed request, pageReady, /ws/events live, times in
    AstrBot's zone, nothing off the machine, no horizontal overflow on a phone."""
    options: dict[str, Any] = {}
    if variant == "dark":
        options["color_scheme"] = "dark"
    if variant == "phone":
        options["viewport"] = pb.PHONE
    reports: list[PageReport] = []

    anonymous = await pb.PanelBrowser.open(panel_rig.browser, panel_rig.base, None, **options)
    try:
        _, report = await load_and_check(
            anonymous, "login", "/login", variant=variant, live=False, want_times=False
        )
        reports.append(report)
    finally:
        await anonymous.close()

    panel = await panel_rig.panel(**options)
    try:
        for name, path in panel_rig.pages().items():
            _, report = await load_and_check(
                panel,
                name,
                path,
                variant=variant,
                live=name in ENGINE_PAGES,
                want_times=name in ("overview", "sessions", "session", "journal"),
            )
            reports.append(report)
        if variant == "light":
            page = await panel.new_page()
            await page.goto(panel_rig.base + "/", wait_until="load")
            if not page.url.startswith(panel_rig.base + "/overview"):
                reports.append(PageReport("/", [f"/ went to {page.url}, not /overview"]))
        assert panel.blocked == [], f"requests that would have left the machine: {panel.blocked}"
    finally:
        await panel.close()

    if variant == "light":
        pb.write_artifact(
            "render-timings.json",
            {
                "pages": {r.name: r.timings for r in reports},
                "times_shown": {r.name: r.times_shown for r in reports},
                "units": "ms since navigation start (performance.getEntriesByType('navigation'))",
            },
        )
    if failures(reports):
        pytest.fail("\n" + failures(reports), pytrace=False)


async def test_send_now_reaches_the_platform_and_the_open_journal_within_2s(panel_rig: pb.PanelRig):
    umo = panel_rig.friend2
    text = f"Proactive {time.monotonic_ns()}"
    panel_rig.llm.always(text)
    panel = await panel_rig.panel()
    try:
        journal = await panel.new_page()
        await panel.goto(journal, "/journal")
        await pb.wait_live(journal)
        session = await panel.new_page()
        await panel.goto(session, f"/session?umo={quote(umo, safe='')}")
        await pb.wait_live(session)
        head = await session.inner_text("#session-head")
        assert "Bob" in head or umo.rsplit(":", 1)[1] in head, f"#session-head: {head!r}"
        marks = {p: await pb.set_marker(p) for p in (journal, session)}
        before = len(panel_rig.im.sent_to(umo))
        selector = f'#journal-table tr[data-kind="sent"][data-umo="{umo}"]'

        async def journal_shows_it() -> float:
            await journal.wait_for_selector(selector, timeout=15000)
            return time.monotonic()

        watcher = asyncio.create_task(journal_shows_it())
        await session.bring_to_front()
        clicked = time.monotonic()
        await session.click("#act-trigger")
        sent = await panel_rig.im.wait_for_sent(before + 1, umo=umo, timeout=10)
        delivered = sent[-1]
        assert delivered.text == text and not delivered.is_reply
        shown_at = await asyncio.wait_for(watcher, 15)
        latency = shown_at - delivered.at
        pb.write_artifact(
            "render-timings.json",
            {
                "send_now": {
                    "click_to_platform_ms": round((delivered.at - clicked) * 1000, 1),
                    "platform_to_open_journal_ms": round(latency * 1000, 1),
                }
            },
        )
        assert latency <= 2.0, (
            f"the journal page showed the sent entry {latency:.2f}s after the send"
        )
        row_text = await journal.inner_text(selector)
        assert row_text.strip()
        # The session page follows too, and neither page was reloaded for it.
        await session.wait_for_selector('#session-journal [data-kind="sent"]', timeout=5000)
        for page, mark in marks.items():
            assert await pb.marker_kept(page, mark), f"{page.url} was reloaded"
            assert await page.get_attribute("#events-state", "data-state") == "live"
        await pb.screenshot(session, "session", "after-send")
        await pb.screenshot(journal, "journal", "after-send")
        problems = panel.watch(journal).problems() + panel.watch(session).problems()
        assert problems == [], problems
    finally:
        await panel.close()


async def test_config_change_applies_live_and_open_pages_stay_connected(panel_rig: pb.PanelRig):
    from harness.roots import plugin_config_path

    key = "friend_settings.schedule_settings.max_unanswered_times"
    engine, instance = panel_rig.engine, panel_rig.host.plugin_instance()
    old = engine.settings.friend.schedule.max_unanswered_times
    new = old + 4
    panel = await panel_rig.panel()
    try:
        others = {}
        for name in ("overview", "sessions"):
            page = await panel.new_page()
            await panel.goto(page, f"/{name}")
            await pb.wait_live(page)
            others[name] = (page, await pb.set_marker(page))
        config = await panel.new_page()
        await panel.goto(config, "/config")
        await pb.wait_live(config)
        config_mark = await pb.set_marker(config)

        field_ = config.locator(f'#config-form [name="{key}"]')
        assert await field_.count() == 1, f"no input named {key} in #config-form"
        assert await field_.input_value() == str(old)
        diff_before = await config.inner_text("#config-diff")
        await field_.fill(str(new))
        await field_.dispatch_event("change")
        await config.wait_for_selector('#config-dirty[data-dirty="true"]', timeout=3000)
        try:
            await config.wait_for_function(
                "before => document.getElementById('config-diff').innerText !== before",
                arg=diff_before,
                timeout=3000,
            )
        except Exception:
            diff = await config.inner_text("#config-diff")
            raise AssertionError(f"#config-diff did not follow the edit: {diff!r}") from None
        await pb.screenshot(config, "config", "dirty")

        await config.click("#config-save")
        toast = await config.wait_for_selector("#toasts .toast", timeout=5000)
        assert "toast-error" not in (await toast.get_attribute("class")), await toast.inner_text()
        await async_wait_for(
            lambda: engine.settings.friend.schedule.max_unanswered_times == new,
            5,
            0.02,
            "the engine applying the saved value",
        )
        # Applied by the same plugin instance and engine: AstrBot did not reload it.
        assert panel_rig.host.plugin_instance() is instance
        assert panel_rig.engine is engine
        saved = json.loads(plugin_config_path(panel_rig.host.root).read_text(encoding="utf-8-sig"))
        assert saved["friend_settings"]["schedule_settings"]["max_unanswered_times"] == new
        await config.wait_for_selector('#config-dirty[data-dirty="false"]', timeout=3000)
        assert await config.locator(f'#config-form [name="{key}"]').input_value() == str(new)

        await asyncio.sleep(1.0)  # time for a wrongly triggered reconnect or reload
        for name, (page, mark) in others.items():
            assert await pb.marker_kept(page, mark), f"/{name} was reloaded"
            state = await page.get_attribute("#events-state", "data-state")
            assert state == "live", f"/{name}: #events-state is {state!r} after the save"
        assert await pb.marker_kept(config, config_mark), "/config was reloaded by the save"
        await pb.screenshot(config, "config", "saved")
        problems = [p for watch in panel.watches.values() for p in watch.problems()]
        assert problems == [], problems
    finally:
        await panel.close()


async def switch_and_compare(
    panel: pb.PanelBrowser, page: Any, name: str, path: str, report: PageReport
) -> None:
    """en -> zh -> en on one page, noting what did not change."""
    await panel.goto(page, path, ready=False)
    await page.wait_for_load_state("load")
    lang = await page.get_attribute("html", "lang")
    if not (lang or "").startswith("en"):
        report.add(f"an en-US browser got html lang={lang!r}")
    before = {
        "title": await page.title(),
        "h1": (await page.inner_text("h1")).strip() if await page.query_selector("h1") else "",
        "nav": await page.inner_text(".mainnav") if await page.query_selector(".mainnav") else "",
    }
    async with page.expect_navigation(wait_until="load", timeout=10000):
        await page.click("#lang-zh", timeout=5000)
    if not page.url.startswith(panel.base + path.split("?")[0]):
        report.add(f"the switch went to {page.url}, not back to {path}")
    try:
        await pb.wait_ready(page, 10)
    except Exception:
        report.add("pageReady never set after the switch")
    lang = await page.get_attribute("html", "lang")
    if not (lang or "").startswith("zh"):
        report.add(f"after #lang-zh html lang={lang!r}")
    if await page.get_attribute("#lang-zh", "aria-current") != "true":
        report.add("#lang-zh is not marked aria-current after the switch")
    after = {
        "title": await page.title(),
        "h1": (await page.inner_text("h1")).strip() if await page.query_selector("h1") else "",
        "nav": await page.inner_text(".mainnav") if await page.query_selector(".mainnav") else "",
    }
    for part in ("title", "h1", "nav"):
        if before[part] and before[part] == after[part]:
            report.add(f"{part} did not change: {before[part]!r}")
        if after[part] and not re.search(r"[\u4e00-\u9fff]", after[part]):
            report.add(f"{part} has no Chinese after the switch: {after[part]!r}")
    if keys := await untranslated_keys(page):
        report.add(f"untranslated text keys (zh): {keys}")
    await pb.screenshot(page, name, "zh")
    async with page.expect_navigation(wait_until="load", timeout=10000):
        await page.click("#lang-en", timeout=5000)
    if not (await page.get_attribute("html", "lang") or "").startswith("en"):
        report.add("#lang-en did not switch back to English")


async def test_language_switch_changes_the_visible_texts(panel_rig: pb.PanelRig):
    panel = await panel_rig.panel(locale="en-US")
    reports: list[PageReport] = []
    try:
        page = await panel.new_page()
        for name, path in panel_rig.pages().items():
            report = PageReport(name)
            reports.append(report)
            try:
                await switch_and_compare(panel, page, name, path, report)
            except Exception as exc:  # a missing element: say where, go on
                report.add(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        report = PageReport("all")
        report.problems += panel.watch(page).problems()
        reports.append(report)
    finally:
        await panel.close()
    if failures(reports):
        pytest.fail("\n" + failures(reports), pytrace=False)


async def test_keyboard_reaches_the_navigation_and_each_primary_action(panel_rig: pb.PanelRig):
    panel = await panel_rig.panel()
    problems: list[str] = []
    try:
        page = await panel.new_page()

        # The main navigation: Tab reaches it, Enter follows the link.
        await panel.goto(page, "/overview")
        if await pb.tab_until(page, '.mainnav a[href="/journal"]') is None:
            problems.append("/overview: Tab never reached the Journal link of the main nav")
        else:
            await page.keyboard.press("Enter")
            await page.wait_for_url(panel_rig.base + "/journal", timeout=5000)
            await pb.wait_ready(page)

        # Session detail: "send now" is the primary action.
        umo = panel_rig.friend2
        before = len(panel_rig.im.sent_to(umo))
        await panel.goto(page, f"/session?umo={quote(umo, safe='')}")
        await pb.wait_live(page)
        presses = await pb.tab_until(page, "#act-trigger")
        if presses is None:
            problems.append("/session: Tab never reached #act-trigger")
        else:
            await page.keyboard.press("Enter")
            try:
                await panel_rig.im.wait_for_sent(before + 1, umo=umo, timeout=10)
            except AssertionError:
                problems.append("/session: Enter on #act-trigger sent nothing")

        # Sessions: the search field, Enter runs the search.
        await panel.goto(page, "/sessions")
        if await pb.tab_until(page, "#session-search") is None:
            problems.append("/sessions: Tab never reached #session-search")
        else:
            needle = panel_rig.group.rsplit(":", 1)[1]
            await page.keyboard.type(needle)
            await page.keyboard.press("Enter")
            try:
                await page.wait_for_function(
                    """umo => { const rows = [...document.querySelectorAll('#sessions-table tr[data-umo]')];
                      return rows.length === 1 && rows[0].dataset.umo === umo; }""",
                    arg=panel_rig.group,
                    timeout=5000,
                )
            except Exception:
                shown = await page.eval_on_selector_all(
                    "#sessions-table tr[data-umo]", "rows => rows.map(r => r.dataset.umo)"
                )
                problems.append(f"/sessions: searching {needle!r} shows {shown}")

        # Config: change a value, Tab to save, Enter saves.
        await panel.goto(page, "/config")
        key = "friend_settings.schedule_settings.min_interval_minutes"
        field_ = page.locator(f'#config-form [name="{key}"]')
        if await field_.count() != 1:
            problems.append(f"/config: no input named {key}")
        else:
            await field_.fill("31")
            await field_.dispatch_event("change")
            if await pb.tab_until(page, "#config-save", max_tabs=200) is None:
                problems.append("/config: Tab never reached #config-save")
            else:
                await page.keyboard.press("Enter")
                try:
                    await async_wait_for(
                        lambda: (
                            panel_rig.engine.settings.friend.schedule.min_interval_minutes == 31
                        ),
                        5,
                        0.02,
                    )
                except AssertionError:
                    problems.append("/config: Enter on #config-save did not save")
        problems += panel.watch(page).problems()
    finally:
        await panel.close()
    assert not problems, "\n".join(problems)


async def test_live_rows_show_the_tools_a_message_used_as_a_list(panel_rig: pb.PanelRig):
    """A sent entry that arrives live reads "search_web (120 ms), draw ✗" on the open
    Journal and session pages, as the server renders it (not raw JSON)."""
    umo = panel_rig.friend2
    panel = await panel_rig.panel()
    try:
        journal = await panel.new_page()
        await panel.goto(journal, "/journal")
        await pb.wait_live(journal)
        session = await panel.new_page()
        await panel.goto(session, f"/session?umo={quote(umo, safe='')}")
        await pb.wait_live(session)
        calls = [
            {"name": "search_web", "provider": "m", "ms": 120, "ok": True},
            {"name": "draw", "provider": "m", "ms": 4, "ok": False},
        ]
        panel_rig.engine.journal(umo, "sent", "sent (1 part(s))", text="hi", model="x", tools=calls)
        row = f'#journal-table tr[data-kind="sent"][data-umo="{umo}"] .jr-tools'
        await journal.wait_for_selector(row, timeout=5000)
        assert (await journal.inner_text(row)).strip() == "search_web (120 ms), draw ✗"
        line = '#session-journal [data-kind="sent"] .j-writing'
        await session.wait_for_selector(line, timeout=5000)
        assert "search_web (120 ms), draw ✗" in await session.inner_text(line)
        problems = panel.watch(journal).problems() + panel.watch(session).problems()
        assert problems == [], problems
    finally:
        await panel.close()


async def test_a_promise_shows_live_on_the_session_page_and_is_cancelled_there(
    panel_rig: pb.PanelRig,
):
    umo = panel_rig.friend2
    panel = await panel_rig.panel()
    try:
        session = await panel.new_page()
        await panel.goto(session, f"/session?umo={quote(umo, safe='')}")
        await pb.wait_live(session)
        assert await session.is_hidden("#session-promise-row")
        panel_rig.engine.on_user_message(umo, "Bob")
        panel_rig.engine.on_bot_message(umo, "好的，我二十分钟后提醒你喝水。")
        await session.wait_for_selector("#session-promise-row", state="visible", timeout=5000)
        assert "二十分钟后提醒你" in await session.inner_text("#session-promise-sentence")
        await session.click("#promise-cancel")
        await session.wait_for_selector("#session-promise-row", state="hidden", timeout=5000)
        assert panel_rig.engine.promise_of(umo) is None
        await session.wait_for_selector('#session-journal [data-kind="manual"]', timeout=5000)
        problems = panel.watch(session).problems()
        assert problems == [], problems
    finally:
        await panel.close()
