"""The panel as a page of AstrBot's own dashboard (a real ``astrbot run``, its built
dashboard, Debian's Chromium), with the own-port panel switched off.

Log into the dashboard, open the plugin's page (``#/plugin-view/<plugin>/panel``), see
the overview live, press "send now" on a webchat session and watch its journal get the
message without a reload, switch the dashboard's language and theme, save the plugin's
config (AstrBot hot-reloads the plugin) and see the page recover by itself.

About a minute and a half (one ``astrbot run``). Screenshots in test-artifacts/:
``dashboard-page-<view>-<lang>[-390].png``.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest

from harness.llm_fixtures import fake_llm, llm_process_host  # noqa: F401  (fixtures)
from harness.panel_browser import ARTIFACTS
from harness.ports import free_port
from harness.roots import PLUGIN_NAME, place_plugin
from harness.webchat import WebChatSession

pytestmark = [pytest.mark.browser, pytest.mark.process]

FIRST_PASSWORD = "Dashboard-Page-Passw0rd-1a"
PASSWORD = "Dashboard-Page-Passw0rd-2b"
FRAME = "iframe.plugin-view-frame"
PHONE = {"width": 390, "height": 844}


def _call(proc, method: str, path: str, body=None, token: str | None = None) -> httpx.Response:
    """Our ``call`` route from outside, as the dashboard's bridge sends it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{proc.base_url}/api/v1/plugins/extensions/{PLUGIN_NAME}/call",
        json={"method": method, "path": path, "body": body, "lang": "en-US"},
        headers=headers,
        timeout=30,
    )


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-page-{name}.png"))


def _open(browser, proc, token: str, locale: str, viewport=None):
    context = browser.new_context(viewport=viewport or {"width": 1400, "height": 900})
    context.add_init_script(
        f"localStorage.setItem('token', {json.dumps(token)});"
        f"localStorage.setItem('user', 'astrbot');"
        f"if (!localStorage.getItem('astrbot-locale'))"
        f" localStorage.setItem('astrbot-locale', {json.dumps(locale)});"
    )
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{proc.base_url}/#/plugin-view/{PLUGIN_NAME}/panel")
    return context, page, page.frame_locator(FRAME)


LOG_TAIL: list = []  # the running process's log_tail, for a failure's message


def _live(page, frame, timeout: float = 30000) -> None:
    try:
        frame.locator('#events-state[data-state="live"]').wait_for(timeout=timeout)
    except Exception:
        _shot(page, "failure")
        body = frame.locator("body").inner_text(timeout=2000)
        raise AssertionError(
            f"not live; console: {page.console_errors}; page: {body[:600]}; "
            f"log: {LOG_TAIL[0](400) if LOG_TAIL else ''}"
        ) from None


def _dashboard_option(page, group: str, item) -> None:
    """AstrBot's header menu (Options): a group (language, theme), then one of its items."""
    page.locator("header button", has_text=re.compile("Options|选项")).first.click()
    page.locator(f".{group}-group-trigger").first.click()
    page.locator(".v-overlay--active .v-list-item", has=item).last.click()
    page.keyboard.press("Escape")


def test_the_panel_opens_in_astrbots_dashboard(llm_process_host, fake_llm, browser) -> None:  # noqa: F811
    proc = llm_process_host(
        {
            "web_admin": {"enabled": False, "port": free_port(), "password": "Panel-Passw0rd-3c"},
            "friend_settings": {"enable": True, "session_list": []},
        },
        password=FIRST_PASSWORD,
        start=False,
    )
    # A copy, as a user's install: AstrBot serves no views of a plugin folder that is a
    # link leading outside its plugins folder (the harness's default).
    place_plugin(proc.root, copy=True)
    proc.launch()
    LOG_TAIL[:] = [proc.log_tail]
    proc.api(
        "PATCH",
        "/auth/account",
        json={"password": FIRST_PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD},
    )
    token = proc.login(PASSWORD)

    # Behind AstrBot's login only: no token, no answer.
    assert _call(proc, "GET", "/api/status").status_code == 401
    chat = WebChatSession.create(proc)
    fake_llm.script("Nice to meet you.")
    chat.send("hello there")
    r = _call(proc, "PUT", f"/api/sessions/{chat.umo}/override", {"enable": True}, token)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["code"] == 200, r.text

    context, page, frame = _open(browser, proc, token, "en-US")
    try:
        _live(page, frame)
        frame.locator("#main").wait_for()
        _shot(page, "overview-en")

        # The journal in a second tab; the session in this one: "send now", and both
        # journals get the message without a reload.
        journal = context.new_page()
        journal.console_errors = []
        journal.goto(f"{proc.base_url}/#/plugin-view/{PLUGIN_NAME}/panel")
        journal_frame = journal.frame_locator(FRAME)
        journal_frame.locator('.mainnav a[href="/journal"]').click()
        _live(journal, journal_frame)
        frame.locator('.mainnav a[href="/sessions"]').click()
        frame.locator("a.session-link").first.click()
        _live(page, frame)
        fake_llm.script("Hey, how are you doing today?")
        frame.locator("#act-trigger").click()
        frame.locator('#session-journal li[data-kind="sent"]').first.wait_for(timeout=30000)
        # The override editor (schema_form.js, imported at run time) is there.
        frame.locator("#override-editor input").first.wait_for(timeout=15000)
        _shot(page, "session-en")
        sent_row = journal_frame.locator('#journal-table tr[data-kind="sent"]').first
        sent_row.wait_for(timeout=15000)
        _shot(journal, "journal-en")
        journal.close()

        ready = {"logs": "#logs-heading", "config": "#config-form input", "help": "#main h2"}
        for view, selector in ready.items():
            frame.locator(f'.mainnav a[href="/{view}"]').click()
            frame.locator(selector).first.wait_for(timeout=15000)
            page.wait_for_timeout(300)
            _shot(page, f"{view}-en")

        # A dashboard save hot-reloads the plugin: the open page comes back by itself.
        frame.locator('.mainnav a[href="/overview"]').click()
        _live(page, frame)
        config = proc.get_plugin_config()
        proc.save_plugin_config({"web_admin": config["web_admin"]})
        _live(page, frame, timeout=45000)

        # The dashboard's language and theme, switched while the page is open.
        _dashboard_option(page, "language", page.get_by_text("简体中文"))
        frame.locator('html[lang^="zh"]').wait_for(state="attached", timeout=15000)
        _live(page, frame)
        frame.get_by_text("概览").first.wait_for()
        _shot(page, "overview-zh")
        _dashboard_option(page, "theme", page.locator(".mdi-weather-night"))
        frame.locator('html[data-theme="dark"]').wait_for(state="attached", timeout=15000)
        page.wait_for_timeout(300)
        _shot(page, "overview-zh-dark")
        _dashboard_option(page, "language", page.get_by_text("English"))
        frame.locator('html[lang="en"]').wait_for(state="attached", timeout=15000)
        _live(page, frame)
        _shot(page, "overview-en-dark")
        assert not [e for e in page.console_errors if "proactive" in e.lower()], page.console_errors
    except Exception:
        _shot(page, "failure")
        raise
    finally:
        context.close()

    for locale, lang in (("zh-CN", "zh"), ("en-US", "en")):
        context, page, frame = _open(browser, proc, token, locale, PHONE)
        try:
            _live(page, frame)
            _shot(page, f"overview-{lang}-390")
        finally:
            context.close()
