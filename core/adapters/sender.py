"""Delivering a written message: TTS when the session has it, segments with pauses.

``context.send_message`` returns False when no platform matches the session; that,
a platform that cannot push messages, and an exception are all reported as a result
(with a journal kind), never raised.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from ..constants import LOG_PREFIX
from ..engine.models import SessionSettings
from ..engine.ports import SendResult, platform_advice
from ..plugin_log import logger
from ..umo import platform_of
from .lookups import platform_meta_of, tts_provider_of
from .segmenting import pause_before_next, split_reply

TTS_TIMEOUT_SECONDS = 60.0
SEND_TIMEOUT_SECONDS = 30.0
NO_PLATFORM_FOR_SESSION = "AstrBot found no platform for this session"


def send_advice(umo: str, reason: str) -> str:
    platform_id = platform_of(umo)
    if reason == NO_PLATFORM_FOR_SESSION:  # it went away while the message was written
        return platform_advice(umo)
    return (
        f"check that the platform {platform_id} is connected and logged in "
        "(AstrBot's dashboard and its log say why it refused)"
    )


class MessageSender:
    def __init__(self, context: Any, *, rng: random.Random | None = None) -> None:
        self._context = context
        self._rng = rng or random.Random()

    def platform_problem(self, umo: str) -> str | None:
        """Why this session cannot receive a proactive message now, or None."""
        meta = platform_meta_of(self._context, umo)
        if meta is None:
            return f"no running platform has the id {platform_of(umo)!r}"
        if not getattr(meta, "support_proactive_message", True):
            return f"platform {meta.id} ({meta.name}) cannot send proactive messages"
        return None

    async def send(
        self,
        umo: str,
        text: str,
        settings: SessionSettings,
        *,
        hurry: asyncio.Event | None = None,
        pictures: tuple[str, ...] = (),
    ) -> SendResult:
        """Send ``text``; ``hurry`` set (plugin stopping) skips the pauses. ``pictures``
        go with the last part in one message; when the platform refuses that, the part
        goes alone and the pictures after it (a failed picture never stops the text)."""
        problem = self.platform_problem(umo)
        if problem is not None:
            return SendResult(False, "platform_skipped", problem, advice=platform_advice(umo))
        spoke = False
        if settings.tts.enable_tts:
            spoke = await self._try_tts(umo, text)
        if spoke and not settings.tts.always_send_text:
            shown = await self._send_pictures_alone(umo, pictures)
            return SendResult(True, "sent", "voice", parts=1, tts=True, pictures=shown)
        parts = split_reply(text, settings.segmented)
        sent = shown = 0
        for index, part in enumerate(parts):
            if index:
                await _pause(
                    pause_before_next(parts[index - 1], settings.segmented, self._rng), hurry
                )
            if pictures and index == len(parts) - 1:
                ok, reason, shown = await self._send_with_pictures(umo, part, pictures)
            else:
                ok, reason = await self._send_text(umo, part)
            if not ok:
                if sent == 0 and not spoke:
                    return SendResult(False, "send_failed", reason, advice=send_advice(umo, reason))
                logger.warning(
                    "%s Part %d/%d to %s was not sent: %s",
                    LOG_PREFIX,
                    index + 1,
                    len(parts),
                    umo,
                    reason,
                )
                break
            sent += 1
        return SendResult(True, "sent", "", parts=sent, tts=spoke, pictures=shown)

    async def _send_text(self, umo: str, text: str) -> tuple[bool, str]:
        from astrbot.api.event import MessageChain

        return await self._send_chain(umo, MessageChain().message(text))

    async def _send_with_pictures(
        self, umo: str, text: str, pictures: tuple[str, ...]
    ) -> tuple[bool, str, int]:
        """Text and pictures in one message; else the text, then the pictures alone.
        (ok, reason, pictures delivered): ok is about the text."""
        from astrbot.api.event import MessageChain

        images = picture_components(pictures)
        if images:
            ok, reason = await self._send_chain(umo, MessageChain([_plain(text), *images]))
            if ok:
                return True, "", len(images)
            logger.info(
                "%s Text with picture to %s refused (%s); sending them apart",
                LOG_PREFIX,
                umo,
                reason,
            )
        ok, reason = await self._send_text(umo, text)
        if not ok:
            return False, reason, 0
        return True, "", await self._send_pictures_alone(umo, pictures)

    async def _send_pictures_alone(self, umo: str, pictures: tuple[str, ...]) -> int:
        from astrbot.api.event import MessageChain

        shown = 0
        for image in picture_components(pictures):
            ok, reason = await self._send_chain(umo, MessageChain([image]))
            if not ok:
                logger.warning("%s Picture to %s was not sent: %s", LOG_PREFIX, umo, reason)
                break
            shown += 1
        return shown

    async def _send_chain(self, umo: str, chain: Any) -> tuple[bool, str]:
        try:
            delivered = await asyncio.wait_for(
                self._context.send_message(umo, chain),
                SEND_TIMEOUT_SECONDS,
            )
        except TimeoutError:
            return False, f"the platform did not answer within {SEND_TIMEOUT_SECONDS:g} s"
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"[:300]
        if delivered is False:
            return False, NO_PLATFORM_FOR_SESSION
        return True, ""

    async def _try_tts(self, umo: str, text: str) -> bool:
        try:
            provider = await tts_provider_of(self._context, umo)
            if provider is None:
                return False
            audio = await asyncio.wait_for(provider.get_audio(text), TTS_TIMEOUT_SECONDS)
            if not audio:
                return False
            from astrbot.api.event import MessageChain
            from astrbot.api.message_components import Record

            chain = MessageChain([Record(file=audio, url=audio)])
            sent = await asyncio.wait_for(
                self._context.send_message(umo, chain), SEND_TIMEOUT_SECONDS
            )
            return sent is not False
        except Exception as exc:
            logger.warning("%s Voice for %s failed, sending text instead: %s", LOG_PREFIX, umo, exc)
            return False


def _plain(text: str) -> Any:
    from astrbot.api.message_components import Plain

    return Plain(text)


def picture_components(pictures: tuple[str, ...]) -> list[Any]:
    """AstrBot ``Image`` components of picture references (a bad one is skipped)."""
    from astrbot.api.message_components import Image

    images = []
    for ref in pictures:
        try:
            images.append(Image(file=ref))
        except Exception as exc:
            logger.warning("%s A picture could not be used: %s", LOG_PREFIX, exc)
    return images


async def _pause(seconds: float, hurry: asyncio.Event | None) -> None:
    if seconds <= 0:
        return
    if hurry is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(hurry.wait(), seconds)
    except TimeoutError:
        pass
