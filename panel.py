"""``AdminPanel``: the panel's whole life, start to stop, for one plugin instance.

Wires the live-log stream, the login secrets, the FastAPI app and the hardened
server together. ``start()`` and ``stop()`` never raise: the panel is an extra,
and nothing it does may take AstrBot down.

This module imports FastAPI, pydantic and Jinja2 (through ``web``): main.py imports
it only in a worker thread (``build_panel``), and ``start()`` builds the app in one,
so neither the imports nor the app's construction hold AstrBot's event loop. The
server serves before the app is built (``web/deferred_app.py``: requests wait for
it), so ``start()`` and AstrBot's save do not wait for the build; ``stop()`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from .core.constants import LOG_PREFIX, PLUGIN_NAME, PLUGIN_VERSION
from .core.logs.redaction import Redactor
from .core.logs.ring import LogRing
from .core.logs.stream import LogStream
from .core.plugin_log import logger
from .core.server.listener_handover import ListenerHandover
from .core.server.process_stash import process_stash
from .core.server.web_admin_server import WebAdminServer, retire_stale_server
from .web.app import STATIC_DIR, TEMPLATES_DIR, AppDeps, create_app, create_ready_app
from .web.auth.credentials import (
    AUTH_FILE_NAME,
    PanelSecrets,
    generate_password,
    hash_password,
    load_or_create_secrets,
    save_revoked,
)
from .web.auth.rate_limit import MAX_TOTAL_FAILURES, LoginRateLimiter
from .web.auth.tokens import PanelAuth
from .web.dashboard.bridge import DashboardBridge
from .web.dashboard.routes import register as register_dashboard_routes
from .web.dashboard.routes import retire as retire_dashboard_routes
from .web.deferred_app import DeferredApp
from .web.fastapi_caches import release_fastapi_caches
from .web.pages.templating import build_templates
from .web.settings import WebAdminSettings, parse_web_admin

if TYPE_CHECKING:
    from .core.service import ProactiveService


STOP_BUDGET_SECONDS = 2.8
# Live-log history waits this long for the next instance; then it is dropped, so a
# disabled or uninstalled plugin leaves nothing behind in the AstrBot process.
HISTORY_LINGER_SECONDS = 10.0


class AdminPanel:
    def __init__(
        self,
        settings: WebAdminSettings,
        data_dir: Path,
        version: str,
        astrbot_version: str,
        *,
        service: ProactiveService | None = None,
    ) -> None:
        self.settings = settings
        self.service = service  # None: the panel only
        self.data_dir = data_dir
        self.version = version
        self.astrbot_version = astrbot_version
        self.server: WebAdminServer | None = None
        self.log_stream: LogStream | None = None
        self.deps: AppDeps | None = None
        self.app: DeferredApp | None = None
        self.dashboard: DashboardBridge | None = None
        self._stash: dict[str, Any] = process_stash()

    async def start(self) -> None:
        try:
            await self._start()
        except Exception:
            logger.exception(
                "%s The admin panel could not start; the plugin keeps running.", LOG_PREFIX
            )

    async def stop(self) -> None:
        """Bounded: returns within about three seconds whatever the clients do."""
        if self.dashboard is not None:
            retire_dashboard_routes(self._stash, self.dashboard)  # stale routes answer 503
            self.dashboard = None
        try:
            async with asyncio.timeout(STOP_BUDGET_SECONDS):
                await self._app_built()  # its thread must not outlive the panel
                if self.server is not None:
                    await self.server.stop()
        except TimeoutError:
            logger.error(
                "%s The admin panel did not stop in time; the next start will finish it.",
                LOG_PREFIX,
            )
        except Exception:
            logger.exception("%s Error while stopping the admin panel", LOG_PREFIX)
        if self.log_stream is not None:
            try:
                await self.log_stream.stop()
            except Exception:
                logger.exception("%s Error while detaching the live-log stream", LOG_PREFIX)
            self._stash["history_timer"] = asyncio.get_running_loop().call_later(
                HISTORY_LINGER_SECONDS, _drop_unclaimed_history, self._stash
            )
        if self.deps is not None:
            self.deps.login_report.flush()  # what this instance saw, before it goes
        self.server = None
        self.log_stream = None
        self.deps = None
        self.app = None
        release_fastapi_caches()

    async def _app_built(self) -> None:
        """Wait for the app's build (done long before, but for a save right after a
        save); its failure was logged when it happened."""
        if self.app is not None:
            with contextlib.suppress(Exception):
                await self.app.ready()

    async def _start(self) -> None:
        settings = self.settings
        handover = ListenerHandover(self._stash)
        if not settings.enabled:
            handover.discard_all_except(None)
            await retire_stale_server(self._stash, STOP_BUDGET_SECONDS)
            logger.info(
                "%s Admin panel's own port is off (web_admin.enabled = false); the page in "
                "AstrBot's dashboard still works.",
                LOG_PREFIX,
            )
        deps = await self._prepare(settings)
        await self._serve(deps, handover)

    async def _prepare(self, settings: WebAdminSettings) -> AppDeps:
        """What the app both surfaces use is built from: the own port serves it, the
        dashboard page calls it in process (``web/dashboard``)."""
        timer = self._stash.pop("history_timer", None)
        if timer is not None:
            timer.cancel()  # the history is claimed (and the old module can go)
        redactor = Redactor()
        redactor.add_secret(settings.password)
        ring = LogRing(settings.log_buffer_size, self._stash.setdefault("log_ring", {}))
        self.log_stream = LogStream(ring, redactor, self._stash.setdefault("log_state", {}))
        self.log_stream.start()

        if settings.enabled:
            panel_secrets, new_password = await self._load_secrets()
        else:
            # No port, no login of ours: nothing is written to the data dir, and no token
            # this key signs is ever handed out (the dashboard page needs none).
            panel_secrets, new_password = PanelSecrets(secrets.token_bytes(32), None), None
        if new_password:
            # Memory only, until the announcing line shows it (the port may be busy now).
            self._stash["unannounced_password"] = new_password
        pending = self._stash.get("unannounced_password")
        if pending:
            redactor.add_secret(pending)

        auth = PanelAuth(
            panel_secrets,
            settings.password,
            settings.session_hours * 3600.0,
            save_revoked=functools.partial(save_revoked, self.data_dir),
        )
        templates = await asyncio.to_thread(build_templates, TEMPLATES_DIR, STATIC_DIR)
        self.deps = deps = AppDeps(
            settings=settings,
            auth=auth,
            log_stream=self.log_stream,
            version=self.version,
            astrbot_version=self.astrbot_version,
            templates=templates,
            service=self.service,
            rate_limiter=LoginRateLimiter(
                storage=self._stash.setdefault("login_failures", OrderedDict()),
                total_storage=self._stash.setdefault(
                    "login_failures_total", deque(maxlen=MAX_TOTAL_FAILURES)
                ),
            ),
        )
        return deps

    async def _serve(self, deps: AppDeps, handover: ListenerHandover) -> None:
        """Bind and serve now; the app is built in a thread while the server already
        serves: requests wait for it (web/deferred_app.py), AstrBot's save does not."""
        settings = self.settings
        build = asyncio.ensure_future(asyncio.to_thread(create_ready_app, deps))
        build.add_done_callback(_log_build_failure)
        self.app = app = DeferredApp(build)
        if not settings.enabled:
            return
        self.server = WebAdminServer(
            host=settings.host,
            port=settings.port,
            app_factory=_prebuilt_first(app, deps),
            handover=handover,
            stash=self._stash,
            before_stop=deps.connections.close_all,
            on_serving=self._announce,
        )
        await self.server.start()

    def attach_dashboard(self, context: Any) -> None:
        """The page in AstrBot's dashboard (``views/panel``) answers through this
        instance's app from now on. Never raises: the page is an extra."""
        if self.app is None:
            return
        try:
            self.dashboard = DashboardBridge(self.app)
            register_dashboard_routes(context, PLUGIN_NAME, self._stash, self.dashboard)
        except Exception:
            self.dashboard = None
            logger.exception(
                "%s The page in AstrBot's dashboard is not available; the own-port panel "
                "is unaffected. Check that AstrBot is 4.29 or later.",
                LOG_PREFIX,
            )

    async def _load_secrets(self) -> tuple[PanelSecrets, str | None]:
        need_generated = not self.settings.password
        try:
            return await asyncio.to_thread(
                load_or_create_secrets,
                self.data_dir,
                need_generated,
                self.settings.password,
                self._stash.setdefault("verified_password", {}),
            )
        except OSError as exc:
            logger.error(
                "%s Cannot write %s in %s (%s); logins will not survive a restart.",
                LOG_PREFIX,
                AUTH_FILE_NAME,
                self.data_dir,
                exc,
            )
            password = generate_password() if need_generated else None
            hashed = await asyncio.to_thread(hash_password, password) if password else None
            return PanelSecrets(secrets.token_bytes(32), hashed), password

    def _announce(self) -> None:
        url = self.settings.url
        password = self._stash.pop("unannounced_password", None)
        if password:
            # Three short lines: the password alone on its own, named after this plugin, so
            # nobody takes it for AstrBot's own "Initial password" banner printed nearby.
            logger.info("%s 管理面板已启动 Admin panel: %s", LOG_PREFIX, url)
            logger.info(
                "%s 主动消息面板的登录密码 / Proactive Chat panel, generated password: %s",
                LOG_PREFIX,
                password,
            )
            logger.info(
                "%s 上面的面板密码只显示这一次，请保存；它不是 AstrBot 控制台的密码。"
                "可在插件配置 web_admin.password 设置自己的密码 / The panel password above is "
                "shown only this once (it is not AstrBot's dashboard password); set "
                "web_admin.password to choose your own.",
                LOG_PREFIX,
            )
        elif self.settings.password:
            logger.info(
                "%s 管理面板已启动 Admin panel: %s (登录密码为 web_admin.password / "
                "log in with the password set in web_admin.password)",
                LOG_PREFIX,
                url,
            )
        else:
            logger.info(
                "%s 管理面板已启动 Admin panel: %s (使用首次启动时日志中显示的密码；忘记时删除 %s 并重载插件 / "
                "log in with the generated password shown at first start; forgot it? delete %s "
                "and reload the plugin)",
                LOG_PREFIX,
                url,
                self.data_dir / AUTH_FILE_NAME,
                AUTH_FILE_NAME,
            )


def build_panel(
    config: Mapping[str, Any], data_dir: Path, service: ProactiveService | None
) -> AdminPanel:
    """The panel for the plugin's config (``web_admin`` checked, problems logged).
    Cheap enough for any thread; main.py calls it in a worker thread with this
    module's imports."""
    settings, problems = parse_web_admin(config.get("web_admin"))
    for problem in problems:
        logger.warning("%s Config: %s", LOG_PREFIX, problem)
    return AdminPanel(settings, data_dir, PLUGIN_VERSION, astrbot_version(), service=service)


def astrbot_version() -> str:
    try:
        from astrbot.core.config.default import VERSION
    except ImportError:
        return "unknown"
    return str(VERSION)


def _prebuilt_first(app: DeferredApp, deps: AppDeps) -> Callable[[], DeferredApp | FastAPI]:
    """The app built off the loop for the first serve; a fresh one for each later
    serve (after uvicorn ended by itself, which is rare enough to build it there)."""
    prebuilt = [app]
    return lambda: prebuilt.pop() if prebuilt else create_app(deps)


def _log_build_failure(build: asyncio.Future[Any]) -> None:
    if not build.cancelled() and build.exception() is not None:
        logger.error(
            "%s The admin panel could not be built; it answers 503 until the plugin is "
            "reloaded. Check the error below and the panel's files.",
            LOG_PREFIX,
            exc_info=build.exception(),
        )


def _drop_unclaimed_history(stash: dict[str, Any]) -> None:
    # Module-level on purpose: it may run after AstrBot purged this module. A new
    # instance cancels this timer when it starts, so running means nobody claimed it.
    for key in (
        "history_timer",
        "log_ring",
        "log_state",
        "unannounced_password",
        "verified_password",
    ):
        stash.pop(key, None)
