"""The AstrBot dashboard page's backend (web/dashboard): in-process calls through the
panel's app (guard, routes, error mapping; no socket), sockets as SSE with a bounded
queue and a close event, and the switchboard that answers 503 once an instance retired."""

from __future__ import annotations

import asyncio
import json
import sys
import types

import pytest

from harness.panel_app import panel_deps
from proactive_chat.web.app import create_app
from proactive_chat.web.dashboard import inprocess
from proactive_chat.web.dashboard.bridge import MAX_STREAMS, DashboardBridge, split_path
from proactive_chat.web.dashboard.routes import BOARD_KEY, register, retire, route_paths

PASSWORD = "Bridge-Passw0rd-1"


@pytest.fixture
def app():
    return create_app(panel_deps(None, PASSWORD))


async def _call(bridge: DashboardBridge, payload: dict) -> tuple[int, dict]:
    response = await bridge.call(payload)
    return response.status_code, json.loads(response.body)


async def test_a_call_gets_the_panels_own_status_and_body_without_a_login(app) -> None:
    bridge = DashboardBridge(app)
    status, body = await _call(bridge, {"method": "GET", "path": "/api/status", "lang": "en-US"})
    assert status == 200 and body["status"] == "ok"
    assert body["data"]["code"] == 200 and body["data"]["type"] == "json"
    assert body["data"]["body"]["running"] is False  # no engine in this app
    # A domain error keeps its status and body (the page's api() shows it as usual).
    status, body = await _call(bridge, {"method": "GET", "path": "/api/sessions/x%3Ay"})
    assert status == 200 and body["data"]["code"] in (404, 503), body


async def test_a_page_comes_in_the_dashboards_language(app) -> None:
    bridge = DashboardBridge(app)
    _, zh = await _call(bridge, {"method": "GET", "path": "/help", "lang": "zh-CN"})
    _, en = await _call(bridge, {"method": "GET", "path": "/help", "lang": "en-US"})
    assert zh["data"]["type"] == "text" and 'lang="zh-CN"' in zh["data"]["body"]
    assert 'lang="en"' in en["data"]["body"]
    # A redirect is reported, not followed: the page's shell follows it.
    _, root = await _call(bridge, {"method": "GET", "path": "/"})
    assert root["data"]["code"] in (302, 303, 307) and root["data"]["location"]


async def test_the_same_paths_stay_guarded_from_the_network(app) -> None:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:4100") as c:
        assert (await c.get("/api/status")).status_code == 401


@pytest.mark.parametrize(
    "payload",
    [
        {"method": "GET", "path": "//evil.example/x"},
        {"method": "GET", "path": "https://evil.example/"},
        {"method": "TRACE", "path": "/api/status"},
        {"method": "GET", "path": "/api/\x00"},
        {"method": "GET", "path": "/" + "a" * 3000},
        "not an object",
    ],
)
async def test_only_local_paths_and_plain_methods(app, payload) -> None:
    status, body = await _call(DashboardBridge(app), payload)
    assert status == 400 and body["status"] == "error"


def test_split_path() -> None:
    assert split_path("/api/x?a=1&b=2") == ("/api/x", "a=1&b=2")
    assert split_path("/journal") == ("/journal", "")
    assert split_path("journal") is None


async def _read(response) -> list[str]:
    return [chunk async for chunk in response.body_iterator]


async def test_a_socket_becomes_sse_and_ends_with_1012_on_close(app) -> None:
    bridge = DashboardBridge(app)
    response = bridge.stream({"path": "/ws/events", "lang": "en-US"})
    assert response.media_type == "text/event-stream"
    events = response.body_iterator
    first = await anext(events)
    assert first.startswith("data: ") and json.loads(first[6:])["type"] == "hello"
    assert bridge.open_streams == 1
    bridge.close()
    rest = [chunk async for chunk in events]
    assert rest[-1] == 'event: close\ndata: {"code": 1012}\n\n'
    assert bridge.open_streams == 0
    # Closed: no new streams.
    assert bridge.stream({"path": "/ws/events"}).status_code == 503


async def test_only_the_panels_sockets_and_a_bounded_number(app) -> None:
    bridge = DashboardBridge(app)
    assert bridge.stream({"path": "/ws/other"}).status_code == 400
    assert bridge.stream({"path": "/ws/logs", "query": "x" * 5000}).status_code == 400
    opened = [bridge.stream({"path": "/ws/events"}) for _ in range(MAX_STREAMS)]
    assert bridge.open_streams == 0  # counted once they stream
    for response in opened:
        await anext(response.body_iterator)
    assert bridge.stream({"path": "/ws/events"}).status_code == 429
    bridge.close()
    for response in opened:
        await response.body_iterator.aclose()
    assert bridge.open_streams == 0


async def test_a_reader_that_falls_behind_is_closed_with_1013(app, monkeypatch) -> None:
    monkeypatch.setattr(inprocess, "FRAME_QUEUE_LIMIT", 2)

    async def chatty(scope, receive, send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        for n in range(10):
            await send({"type": "websocket.send", "text": f"frame {n}"})
        await receive()  # until the stop

    stop = inprocess.SocketStop()
    frames = [f async for f in inprocess.socket_frames(chatty, "/ws/events", stop=stop)]
    assert frames[-1] == inprocess.CLOSE_TOO_SLOW
    assert frames[:-1] == ["frame 0", "frame 1"]


async def test_an_idle_socket_yields_a_ping(app, monkeypatch) -> None:
    monkeypatch.setattr(inprocess, "PING_SECONDS", 0.01)

    async def quiet(scope, receive, send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    stop = inprocess.SocketStop()
    frames = inprocess.socket_frames(quiet, "/ws/events", stop=stop)
    assert await anext(frames) is None
    stop.stop(1000)
    assert [f async for f in frames] == [1000]


class _Context:
    def __init__(self) -> None:
        self.registered_web_apis: list = []

    def register_web_api(self, route, handler, methods, desc) -> None:
        # AstrBot's rule: the same route and methods replace the earlier one.
        for index, api in enumerate(self.registered_web_apis):
            if api[0] == route and api[2] == methods:
                self.registered_web_apis[index] = (route, handler, methods, desc)
                return
        self.registered_web_apis.append((route, handler, methods, desc))


async def test_the_switchboard_answers_503_after_retire_and_follows_the_next_bridge(
    app, monkeypatch
) -> None:
    context, board = _Context(), {}
    first = DashboardBridge(app)
    register(context, "astrbot_plugin_proactive_chat", board, first)
    assert [r for r, *_ in context.registered_web_apis] == list(
        route_paths("astrbot_plugin_proactive_chat")
    )
    old_call = context.registered_web_apis[0][1]

    class _Request:
        @staticmethod
        async def json(default=None):
            return {"method": "GET", "path": "/api/status"}

    # What the closures import at call time, without importing AstrBot (slow) here.
    for name in ("astrbot", "astrbot.api", "astrbot.api.web"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["astrbot.api.web"].request = _Request()
    assert (await old_call()).status_code == 200
    retire(board, first)
    assert BOARD_KEY not in board and first.closed
    gone = await old_call()
    assert gone.status_code == 503 and json.loads(gone.body)["error"] == "reloading"

    second = DashboardBridge(app)
    register(context, "astrbot_plugin_proactive_chat", board, second)
    assert len(context.registered_web_apis) == 2  # replaced, not added
    assert (await old_call()).status_code == 200  # the board, not the closure, decides
    # Retiring an older bridge late never unplugs the newer one.
    retire(board, first)
    assert board[BOARD_KEY] is second
    await asyncio.sleep(0)
