"""The event the tools get while a proactive message is written: it never sends.

AstrBot hands every tool an ``AstrMessageEvent``; a tool that "sends" something
(``yield event.image_result(url)``, ``await event.send(chain)``) goes through the
event's ``send``. Ours only collects what the tools hand it: nothing reaches the
platform before the engine's one send, so the at-most-once promise holds. What was
collected is used there: pictures travel with the proactive message, text is dropped
(the model's answer is the message). A tool that pushes through ``context.send_message``
itself bypasses any event; keep such tools out with the tool whitelist/blacklist.

AstrBot is imported on first use only, so the plain (tool-free) path never pays for it.
"""

from __future__ import annotations

import functools
import time
import uuid
from pathlib import Path
from typing import Any

from ..umo import parse_umo


@functools.cache
def _event_class() -> type:
    from astrbot.core.message.components import Plain
    from astrbot.core.platform.astr_message_event import AstrMessageEvent
    from astrbot.core.platform.astrbot_message import AstrBotMessage, MessageMember
    from astrbot.core.platform.message_type import MessageType
    from astrbot.core.platform.platform_metadata import PlatformMetadata

    class ProactiveToolEvent(AstrMessageEvent):
        """A synthetic event for the session; ``send`` collects, never delivers."""

        def __init__(self, umo: str, prompt: str) -> None:
            parsed = parse_umo(umo)
            message_type = (
                MessageType.GROUP_MESSAGE
                if parsed.message_type == "GroupMessage"
                else MessageType.FRIEND_MESSAGE
            )
            message = AstrBotMessage()
            message.type = message_type
            message.self_id = "proactive_chat"
            message.session_id = parsed.session_id
            message.message_id = uuid.uuid4().hex
            message.sender = MessageMember(user_id=parsed.session_id, nickname="proactive_chat")
            message.message = [Plain(prompt)]
            message.message_str = prompt
            message.raw_message = prompt
            message.timestamp = int(time.time())
            meta = PlatformMetadata(
                name="proactive_chat", description="proactive message", id=parsed.platform_id
            )
            super().__init__(prompt, message, meta, parsed.session_id)
            self.is_wake = True
            self.is_at_or_wake_command = True
            self.collected: list[Any] = []  # components the tools tried to send

        async def send(self, message: Any) -> None:
            if message is not None:
                self.collected.extend(getattr(message, "chain", None) or [])

        async def send_streaming(self, generator: Any, use_fallback: bool = False) -> None:
            async for chain in generator:
                await self.send(chain)

        async def send_typing(self) -> None:
            return None

    return ProactiveToolEvent


def silent_event(umo: str, prompt: str) -> Any:
    """A new event for ``umo`` whose ``send`` only collects (``.collected``)."""
    return _event_class()(umo, prompt)


def pictures_in(components: list[Any]) -> list[str]:
    """The picture references (URL, ``file:///`` URI or ``base64://``) among components."""
    found: list[str] = []
    for component in components:
        if type(component).__name__ != "Image":
            continue
        ref = picture_ref(getattr(component, "file", "") or getattr(component, "url", ""))
        if ref:
            found.append(ref)
    return found


def picture_ref(value: Any) -> str:
    """A reference an ``Image`` component takes as ``file``; "" when unusable."""
    if not isinstance(value, str) or not value.strip():
        return ""
    value = value.strip()
    if value.startswith(("http://", "https://", "file://", "base64://")):
        return value
    path = Path(value)
    return path.resolve(strict=False).as_uri() if path.is_absolute() or path.exists() else ""
