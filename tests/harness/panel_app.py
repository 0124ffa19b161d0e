"""The panel's FastAPI app over a real service, in process, for unit tests of pages and
API routes: real auth, real log stream, ``httpx`` over ASGI (no socket).

    deps = panel_deps(service, PASSWORD)
    app = create_app(deps)
    async with panel_client(app, deps.auth.issue_token(), lang="zh") as client:
        page = await client.get("/overview")
"""

from __future__ import annotations

from typing import Any

import httpx

from .engine_rig import start_engine
from .plugin_package import import_plugin_package

import_plugin_package()

from proactive_chat.core.engine.models import Phase, SessionState  # noqa: E402
from proactive_chat.core.logs.redaction import Redactor  # noqa: E402
from proactive_chat.core.logs.ring import LogRing  # noqa: E402
from proactive_chat.core.logs.stream import LogStream  # noqa: E402
from proactive_chat.core.service import ProactiveService  # noqa: E402
from proactive_chat.web.app import AppDeps  # noqa: E402
from proactive_chat.web.auth.credentials import PanelSecrets  # noqa: E402
from proactive_chat.web.auth.tokens import PanelAuth  # noqa: E402
from proactive_chat.web.settings import WebAdminSettings  # noqa: E402

BASE_URL = "http://127.0.0.1:4100"
VERSION = "0.4.0"
ASTRBOT_VERSION = "4.29.3"


class SavedConfig(dict):
    """What AstrBot hands the plugin: a dict with ``save_config()``."""

    saves = 0

    def save_config(self) -> None:
        self.saves += 1


def panel_deps(service: Any, password: str, *, secret: bytes = b"k" * 32) -> AppDeps:
    """What ``create_app`` needs, with ``service`` (a ProactiveService, or None)."""
    settings = WebAdminSettings(password=password)
    return AppDeps(
        settings=settings,
        auth=PanelAuth(PanelSecrets(secret, None), settings.password, 3600.0),
        log_stream=LogStream(LogRing(100, {}), Redactor(), {}),
        version=VERSION,
        astrbot_version=ASTRBOT_VERSION,
        service=service,
    )


def panel_client(app: Any, token: str | None, *, lang: str | None = None) -> httpx.AsyncClient:
    """A client of ``app``, logged in with ``token`` (None: a stranger)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    cookies = {"pc_lang": lang} if lang else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers, cookies=cookies
    )


def walk_routes(routes: Any) -> Any:
    """Every route of an app, through included routers."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from walk_routes(inner.routes)
        else:
            yield route


async def start_service(
    tmp_path: Any, config: dict, composer: Any, sender: Any
) -> ProactiveService:
    """The real service minus AstrBot: its store opened, an engine on our stand-ins."""
    service = ProactiveService(context=object(), config=config, data_dir=tmp_path)
    await service.store.open()
    service.store.start()
    service.engine = await start_engine(config, service.store, composer, sender)
    return service


def seed_sessions(engine: Any, count: int, now: float) -> list[str]:
    """``count`` known sessions with varied fields: every 4th a group, every 5th
    unnamed, every 3rd unplanned."""
    umos = []
    for n in range(count):
        group = n % 4 == 0
        umo = f"seed:{'GroupMessage' if group else 'FriendMessage'}:{n:06d}"
        engine.sessions[umo] = SessionState(
            umo=umo,
            kind="group" if group else "friend",
            name="" if n % 5 == 0 else f"User {n:06d}",
            last_activity_at=now - n,
            next_at=None if n % 3 == 0 else now + (n * 7919) % 1000,
            phase="idle" if n % 3 == 0 else Phase.PLANNED,
            unanswered=n % 4,
        )
        umos.append(umo)
    return umos
