"""The admin panel's login and health check, from outside its app: on a real port of
127.0.0.1 (async for in-process hosts, sync for ``astrbot run`` children), or through
any httpx client (an ASGI transport in unit tests).

The routes are web/api/panel.py's ``POST /api/login`` and ``GET /healthz``.
"""

from __future__ import annotations

import httpx


def _base(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _token_of(response: httpx.Response) -> str:
    assert response.status_code == 200, f"panel login: HTTP {response.status_code} {response.text}"
    return str(response.json()["token"])


async def login_with(client: httpx.AsyncClient, password: str) -> str:
    """``POST /api/login`` through ``client``; the bearer token (the test fails unless
    200). The client keeps the session cookie the answer sets."""
    return _token_of(await client.post("/api/login", json={"password": password}))


async def login(port: int, password: str) -> str:
    """The panel's bearer token for ``password``, from a client of its own."""
    async with httpx.AsyncClient(base_url=_base(port), timeout=10) as client:
        return await login_with(client, password)


def login_response(port: int, password: str) -> httpx.Response:
    """``POST /api/login`` as it is, for tests of a refused password (sync)."""
    return httpx.post(f"{_base(port)}/api/login", json={"password": password}, timeout=10.0)


def login_sync(port: int, password: str) -> str:
    """The panel's bearer token for ``password`` (sync; the test fails unless 200)."""
    return _token_of(login_response(port, password))


async def healthz(port: int) -> int:
    """The status code of ``GET /healthz`` (async)."""
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(f"{_base(port)}/healthz")).status_code


def panel_answers(port: int, timeout: float = 2.0) -> bool:
    """``GET /healthz`` answers 200 ``{"status": "ok"}`` (sync): our panel, serving."""
    try:
        response = httpx.get(f"{_base(port)}/healthz", timeout=timeout)
        return response.status_code == 200 and response.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError):
        return False
