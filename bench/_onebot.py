"""A small OneBot v11 implementation for bench/message_hook.py ``--via onebot``: it
connects to AstrBot's ``aiocqhttp`` adapter as a QQ client would (reverse WebSocket,
``X-Client-Role: Universal``), pushes private-message events, and answers every action
the bot calls with an empty success.

``onebot_core_config(port)`` is the AstrBot config for it: one ``aiocqhttp`` platform
on 127.0.0.1, the per-session rate limit out of the way (the bench sends each of N
senders about 30 messages a minute, AstrBot's default limit, which would stall them),
and the LLM stage off (no provider here; every message would otherwise end in it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

SELF_ID = 10000


def onebot_core_config(platform_id: str, port: int) -> dict:
    return {
        "platform": [
            {
                "id": platform_id,
                "type": "aiocqhttp",
                "enable": True,
                "ws_reverse_host": "127.0.0.1",
                "ws_reverse_port": port,
                "ws_reverse_token": "",
            }
        ],
        "platform_settings": {
            "rate_limit": {"time": 60, "count": 1_000_000_000, "strategy": "discard"}
        },
        "provider_settings": {"enable": False},
    }


class OneBotClient:
    """One reverse-WebSocket connection to the adapter (``async with``)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.actions: dict[str, int] = {}  # action name -> calls answered
        self._ws: Any = None
        self._reader: asyncio.Task | None = None
        self._message_ids = itertools.count(1)

    async def __aenter__(self) -> OneBotClient:
        import websockets

        deadline = time.monotonic() + 30.0
        while True:
            try:
                self._ws = await websockets.connect(
                    f"ws://127.0.0.1:{self.port}/ws/",
                    additional_headers={"X-Self-ID": str(SELF_ID), "X-Client-Role": "Universal"},
                )
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        self._reader = asyncio.create_task(self._answer_actions(), name="bench-onebot")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()

    async def _answer_actions(self) -> None:
        async for raw in self._ws:
            call = json.loads(raw)
            action = call.get("action")
            if action is None:
                continue
            self.actions[action] = self.actions.get(action, 0) + 1
            answer = {"status": "ok", "retcode": 0, "data": {}, "echo": call.get("echo")}
            await self._ws.send(json.dumps(answer))

    async def private_message(self, user_id: int, nickname: str, text: str) -> None:
        """Push a ``message.private`` (friend) event, as a QQ client does."""
        event = {
            "time": int(time.time()),
            "self_id": SELF_ID,
            "post_type": "message",
            "message_type": "private",
            "sub_type": "friend",
            "message_id": next(self._message_ids),
            "user_id": user_id,
            "message": [{"type": "text", "data": {"text": text}}],
            "raw_message": text,
            "font": 0,
            "sender": {"user_id": user_id, "nickname": nickname, "sex": "unknown", "age": 0},
        }
        await self._ws.send(json.dumps(event))


def onebot_sender(
    client, timer, clock, senders, first_user_id: int
) -> Callable[[float, float, int], Awaitable]:
    """``send(at, spacing, count)`` through the OneBot client, one message at a time:
    the wall ns of each runs from the push to the end of our handler (WebSocket,
    adapter, AstrBot's event queue and pipeline up to the handlers)."""

    async def send(at: float, spacing: float, count: int) -> list[int]:
        wall: list[int] = []
        for k in range(count):
            index = next(senders)
            clock.now = at + k * spacing
            done = timer.ours_done()
            began = time.perf_counter_ns()
            await client.private_message(first_user_id + index, f"user {index}", "hello there")
            await asyncio.wait_for(done, 10.0)
            wall.append(time.perf_counter_ns() - began)
        return wall

    return send
