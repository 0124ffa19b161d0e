"""The plugin's admin panel seen from outside a process: a logged-in REST client and
the WebSockets of an open page. Port checks are in ports.py, ``/healthz`` and the bare
login in panel_probes.py.

Synchronous (httpx.Client), like harness.process: the panel under test lives in an
``astrbot run`` child. The panel's route tables are web/api/panel.py and web/api/engine.py.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect


class PanelClient:
    """``POST /api/login`` once, then every call carries the bearer token.

    ``fork()`` gives another client with the same login, e.g. one per thread.
    """

    def __init__(
        self, port: int, password: str = "", *, token: str | None = None, timeout: float = 10.0
    ) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.base, timeout=timeout)
        if token is None:
            r = self.client.post("/api/login", json={"password": password})
            if r.status_code != 200:
                self.client.close()
                raise AssertionError(f"panel login on {self.base}: HTTP {r.status_code} {r.text}")
            token = str(r.json()["token"])
        self.token = token
        self.client.headers["Authorization"] = f"Bearer {token}"

    def fork(self) -> PanelClient:
        return PanelClient(self.port, token=self.token, timeout=self.client.timeout.read or 10.0)

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, **kwargs)

    def session_action(self, umo: str, action: str, **kwargs: Any) -> httpx.Response:
        """``POST /api/sessions/<umo>/<action>`` (pause, resume, trigger, ...), or with
        ``method="PUT"`` and ``action="override"`` a per-session settings change."""
        method = kwargs.pop("method", "POST")
        return self.call(method, f"/api/sessions/{quote(umo, safe='')}/{action}", **kwargs)

    def sessions(self, size: int = 200) -> list[dict]:
        """``GET /api/sessions`` (one page of up to 200), as the Sessions page lists them."""
        r = self.call("GET", "/api/sessions", params={"size": size})
        r.raise_for_status()
        return r.json()["items"]

    def journal_kinds(self, umo: str, limit: int = 100) -> list[str]:
        """The kinds of ``umo``'s journal entries (up to ``limit``), as the API lists them."""
        r = self.call("GET", "/api/journal", params={"umo": umo, "limit": limit})
        assert r.status_code == 200, r.text
        return [item["kind"] for item in r.json()["items"]]

    def status(self) -> dict:
        r = self.call("GET", "/api/status")
        r.raise_for_status()
        return r.json()

    @contextlib.contextmanager
    def open_page(self) -> Iterator[list[ClientConnection]]:
        """What an open panel page holds: the ``/ws/logs`` and ``/ws/events`` sockets
        (their ``hello`` read). See ``closed_with`` for how they end."""
        ws_base = self.base.replace("http://", "ws://", 1)
        with contextlib.ExitStack() as stack:
            sockets = [
                stack.enter_context(
                    connect(
                        f"{ws_base}/ws/{kind}?token={self.token}",
                        additional_headers={"Origin": self.base},
                        open_timeout=10,
                    )
                )
                for kind in ("logs", "events")
            ]
            for ws in sockets:
                assert '"hello"' in str(ws.recv(timeout=10))
            yield sockets

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> PanelClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def closed_with(ws: ClientConnection, timeout: float = 5.0) -> int | None:
    """Read what the server still sends until it closes; returns the close code.
    Raises TimeoutError when the socket is still open after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ws.recv(timeout=max(0.0, deadline - time.monotonic()))
        except ConnectionClosed:
            return ws.close_code
