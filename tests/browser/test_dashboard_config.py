"""AstrBot's own dashboard (a real `astrbot run`) shows the plugin in one language per
locale: its card, and its config dialog, whose texts come from the plugin's AstrBot i18n
files (.astrbot-plugin/i18n/<locale>.json).

The panel's address is in the config's help text. About a minute (one
``astrbot run``, both locales). Screenshots: ``dashboard-card-<locale>.png`` and ``dashboard-config-<locale>.png`` in
test-artifacts/ (``PC_ARTIFACTS`` overrides).
"""

from __future__ import annotations

import json
import re

import pytest

from harness.panel_browser import ARTIFACTS
from harness.ports import free_port
from harness.roots import PLUGIN_NAME, REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.process]

FIRST_PASSWORD = "Dashboard-Passw0rd-1a"
PASSWORD = "Dashboard-Passw0rd-2b"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# The dialog's own title, written by AstrBot (config_service.get_plugin_config).
ASTRBOT_TITLE = f"{PLUGIN_NAME} 配置"


def _texts(locale: str) -> dict:
    path = REPO_ROOT / ".astrbot-plugin" / "i18n" / f"{locale}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _descriptions(node: dict) -> list[str]:
    out = []
    for key, value in node.items():
        if key == "description" and isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict):
            out.extend(_descriptions(value))
    return out


def _open_dialog(browser, base: str, token: str, locale: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    # Before the dashboard's scripts run: its login token and language.
    context.add_init_script(
        f"localStorage.setItem('token', {json.dumps(token)});"
        f"localStorage.setItem('user', 'astrbot');"
        f"localStorage.setItem('astrbot-locale', {json.dumps(locale)});"
    )
    page = context.new_page()
    page.goto(f"{base}/#/extension")
    name = _texts(locale)["metadata"]["display_name"]
    card = page.locator(".v-card", has_text=name).last
    card.wait_for(timeout=30000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-card-{locale}.png"))
    card.locator("button:has(.mdi-cog)").first.click()
    dialog = page.locator(".v-overlay--active .v-card", has_text=ASTRBOT_TITLE).last
    first = _texts(locale)["config"]["friend_settings"]["description"]
    dialog.get_by_text(first, exact=True).first.wait_for(timeout=15000)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-config-{locale}.png"))
    return context, dialog.inner_text()


def _check(locale: str, text: str) -> None:
    own = set(_descriptions(_texts(locale)["config"]))
    other = set(_descriptions(_texts("zh-CN" if locale == "en-US" else "en-US")["config"]))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    shown = own & set(lines)
    assert len(shown) >= 40, f"{locale}: {len(shown)} of our labels shown:\n{text[:2000]}"
    assert not (other & set(lines)) - own, f"{locale}: labels of the other language are shown"
    assert not [line for line in lines if " / " in line and CJK.search(line)]
    if locale == "en-US":
        chinese = [line for line in lines if CJK.search(line) and line != ASTRBOT_TITLE]
        assert chinese == [], chinese


def test_the_config_dialog_shows_one_language_per_locale(process_host, browser) -> None:
    proc = process_host(
        plugin_config={"web_admin": {"port": free_port(), "password": "Panel-Passw0rd-3c"}},
        password=FIRST_PASSWORD,
    )
    # A fresh root asks for a new dashboard password first, over every page.
    proc.api(
        "PATCH",
        "/auth/account",
        json={"password": FIRST_PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD},
    )
    token = proc.login(PASSWORD)
    for locale in ("en-US", "zh-CN"):
        context, text = _open_dialog(browser, proc.base_url, token, locale)
        try:
            _check(locale, text)
            # AstrBot 4.29 shows plugin hints as plain text (no links): the address is there.
            assert "http://127.0.0.1:4100/" in text, f"{locale}: the panel's address is not shown"
        finally:
            context.close()
