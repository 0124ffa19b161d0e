"""The dashboard page's backend routes inside a real AstrBot core: registered with
``context.register_web_api``, answered in process (no HTTP hop to our port), a clear
503 after terminate, the next instance's bridge after a reload, the same two routes
after many reloads (replaced, not piled up), and no old instance kept alive by them.

The handlers are called as AstrBot's dashboard calls them (plugins.py
``_call_plugin_extension``): with ``astrbot.api.web.request`` bound to a PluginRequest.
"""

from __future__ import annotations

import gc
import json
import logging
import weakref

import pytest
from astrbot.api.web import PluginRequest, bind_request_context
from starlette.requests import Request

from harness.roots import PLUGIN_NAME

pytestmark = pytest.mark.host

CALL = f"/{PLUGIN_NAME}/call"
STREAM = f"/{PLUGIN_NAME}/stream"


def _routes(host) -> dict[str, object]:
    return {
        route: handler
        for route, handler, _methods, _desc in host.context.registered_web_apis
        if route in (CALL, STREAM)
    }


def _plugin_request(method: str, body: dict | None = None, query: str = "") -> PluginRequest:
    raw = json.dumps(body).encode() if body is not None else b""

    async def receive() -> dict:
        return {"type": "http.request", "body": raw, "more_body": False}

    scope = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "path": "/api/v1/plugins/extensions/x",
        "raw_path": b"/api/v1/plugins/extensions/x",
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 6185),
    }
    return PluginRequest(Request(scope, receive), plugin_name=PLUGIN_NAME, username="astrbot")


async def _call(handler, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    payload = {"method": method, "path": path, "body": body, "lang": "zh-CN"}
    with bind_request_context(_plugin_request("POST", payload)):
        response = await handler()
    return response.status_code, json.loads(response.body)


async def _first_event(handler, query: str):
    with bind_request_context(_plugin_request("GET", query=query)):
        response = await handler()
    if response.status_code != 200:
        return response, None
    iterator = response.body_iterator
    return response, await anext(iterator)


async def test_routes_answer_in_process_then_503_then_the_next_instance(host):
    routes = _routes(host)
    assert set(routes) == {CALL, STREAM}
    status, body = await _call(routes[CALL], "GET", "/api/status")
    assert status == 200 and body["data"]["code"] == 200, body
    assert body["data"]["type"] == "json" and "running" in body["data"]["body"]
    # A page of the panel, in the dashboard's language, without the own port's login.
    status, body = await _call(routes[CALL], "GET", "/overview")
    assert body["data"]["code"] == 200 and body["data"]["type"] == "text"
    assert 'lang="zh-CN"' in body["data"]["body"]
    # Only local paths.
    status, body = await _call(routes[CALL], "GET", "//example.com/x")
    assert status == 400

    # A live stream: the hello of /ws/events comes as the first SSE event.
    response, first = await _first_event(routes[STREAM], "path=/ws/events&lang=en-US")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert '"type": "hello"' in first or '"type":"hello"' in first, first
    events = response.body_iterator

    old = host.plugin_instance()
    await old.terminate()
    # The open stream ends with 1012 (reconnect); the routes answer 503 "reloading".
    rest = [chunk async for chunk in events]
    assert rest and rest[-1].startswith("event: close") and "1012" in rest[-1], rest[-3:]
    status, body = await _call(routes[CALL], "GET", "/api/status")
    assert status == 503 and body["error"] == "reloading", body
    assert "reloading" in body["message"] and "重新加载" in body["message"]
    response, _ = await _first_event(routes[STREAM], "path=/ws/events")
    assert response.status_code == 503

    # After a reload: the same two routes (replaced), and the new instance answers, even
    # through a closure of the old instance's (AstrBot may keep one after an uninstall).
    old_ref = weakref.ref(old)
    del old
    assert await host.reload_plugin() == (True, None)
    assert set(_routes(host)) == {CALL, STREAM}
    assert sum(r == CALL for r, *_ in host.context.registered_web_apis) == 1
    for handler in (_routes(host)[CALL], routes[CALL]):
        status, body = await _call(handler, "GET", "/api/status")
        assert status == 200 and body["data"]["code"] == 200, body
    for record in [o for o in gc.get_objects() if isinstance(o, logging.LogRecord)]:
        record.msg, record.args, record.exc_info = record.getMessage(), None, None
    gc.collect()
    assert old_ref() is None, "an old plugin instance is still referenced"


async def test_the_page_works_with_the_own_port_off(host_factory):
    async with host_factory(plugin_config={"web_admin": {"enabled": False}}) as host:
        routes = _routes(host)
        status, body = await _call(routes[CALL], "GET", "/api/sessions")
        assert status == 200 and body["data"]["code"] == 200, body
        assert host.plugin_instance().panel.server is None
