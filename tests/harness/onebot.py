"""A small OneBot v11 client for process tests: it connects to AstrBot's ``aiocqhttp``
adapter as a QQ client does (reverse WebSocket, ``X-Client-Role: Universal``), pushes
private-message events, answers every action the bot calls with a success, and keeps
the messages the bot sent (``send_private_msg`` / ``send_msg``) for the test to read.

Runs its own event loop in a thread, so a synchronous process test can use it::

    with OneBotClient(port) as qq:
        qq.private_message(42, "Alice", "hello")
        qq.wait_for_sent(r"hi", timeout=20)

``onebot_platform_config(platform_id, port)`` is the AstrBot config for it: one
``aiocqhttp`` platform on 127.0.0.1 (the LLM stage stays on, unlike the bench's).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

SELF_ID = 10000


def onebot_platform_config(platform_id: str, port: int) -> dict:
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
        ]
    }


@dataclass(frozen=True)
class BotMessage:
    """What the bot sent through one action: its target and its text."""

    action: str
    user_id: int | None
    text: str


def _text_of(message: Any) -> str:
    """The text of a OneBot ``message`` (a string or a list of segments)."""
    if isinstance(message, str):
        return message
    if isinstance(message, list):
        return "".join(
            str(seg.get("data", {}).get("text", ""))
            for seg in message
            if isinstance(seg, dict) and seg.get("type") == "text"
        )
    return ""


class OneBotClient:
    """One reverse-WebSocket connection to the adapter (``with``), on its own loop."""

    def __init__(self, port: int, connect_timeout: float = 30.0) -> None:
        self.port = port
        self.connect_timeout = connect_timeout
        self.sent: list[BotMessage] = []
        self._lock = threading.Lock()
        self._message_ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._ws: Any = None
        self._reader: asyncio.Future | None = None

    def __enter__(self) -> OneBotClient:
        self._thread.start()
        self._run(self._connect(), self.connect_timeout + 5)
        self._reader = asyncio.run_coroutine_threadsafe(self._answer_actions(), self._loop)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            self._run(self._ws.close(), 5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self, coro: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _connect(self) -> None:
        import websockets

        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                self._ws = await websockets.connect(
                    f"ws://127.0.0.1:{self.port}/ws/",
                    additional_headers={"X-Self-ID": str(SELF_ID), "X-Client-Role": "Universal"},
                )
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def _answer_actions(self) -> None:
        async for raw in self._ws:
            call = json.loads(raw)
            action = call.get("action")
            if action is None:
                continue
            params = call.get("params") or {}
            if action in ("send_private_msg", "send_msg"):
                user = params.get("user_id")
                with self._lock:
                    self.sent.append(
                        BotMessage(
                            action, int(user) if user else None, _text_of(params.get("message"))
                        )
                    )
            data = {"message_id": next(self._message_ids)} if action.startswith("send_") else {}
            answer = {"status": "ok", "retcode": 0, "data": data, "echo": call.get("echo")}
            await self._ws.send(json.dumps(answer))

    def private_message(self, user_id: int, nickname: str, text: str) -> None:
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
        self._run(self._ws.send(json.dumps(event, ensure_ascii=False)), 10)

    def wait_for_sent(self, pattern: str, timeout: float = 20.0) -> BotMessage:
        """The first message the bot sent whose text matches ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for message in self.sent:
                    if re.search(pattern, message.text):
                        return message
            time.sleep(0.05)
        with self._lock:
            seen = [m.text for m in self.sent]
        raise AssertionError(f"the bot sent nothing matching {pattern!r}; it sent {seen!r}")
