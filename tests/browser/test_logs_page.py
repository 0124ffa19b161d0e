"""The live-log page in headless Chromium against a real `astrbot run`: login, a line
the plugin logs shows up, and config saves in the AstrBot dashboard (hot reloads) are
survived by the open page with no duplicated and no missing lines."""

from __future__ import annotations

import re
import time

import pytest

from harness.ports import free_port

pytestmark = [pytest.mark.browser, pytest.mark.process]

PASSWORD = "Browser-Passw0rd-9"


def panel_config(port: int, buffer: int = 2000) -> dict:
    return {"web_admin": {"port": port, "password": PASSWORD, "log_buffer_size": buffer}}


def shown_seqs(page) -> list[int]:
    return page.eval_on_selector_all("#log .row[data-seq]", "rows => rows.map(r => +r.dataset.seq)")


def row_texts(page) -> list[str]:
    return page.eval_on_selector_all("#log .row[data-seq]", "rows => rows.map(r => r.textContent)")


def test_login_follow_and_survive_saves(process_host, page):
    from tests.browser.conftest import screenshot

    port = free_port()
    proc = process_host(plugin_config=panel_config(port))
    base = f"http://127.0.0.1:{port}"

    page.goto(f"{base}/logs")
    assert page.url.startswith(f"{base}/login"), "not logged in: /logs must send us to login"
    page.fill("#password", "wrong password")
    page.click("#login-btn")
    page.wait_for_selector("#login-error:not([hidden])", timeout=5000)
    assert page.inner_text("#login-error").strip()

    page.fill("#password", PASSWORD)
    began = time.monotonic()
    page.click("#login-btn")
    page.wait_for_url(f"{base}/logs", timeout=5000)
    # Everything, so sequence numbers on the page must be contiguous.
    page.select_option("#level", "DEBUG")
    page.select_option("#scope", "all")
    page.wait_for_selector("#conn-state[data-state=live]", timeout=5000)
    # The plugin logs the login itself: it must be on the page within 2 s.
    page.wait_for_function(
        "() => [...document.querySelectorAll('#log .row')].some(r => r.textContent.includes('Panel login from'))",
        timeout=2000,
    )
    assert time.monotonic() - began < 2.5 + 2.0
    screenshot(page, "browser-logs-live")

    for save in range(3):
        before = len(re.findall("Admin panel:", "\n".join(row_texts(page))))
        proc.save_plugin_config(panel_config(port, 2000 + save + 1))
        # The page reconnects by itself and shows the new instance's announcement.
        page.wait_for_function(
            "n => [...document.querySelectorAll('#log .row')].filter(r => r.textContent.includes('Admin panel:')).length > n",
            arg=before,
            timeout=10000,
        )
        page.wait_for_selector("#conn-state[data-state=live]", timeout=10000)

    seqs = shown_seqs(page)
    assert seqs, "no lines shown"
    assert len(seqs) == len(set(seqs)), "a line is shown twice"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a line is missing"
    assert page.query_selector_all("#log .row.marker[data-marker=gap]") == []
    assert proc.alive()
    assert not page.console_errors or all("401" in e or "429" in e for e in page.console_errors), (
        page.console_errors
    )
    screenshot(page, "browser-logs-after-saves")


def test_languages_themes_small_screens_and_offline(process_host, browser):
    """zh and en, light and dark, a phone-sized screen, and not one request leaves the host."""
    from tests.browser.conftest import screenshot

    port = free_port()
    process_host(plugin_config=panel_config(port))
    base = f"http://127.0.0.1:{port}"
    for width, lang in ((1280, "zh-CN"), (375, "en-US")):
        context = browser.new_context(viewport={"width": width, "height": 800}, locale=lang)
        page = context.new_page()
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        page.on(
            "console", lambda m, seen=errors: seen.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e, seen=errors: seen.append(str(e)))

        page.goto(f"{base}/login?next=/logs")
        # The browser's language picks the page's language.
        expected_lang = "zh" if lang.startswith("zh") else "en"
        assert page.get_attribute("html", "lang").startswith(expected_lang[:2])
        page.fill("#password", PASSWORD)
        page.click("#login-btn")
        page.wait_for_url(f"{base}/logs", timeout=5000)
        page.wait_for_selector("#conn-state[data-state=live]", timeout=5000)
        title_before = page.inner_text("h1, h2")

        # Switching the language changes the visible texts.
        other = "en" if expected_lang == "zh" else "zh"
        page.click(f"#lang-{other}")
        page.wait_for_selector(f"#lang-{other}[aria-current=true]", timeout=5000)
        assert page.inner_text("h1, h2") != title_before

        # The theme toggle flips light and dark and the choice survives a reload.
        theme = page.get_attribute("html", "data-theme")
        page.click("#theme-toggle")
        flipped = page.get_attribute("html", "data-theme")
        assert {theme, flipped} == {"light", "dark"}
        page.reload()
        assert page.get_attribute("html", "data-theme") == flipped
        page.wait_for_selector("#conn-state[data-state=live]", timeout=5000)
        screenshot(page, f"browser-logs-{other}-{flipped}-{width}")

        # Nothing fits wider than the screen on a phone.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"page is {overflow}px wider than a {width}px screen"

        outside = [url for url in requests if not url.startswith((base, "data:", "blob:"))]
        assert outside == [], outside
        assert errors == [], errors
        context.close()
