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

from .plugin_package import import_plugin_package

import_plugin_package()

from proactive_chat.core.config import WebAdminSettings  # noqa: E402
from proactive_chat.core.credentials import PanelSecrets  # noqa: E402
from proactive_chat.core.log_redaction import Redactor  # noqa: E402
from proactive_chat.core.log_ring import LogRing  # noqa: E402
from proactive_chat.core.log_stream import LogStream  # noqa: E402
from proactive_chat.web.app import AppDeps  # noqa: E402
from proactive_chat.web.auth import PanelAuth  # noqa: E402

BASE_URL = "http://127.0.0.1:4100"
VERSION = "0.3.0"
ASTRBOT_VERSION = "4.29.3"


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
