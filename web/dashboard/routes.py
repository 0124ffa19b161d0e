"""The dashboard page's backend routes in AstrBot, through a switchboard.

AstrBot never removes a route registered with ``context.register_web_api``: a route of
an old instance stays after a reload or an uninstall. So the routes registered here are
small closures over ``board``, a plain dict that outlives instances (panel.py hands in
the process stash): they ask it for the current ``DashboardBridge`` on every request.
After ``retire`` (the instance stops) they answer 503 ``{"error": "reloading"}``; after a
reload the next instance's bridge answers, whichever closure AstrBot calls.

This module imports nothing of the plugin at run time (only names for type checking):
a closure keeps its module's globals, and they must pin no module of an old instance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from .bridge import DashboardBridge

BOARD_KEY = "dashboard_bridge"
RELOADING_MESSAGE = (
    "主动消息插件正在重新加载或已停用，请稍候再试 / "
    "Proactive Chat is reloading or turned off; try again in a moment."
)


def route_paths(plugin_name: str) -> tuple[str, str]:
    """``(call, stream)``: the routes as AstrBot matches them (the plugin's name first)."""
    return f"/{plugin_name}/call", f"/{plugin_name}/stream"


def register(
    context: Any, plugin_name: str, board: dict[str, Any], bridge: DashboardBridge
) -> None:
    """Point the switchboard at ``bridge`` and (re)register both routes."""
    board[BOARD_KEY] = bridge
    call_path, stream_path = route_paths(plugin_name)
    context.register_web_api(
        call_path, _call_route(board), ["POST"], "Proactive Chat: one panel API call"
    )
    context.register_web_api(
        stream_path, _stream_route(board), ["GET"], "Proactive Chat: live events as SSE"
    )


def retire(board: dict[str, Any], bridge: DashboardBridge) -> None:
    """The routes answer 503 from now on (unless a newer bridge took the board)."""
    if board.get(BOARD_KEY) is bridge:
        board.pop(BOARD_KEY, None)
    bridge.close()


def reloading() -> JSONResponse:
    return JSONResponse(
        {"status": "error", "error": "reloading", "message": RELOADING_MESSAGE},
        503,
        headers={"Retry-After": "1", "Cache-Control": "no-store"},
    )


def _call_route(board: dict[str, Any]) -> Any:
    async def proactive_chat_call() -> Any:
        bridge = board.get(BOARD_KEY)
        if bridge is None:
            return reloading()
        from astrbot.api.web import request

        return await bridge.call(await request.json(None))

    return proactive_chat_call


def _stream_route(board: dict[str, Any]) -> Any:
    async def proactive_chat_stream() -> Any:
        bridge = board.get(BOARD_KEY)
        if bridge is None:
            return reloading()
        from astrbot.api.web import request

        return bridge.stream(request.query)

    return proactive_chat_stream
