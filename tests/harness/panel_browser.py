"""Helpers for driving the admin panel in Debian's Chromium with Playwright's ASYNC API.

The in-process AstrBot host (``harness.inprocess``) runs on the test's event loop, so
the browser must share that loop: ``playwright.async_api`` only, never the sync API in
the same module (the sync API runs its own loop in the thread; see the comment in
tests/browser/conftest.py). The benchmark ``bench/panel_pages.py`` uses these too.

What a test gets from here:
    - ``launch(playwright)``: Debian's Chromium (never a download), the CI-safe flags.
    - ``PanelBrowser``: one browser context on one panel, logged in over HTTP (the
      cookie lands in the context), every page watched by a ``PageWatch``.
    - ``PageWatch``: console errors, page errors, failed requests, HTTP errors, and
      every URL the page asked for (requests leaving 127.0.0.1 are aborted and kept).
    - ``wait_ready`` / ``timings``: ``pageReady`` (set by every page script when its
      first render is done) and the navigation timings, including when it was set.
    - ``screenshot`` / ``write_artifact``: files under ``test-artifacts/``
      (``PC_ARTIFACTS`` overrides).
    - ``open_panel_rig``: a host with the panel, a few real sessions and Chromium
      (the ``panel_rig`` fixture of tests/browser/conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PC_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("PC_ARTIFACTS", REPO_ROOT / "test-artifacts"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

# Runs before any page script: note (performance.now()) when the page script sets
# data-page-ready, so the time to the first real render can be read afterwards.
READY_PROBE = """
(() => {
  const seen = () => {
    const root = document.documentElement;
    if (root && root.dataset.pageReady === "1" && window.__pcReadyAt === undefined) {
      window.__pcReadyAt = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, {
    attributes: true, subtree: true, childList: true, attributeFilter: ["data-page-ready"],
  });
})();
"""

NAV_TIMINGS = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  if (!nav) return null;
  const ms = (value) => (value === null || value === undefined ? null : Math.round(value * 10) / 10);
  return {
    responseEnd: ms(nav.responseEnd),
    domContentLoaded: ms(nav.domContentLoadedEventEnd),
    load: ms(nav.loadEventEnd),
    pageReady: ms(window.__pcReadyAt),
    transferSize: nav.transferSize,
  };
}
"""


def artifact_path(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


async def screenshot(page: Any, name: str, variant: str) -> Path:
    """``test-artifacts/page-<name>-<variant>.png``, the whole page."""
    path = artifact_path(f"page-{name}-{variant}.png")
    await page.screenshot(path=str(path), full_page=True)
    return path


def write_artifact(name: str, data: Any) -> Path:
    """A JSON artifact; an existing file's top-level keys are kept (several tests add)."""
    path = artifact_path(name)
    merged: Any = data
    if isinstance(data, dict) and path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            old = None
        if isinstance(old, dict):
            merged = {**old, **data}
    path.write_text(json.dumps(merged, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return path


def chromium_path() -> str:
    """Debian's Chromium; fails with the remedy if it is missing (never a download)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run the tests with `bash scripts/test.sh`")
    return CHROMIUM


async def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless."""
    return await playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def is_local(url: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True
    return (urlsplit(url).hostname or "") in {h.strip("[]") for h in LOCAL_HOSTS}


@dataclass
class PageWatch:
    """Everything that went wrong on one page, and every URL it asked for."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)
    navigations: list[str] = field(default_factory=list)
    # Statuses a test expects (e.g. 401 on a wrong password): not counted as problems.
    allowed_statuses: set[int] = field(default_factory=set)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("websocket", lambda ws: self.websockets.append(ws.url))
        page.on(
            "framenavigated",
            lambda frame: (
                self.navigations.append(frame.url) if frame.parent_frame is None else None
            ),
        )

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        location = message.location or {}
        if location.get("url"):
            text += f" ({location['url']}:{location.get('lineNumber')})"
        # Chromium logs every non-2xx fetch as a console error; expected ones are allowed.
        if any(f"status of {code}" in text for code in self.allowed_statuses):
            return
        self.console_errors.append(text)

    def _failed(self, request: Any) -> None:
        failure = request.failure or ""
        # A navigation away aborts what the old page still had in flight (a fetch, the
        # favicon): not a failure. Blocked or refused requests have other codes.
        if "ERR_ABORTED" in failure:
            return
        self.failed_requests.append(f"{request.method} {request.url}: {failure}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.status not in self.allowed_statuses:
            self.http_errors.append(f"{response.status} {response.request.method} {response.url}")

    def outside(self) -> list[str]:
        """URLs (requests and WebSockets) that were not for this machine."""
        return [u for u in self.requests + self.websockets if not is_local(u)]

    def problems(self) -> list[str]:
        return (
            [f"console error: {e}" for e in self.console_errors]
            + [f"page error: {e}" for e in self.page_errors]
            + [f"failed request: {e}" for e in self.failed_requests]
            + [f"HTTP error: {e}" for e in self.http_errors]
            + [f"request left the machine: {u}" for u in self.outside()]
        )

    def clear(self) -> None:
        for name in ("console_errors", "page_errors", "failed_requests", "http_errors"):
            getattr(self, name).clear()


class PanelBrowser:
    """One browser context on one panel. ``await PanelBrowser.open(browser, base, pw)``."""

    def __init__(self, context: Any, base: str) -> None:
        self.context = context
        self.base = base
        self.blocked: list[str] = []
        self.watches: dict[Any, PageWatch] = {}

    @classmethod
    async def open(
        cls,
        browser: Any,
        base: str,
        password: str | None,
        *,
        viewport: dict | None = None,
        locale: str = "en-US",
        color_scheme: str = "light",
        timezone_id: str = "America/New_York",
    ) -> PanelBrowser:
        """A new context; with ``password``, logged in (the session cookie is set)."""
        context = await browser.new_context(
            viewport=viewport or DESKTOP,
            locale=locale,
            color_scheme=color_scheme,
            timezone_id=timezone_id,
        )
        panel = cls(context, base)
        await context.add_init_script(READY_PROBE)
        await context.route("**/*", panel._route)
        if password is not None:
            await panel.login(password)
        return panel

    async def _route(self, route: Any) -> None:
        url = route.request.url
        if is_local(url):
            await route.continue_()
        else:  # the panel must work offline: nothing may leave this machine
            self.blocked.append(url)
            await route.abort("blockedbyclient")

    async def login(self, password: str) -> None:
        response = await self.context.request.post(
            f"{self.base}/api/login", data={"password": password}
        )
        if response.status != 200:
            raise AssertionError(f"login failed: {response.status} {await response.text()}")

    async def new_page(self, allowed_statuses: set[int] | None = None) -> Any:
        page = await self.context.new_page()
        watch = PageWatch(allowed_statuses=set(allowed_statuses or ()))
        watch.attach(page)
        self.watches[page] = watch
        return page

    def watch(self, page: Any) -> PageWatch:
        return self.watches[page]

    async def goto(self, page: Any, path: str, *, ready: bool = True, within: float = 10) -> Any:
        response = await page.goto(self.base + path, wait_until="load", timeout=within * 1000)
        if ready:
            await wait_ready(page, within)
        return response

    async def close(self) -> None:
        await self.context.close()


async def wait_ready(page: Any, within: float = 10) -> None:
    """Until the page script says its first render is done (``data-page-ready="1"``)."""
    await page.wait_for_function(
        "() => document.documentElement.dataset.pageReady === '1'", timeout=within * 1000
    )


async def wait_live(page: Any, within: float = 10) -> None:
    """Until ``#events-state`` says ``/ws/events`` is connected."""
    await page.wait_for_selector("#events-state[data-state=live]", timeout=within * 1000)


async def timings(page: Any) -> dict[str, Any] | None:
    """Navigation timings of the current document (ms since navigation start)."""
    return await page.evaluate(NAV_TIMINGS)


async def set_marker(page: Any) -> str:
    """A value in ``window`` that only survives as long as the document does."""
    value = f"m{time.monotonic_ns()}"
    await page.evaluate("v => { window.__pcMarker = v; }", value)
    return value


async def marker_kept(page: Any, value: str) -> bool:
    return await page.evaluate("v => window.__pcMarker === v", value)


async def overflow_px(page: Any) -> int:
    """How much wider than the window the document is (0 = fits)."""
    return await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


async def overflowing_elements(page: Any, limit: int = 8) -> list[str]:
    """The outermost elements that stick out to the right, for a readable failure."""
    return await page.evaluate(
        """limit => {
          const width = window.innerWidth, out = [];
          for (const node of document.body.querySelectorAll("*")) {
            const box = node.getBoundingClientRect();
            if (box.right > width + 1 && !(node.parentElement &&
                node.parentElement.getBoundingClientRect().right > width + 1)) {
              const id = node.id ? "#" + node.id : "";
              const cls = node.classList.length ? "." + [...node.classList].join(".") : "";
              out.push(`${node.tagName.toLowerCase()}${id}${cls} right=${Math.round(box.right)}`);
              if (out.length >= limit) break;
            }
          }
          return out;
        }""",
        limit,
    )


TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$")


async def time_problems(page: Any, zone: str) -> tuple[int, list[str]]:
    """Check every ``<time class="ts">``: shown in AstrBot's zone (``zone``), with a
    relative text beside it. Returns (how many, problems)."""
    shown = await page.eval_on_selector_all(
        "time.ts[data-ts]",
        """nodes => nodes.map(n => ({
            ts: Number(n.dataset.ts), text: n.textContent.trim(),
            rel: n.nextElementSibling && n.nextElementSibling.classList.contains("rel")
                 ? n.nextElementSibling.textContent.trim() : null,
            visible: !!(n.offsetWidth || n.offsetHeight || n.getClientRects().length)}))""",
    )
    problems = []
    tz = ZoneInfo(zone)
    for item in shown:
        text, ts = item["text"], item["ts"]
        if not TIME_TEXT.match(text):
            problems.append(f"time {ts}: text {text!r} is not YYYY-MM-DD HH:MM")
            continue
        expected = datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")
        if not text.startswith(expected):
            problems.append(f"time {ts}: shows {text!r}, in {zone} it is {expected!r}")
        if not item["rel"]:
            problems.append(f"time {ts} ({text}): no relative time beside it")
    return len(shown), problems


async def tab_until(page: Any, selector: str, max_tabs: int = 80) -> int | None:
    """Press Tab from the top of the page until ``selector`` has the focus; the number
    of presses, or None if it was never reached."""
    await page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    await page.evaluate("() => window.scrollTo(0, 0)")
    for presses in range(1, max_tabs + 1):
        await page.keyboard.press("Tab")
        if await page.evaluate(
            "sel => !!document.activeElement && document.activeElement.matches(sel)", selector
        ):
            return presses
    return None


# -- a host with the panel, a few sessions and Chromium (tests/browser/conftest.py) ----

RIG_PASSWORD = "Panel-Browser-Passw0rd-7"
RIG_ZONE = "Asia/Shanghai"  # AstrBot's zone; the browser contexts run in America/New_York
RIG_MODEL_TEXT = "Scripted hello from the model"
# Hostile text (chat names, model answers, log lines...): each sets window.__pwn if it
# is ever parsed as HTML or followed as a URL.
HOSTILE = [
    "<script>window.__pwn='script'</script>",
    "<img src=x onerror=\"window.__pwn='img'\">",
    '"><svg onload="window.__pwn=\'svg\'">',
    "javascript:window.__pwn='href'",
    "</script><script>window.__pwn='json'</script>",
]

INJECTED = """() => ({
  pwn: window.__pwn || null,
  nodes: [...document.querySelectorAll(
    "script:not([src]):not([type='application/json']), img[onerror], svg[onload], [onerror], [onload], a[href^='javascript:' i]"
  )].map(n => n.outerHTML.slice(0, 120)),
})"""


async def injected(page: Any) -> dict:
    """``pwn``: what a hostile text set, if any ran; ``nodes``: markup that should not be
    in the page (inline scripts, event handler attributes, ``javascript:`` links)."""
    return await page.evaluate(INJECTED)


# A chat user's name that must stay text: if a page parses it as HTML, #pc-xss exists.
XSS_NAME = 'Alice <img src="x" id="pc-xss">'
CROWD = 60  # extra listed sessions, made only on demand: more than one page (50)


def rig_plugin_config(port: int, friends: list[str], groups: list[str]) -> dict:
    """The panel on ``port``; the given sessions served; plans 30-60 min away, no
    quiet hours, so nothing fires on its own during a test."""

    def schedule(cap: int) -> dict:
        return {
            "min_interval_minutes": 30,
            "max_interval_minutes": 60,
            "quiet_hours": "",
            "max_unanswered_times": cap,
        }

    return {
        "web_admin": {"port": port, "password": RIG_PASSWORD},
        "friend_settings": {
            "enable": True,
            "session_list": friends,
            "schedule_settings": schedule(3),
        },
        "group_settings": {
            "enable": True,
            "session_list": groups,
            "group_idle_trigger_minutes": 30,
            "schedule_settings": schedule(2),
        },
    }


@dataclass
class PanelRig:
    """What a panel test works with; see ``open_panel_rig``."""

    host: Any
    base: str
    friend: str  # a private chat with a journal and one message sent
    friend2: str  # a private chat ("Bob") left alone, for actions
    group: str
    crowd: list[str] = field(default_factory=list)  # listed, not seen until make_crowd()
    browser: Any = None

    @property
    def engine(self) -> Any:
        return self.host.plugin_instance().service.engine

    @property
    def im(self) -> Any:
        from harness import stand_ins

        return stand_ins.platform(self.host)

    @property
    def llm(self) -> Any:
        from harness import stand_ins

        return stand_ins.provider(self.host)

    async def make_crowd(self) -> list[str]:
        """Give every crowd session a user message (as AstrBot's pipeline would)."""
        for index, umo in enumerate(self.crowd):
            self.engine.on_user_message(umo, f"Crowd {index:02d}")
        await self.engine.store.flush()
        return self.crowd

    def pages(self) -> dict[str, str]:
        """Page name -> path, for every page a logged-in admin can open."""
        from urllib.parse import quote

        return {
            "overview": "/overview",
            "sessions": "/sessions",
            "session": f"/session?umo={quote(self.friend, safe='')}",
            "journal": "/journal",
            "logs": "/logs",
            "config": "/config",
            "help": "/help",
        }

    async def panel(self, **kwargs: Any) -> PanelBrowser:
        """A new browser context, logged in."""
        return await PanelBrowser.open(self.browser, self.base, RIG_PASSWORD, **kwargs)


@asynccontextmanager
async def open_panel_rig(chat_host_factory: Any) -> AsyncIterator[PanelRig]:
    """A host (scripted LLM, recording IM platform, AstrBot's zone ``RIG_ZONE``) whose
    panel listens on a free port, with three sessions made by real messages through
    AstrBot's pipeline (two private chats, one group), one proactive message sent, and
    Debian's Chromium launched."""
    from playwright.async_api import async_playwright

    from harness import stand_ins
    from harness.ports import free_port
    from harness.waiting import async_wait_for

    platform_id = stand_ins.PLATFORM_ID
    friend_id, friend2_id = stand_ins.unique_id("f"), stand_ins.unique_id("f")
    group_id, tag = stand_ins.unique_id("g"), stand_ins.unique_id("c")
    friend = f"{platform_id}:FriendMessage:{friend_id}"
    friend2 = f"{platform_id}:FriendMessage:{friend2_id}"
    group = f"{platform_id}:GroupMessage:{group_id}"
    crowd = [
        f"{platform_id}:{'GroupMessage' if i % 4 == 3 else 'FriendMessage'}:{tag}{i:02d}"
        for i in range(CROWD)
    ]
    port = free_port()
    config = rig_plugin_config(
        port,
        [friend, friend2, *[u for u in crowd if ":FriendMessage:" in u]],
        [group, *[u for u in crowd if ":GroupMessage:" in u]],
    )
    factory = chat_host_factory(plugin_config=config, core_config={"timezone": RIG_ZONE})
    async with factory as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        llm.always(RIG_MODEL_TEXT)
        await im.inject_and_wait("hi there", sender_id=friend_id, sender_name=XSS_NAME)
        await im.inject_and_wait("hello", sender_id=friend2_id, sender_name="Bob")
        await im.inject_and_wait(
            "morning all", sender_id=stand_ins.unique_id(), group_id=group_id, group_name="Team"
        )
        rig = PanelRig(host, f"http://127.0.0.1:{port}", friend, friend2, group, crowd)
        engine = rig.engine
        await async_wait_for(lambda: {friend, friend2, group} <= set(engine.sessions), 10, 0.02)
        # One message already sent, so the journal and the overview have something.
        engine.request_trigger(friend)
        await im.wait_for_sent(1, umo=friend, timeout=10)
        async with async_playwright() as playwright:
            rig.browser = await launch(playwright)
            try:
                yield rig
            finally:
                await rig.browser.close()
