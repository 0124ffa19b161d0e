"""What the engine needs from the outside, and what it gets back.

The engine writes a message through a ``Composer`` (the session's chat model), sends
it through a ``Sender`` (the session's platform) and persists through a ``Store``.
``core.adapters`` and ``core.store`` implement these; the engine never imports them.
The result types and ``ComposeError`` live here, on the engine's side of the seam, so
the arrows run one way: adapters import the engine, never the reverse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..umo import platform_of
from .models import JournalEntry, SessionSettings, SessionState


class ComposeError(Exception):
    """Why no message could be written; ``kind`` is a journal kind, ``advice`` what
    the user can do about it."""

    def __init__(
        self,
        kind: str,
        reason: str,
        *,
        provider_id: str = "",
        advice: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.provider_id = provider_id
        self.advice = advice
        # journaled with the failure: models tried before, tools called
        self.detail = detail or {}


@dataclass(slots=True)
class ComposeResult:
    text: str
    provider_id: str
    persona_id: str | None
    conversation_id: str | None
    attempts: int
    # journaled with the sent entry: model, models tried before, tools called, picture
    detail: dict[str, Any] = field(default_factory=dict)
    # pictures to send with the text (URL, file:/// URI or base64://)
    pictures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """What the model would receive for a proactive message right now (the preview):
    texts and ids only, never a provider object, key or endpoint."""

    system_prompt: str  # persona (and what the tool loop adds to it)
    contexts: list[dict]  # the messages before the prompt: persona dialogs, history
    prompt: str  # the rendered proactive prompt
    providers: list[str]  # the chat models that would be asked, in order
    model: str  # the first one's model name
    persona_id: str | None
    conversation_id: str | None
    tools: list[str]  # the tools offered to the model
    missing: list[str] = field(default_factory=list)  # configured models that do not exist


def platform_advice(umo: str) -> str:
    """What to do when the session's platform is missing or cannot push messages."""
    platform_id = platform_of(umo)
    return (
        f"enable the platform {platform_id} in AstrBot's dashboard, or take the session off "
        "the list if that platform cannot start conversations"
    )


@dataclass(slots=True)
class SendResult:
    ok: bool
    kind: str  # "sent" | "platform_skipped" | "send_failed"
    reason: str = ""
    parts: int = 0
    tts: bool = False
    advice: str = ""  # what the user can do about a failure
    pictures: int = 0  # pictures delivered (with the text or after it)


class Composer(Protocol):
    async def compose(self, umo: str, settings: SessionSettings, prompt: str) -> ComposeResult:
        """Write the message; raise ComposeError saying why not."""
        ...

    async def remember(self, umo: str, conversation_id: str | None, text: str) -> None: ...

    async def prepare(self, umo: str, settings: SessionSettings, prompt: str) -> PreparedRequest:
        """The request ``compose`` would send now, built by the same code; no model call."""
        ...


class Sender(Protocol):
    def platform_problem(self, umo: str) -> str | None: ...

    async def send(
        self,
        umo: str,
        text: str,
        settings: SessionSettings,
        *,
        hurry: asyncio.Event | None,
        pictures: tuple[str, ...] = (),
    ) -> SendResult:
        """Send ``text`` (and ``pictures``, only passed when there are any); failures
        come back as a result, never raised. A failed picture never stops the text."""
        ...


class Store(Protocol):
    async def load_sessions(self) -> list[SessionState]: ...
    async def load_overrides(self) -> dict[str, dict]: ...
    def put_session(self, state: SessionState) -> None: ...
    def append_journal(self, entry: JournalEntry) -> JournalEntry: ...
    async def flush(self) -> bool: ...
    async def save_override(self, umo: str, data: dict) -> None: ...
    async def delete_override(self, umo: str) -> None: ...
    async def query_journal(
        self, *, umo: str | None = None, kinds: Collection[str] | None = None, limit: int = 100
    ) -> list[JournalEntry]: ...

    def put_habits(self, umo: str, blob: Callable[[], bytes]) -> None: ...
    async def load_habits(self) -> dict[str, bytes]: ...


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """One question to the analysis model: what to ask (``system_prompt``), about which
    message (``message``), with how many recent turns of the session as context."""

    umo: str
    provider_id: str
    system_prompt: str
    message: str
    max_turns: int


class Analyst(Protocol):
    async def analyse(self, request: AnalysisRequest) -> str:
        """The model's raw answer; raise on any failure (the engine logs it)."""
        ...
