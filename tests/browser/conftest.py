"""Playwright driving Debian's Chromium (never a browser download)."""

from __future__ import annotations

from pathlib import Path

import pytest

# One definition of the browser, its flags and the artifact folder, shared with the
# async-API tests (test_panel_pages.py) and bench/panel_pages.py.
from harness.panel_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

__all__ = ["ARTIFACTS", "CHROMIUM", "CHROMIUM_ARGS", "screenshot"]


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's sync API runs an event loop in this thread while it
    # is open, and the async tests of other modules need the thread to themselves.
    # test_panel_pages.py uses the async API and none of these fixtures.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run the tests with `bash scripts/test.sh`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh page that records console errors and failed requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.console_errors = []
    page.failed_requests = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: page.failed_requests.append(r.url))
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
async def panel_rig(chat_host_factory):
    """For async tests (Playwright's async API): a host whose panel listens on a free
    port, with three real sessions and one message sent, and Debian's Chromium
    (``harness.panel_browser.open_panel_rig``). Never mix it with ``browser``/``page``
    in one module."""
    from harness.panel_browser import open_panel_rig

    async with open_panel_rig(chat_host_factory) as rig:
        yield rig
