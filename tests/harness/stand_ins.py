"""Stand-ins for the remote LLM and the IM network, built on AstrBot's own base classes.

Everything else is AstrBot's real core: the provider and platform managers load these
classes from ``data/cmd_config.json`` entries exactly as they load OpenAI or OneBot, the
event bus and the message pipeline run on injected messages, replies go through the
real respond stage, conversations land in the real database.

IMPORTS ASTRBOT AT IMPORT TIME (the classes subclass ``Provider`` / ``Platform``): import
this module only inside a test or after the in-process root is prepared, never at the
top of a test file. Importing it registers the adapter types (idempotent, see
``ensure_registered``).

Registration and configuration (AstrBot 4.29.3):
    Types are registered with ``register_provider_adapter(type_name, desc, provider_type)``
    and ``register_platform_adapter(adapter_name, desc, ...)``: process-global maps
    (``provider_cls_map``, ``platform_cls_map``), never cleared by AstrBot for
    non-plugin modules. A host is configured by top-level keys of ``cmd_config.json``,
    which AstrBot reads ONCE at import into ``astrbot.core.astrbot_config``; so
    ``InProcessHost(core_config=..., chat=True)`` merges ``chat_core_config()`` into
    that live dict before boot and puts it back after. The keys:

    - ``provider_sources`` + ``provider``: a chat model is a source ``{"id", "type",
      "provider_type": "chat_completion", "key", ...}`` plus a provider ``{"id",
      "provider_source_id", "model", "enable", "modalities"}``; AstrBot merges the two
      into ``provider.provider_config``. (A flat chat entry in ``provider`` is migrated
      into that form at boot and the config saved.) TTS/STT entries stay flat in
      ``provider``: ``{"id", "type", "provider_type": "text_to_speech", "enable"}``.
    - ``platform``: list of ``{"id", "type", "enable", ...}``; the whole dict becomes
      ``platform.config``; ``id`` must not contain ``:`` or ``!``.
    - default chat provider: ``agent_runner.runner_type == "local"`` and
      ``agent_runner.config.model.provider_id`` (NOT ``provider_settings``); with it
      empty, the first loaded chat provider is used.
    - default persona: ``agent_runner.config.persona.persona_id``.
    - TTS: ``provider_tts_settings.enable`` and ``provider_tts_settings.provider_id``;
      ``get_using_tts_provider`` returns None while ``enable`` is false, and when it is
      true the pipeline turns LLM replies into voice (``Record``) as well.

Usage (fixtures in tests/conftest.py)::

    async def test_x(chat_host):
        from harness import stand_ins
        im, llm = stand_ins.platform(chat_host), stand_ins.provider(chat_host)
        llm.answer("hello there")                       # the next call answers this
        umo = im.umo_for(sender_id="u1")                # "test_im:FriendMessage:u1"
        assert await chat_host.context.send_message(umo, MessageChain().message("x"))
        event = await im.inject_and_wait("hi", sender_id="u1")   # real pipeline
        assert [m.text for m in im.replies_to(event)] == ["hello there"]
        assert "hi" in llm.last_call.text          # the pipeline sends it in contexts

``ScriptedChatProvider``: every ``text_chat`` / ``text_chat_stream`` call is recorded
as a ``ChatCall`` in ``provider.calls``. Answers come from a FIFO script of ``Reply``
steps (``answer``, ``fail``, ``empty``, ``hang``, ``then``); ``route(marker, reply)``
answers every call whose text contains ``marker`` with ``reply``, before the script (one
session failing while the others are answered); with the script empty it answers ``default`` or, by default, ``"test reply #n"`` (n = 1-based call number).
Delays and hangs are plain awaits, so cancelling the caller cancels them; ``release()``
ends hung calls, ``terminate()`` (host shutdown) cancels them.

``RecordingPlatform``: ``send_by_session`` (what ``context.send_message`` calls) and
the events' ``send`` (pipeline replies) append ``SentMessage`` records to
``platform.sent`` (``is_reply`` tells them apart). ``send_delay``, ``send_error``
and ``fail_next()`` make sending slow or failing (failures land in ``platform.failed``
and raise to the caller). ``inject()`` commits a real event into AstrBot's queue;
``inject_and_wait()`` also waits until the pipeline has finished with it.

Use fresh sender/group ids per test (``unique_id()``): the database (conversations,
preferences, personas) is shared by every host of the pytest process.

What AstrBot does with them (seen in tests/harness_tests/test_stand_ins.py):
    - UMOs: ``test_im:FriendMessage:<sender_id>``, ``test_im:GroupMessage:<group_id>``.
      ``context.send_message`` returns True once ``send_by_session`` returned, False if
      no platform has that id, and lets the platform's exception through.
    - A pipeline LLM call has ``prompt=None``: the system prompt (safety text + persona)
      is ``contexts[0]`` with role "system", then the history, then the user turn
      (text plus a ``<system_reminder>`` datetime part); ``system_prompt`` is None.
    - Plugin ``event_message_type(ALL)`` listeners see every group message; only
      messages addressed to the bot (private, ``At`` of the bot, wake prefix ``/``) get
      an LLM answer. ``after_message_sent`` fires after non-streamed pipeline replies,
      never after ``context.send_message`` and never after streamed replies.
    - A model exception becomes a normal reply telling the user the request failed; an
      empty answer sends nothing and is not retried.
"""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
import wave
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from astrbot.core.message.components import At, Plain
from astrbot.core.message.message_event_result import MessageChain
from astrbot.core.platform.astr_message_event import AstrMessageEvent
from astrbot.core.platform.astrbot_message import AstrBotMessage, Group, MessageMember
from astrbot.core.platform.message_session import MessageSession
from astrbot.core.platform.message_type import MessageType
from astrbot.core.platform.platform import Platform
from astrbot.core.platform.platform_metadata import PlatformMetadata
from astrbot.core.provider.entities import LLMResponse, ProviderType
from astrbot.core.provider.provider import Provider, TTSProvider

from .waiting import async_wait_for


async def messages_planned(timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Until every loaded instance of the plugin has planned after the messages it
    noted (its batch runs by itself within 0.2 s; nothing here runs it early)."""
    from astrbot.core.star.star import star_registry

    def engines() -> list[Any]:
        found = []
        for metadata in star_registry:
            service = getattr(getattr(metadata, "star_cls", None), "service", None)
            engine = getattr(service, "engine", None)
            if engine is not None and hasattr(engine, "_pending_messages"):
                found.append(engine)
        return found

    await async_wait_for(
        lambda: not any(e._pending_messages for e in engines()),
        timeout,
        0.01,
        "the plugin's message batch",
    )


CHAT_PROVIDER_TYPE = "pc_test_chat"
TTS_PROVIDER_TYPE = "pc_test_tts"
IM_PLATFORM_TYPE = "pc_test_im"

CHAT_PROVIDER_ID = "test_chat"
TTS_PROVIDER_ID = "test_tts"
PLATFORM_ID = "test_im"
BOT_SELF_ID = "10000"
MODEL_NAME = "scripted-model"


def unique_id(prefix: str = "u") -> str:
    """A sender/group id no other test in this process uses."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


# -- configuration ---------------------------------------------------------------------


def chat_core_config(
    *,
    proactive: bool = True,
    tts: bool = False,
    self_id: str = BOT_SELF_ID,
    provider_id: str = CHAT_PROVIDER_ID,
    platform_id: str = PLATFORM_ID,
) -> dict[str, Any]:
    """Top-level ``cmd_config.json`` keys for one scripted chat provider (the default
    one), one recording platform and, with ``tts``, one scripted TTS provider.

    Args:
        proactive: The platform's ``support_proactive_message``.
        tts: Also load ``ScriptedTtsProvider`` and enable TTS (AstrBot then voices
            LLM replies in the pipeline too).
    """
    # AstrBot >= 4.x splits a chat model into a "provider source" (type, keys, endpoint)
    # and a provider (id, model) pointing at it; a flat entry is migrated at boot (and
    # the config saved), so write the split form directly.
    source_id = f"{provider_id}_source"
    sources: list[dict[str, Any]] = [
        {
            "id": source_id,
            "type": CHAT_PROVIDER_TYPE,
            "provider_type": ProviderType.CHAT_COMPLETION.value,
            "key": ["test-key"],
        }
    ]
    providers: list[dict[str, Any]] = [
        {
            "id": provider_id,
            "provider_source_id": source_id,
            "enable": True,
            "model": MODEL_NAME,
            "modalities": ["text"],
            "custom_extra_body": {},
        }
    ]
    if tts:
        providers.append(
            {
                "id": TTS_PROVIDER_ID,
                "type": TTS_PROVIDER_TYPE,
                "provider_type": ProviderType.TEXT_TO_SPEECH.value,
                "enable": True,
            }
        )
    return {
        "provider_sources": sources,
        "provider": providers,
        "platform": [
            {
                "id": platform_id,
                "type": IM_PLATFORM_TYPE,
                "enable": True,
                "self_id": self_id,
                "support_proactive_message": proactive,
            }
        ],
        "agent_runner": {"runner_type": "local", "config": {"model": {"provider_id": provider_id}}},
        "provider_tts_settings": {"enable": tts, "provider_id": TTS_PROVIDER_ID if tts else ""},
    }


# -- accessors -------------------------------------------------------------------------


def _context(host_or_context: Any) -> Any:
    return getattr(host_or_context, "context", host_or_context)


def provider(host_or_context: Any, provider_id: str = CHAT_PROVIDER_ID) -> ScriptedChatProvider:
    """The live ScriptedChatProvider of a host (or a star Context)."""
    inst = _context(host_or_context).provider_manager.inst_map.get(provider_id)
    if not isinstance(inst, ScriptedChatProvider):
        raise LookupError(f"no ScriptedChatProvider {provider_id!r} loaded (chat=True?): {inst!r}")
    return inst


def tts_provider(host_or_context: Any, provider_id: str = TTS_PROVIDER_ID) -> ScriptedTtsProvider:
    """The live ScriptedTtsProvider (host booted with ``tts=True``)."""
    inst = _context(host_or_context).provider_manager.inst_map.get(provider_id)
    if not isinstance(inst, ScriptedTtsProvider):
        raise LookupError(f"no ScriptedTtsProvider {provider_id!r} loaded (tts=True?): {inst!r}")
    return inst


def platform(host_or_context: Any, platform_id: str = PLATFORM_ID) -> RecordingPlatform:
    """The live RecordingPlatform of a host (or a star Context)."""
    for inst in _context(host_or_context).platform_manager.platform_insts:
        if isinstance(inst, RecordingPlatform) and inst.meta().id == platform_id:
            return inst
    raise LookupError(f"no RecordingPlatform {platform_id!r} loaded (chat=True?)")


async def conversation_history(host_or_context: Any, umo: str) -> list[dict]:
    """The messages of the session's current conversation ([] if it has none)."""
    import json

    manager = _context(host_or_context).conversation_manager
    cid = await manager.get_curr_conversation_id(umo)
    if not cid:
        return []
    conversation = await manager.get_conversation(umo, cid)
    return json.loads(conversation.history) if conversation and conversation.history else []


# -- the chat model --------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer. ``text`` None means the default answer."""

    text: str | None = None
    delay: float = 0.0
    error: BaseException | None = None
    hang: bool = False
    role: str = "assistant"
    tool: tuple[str, dict] | None = None  # (name, arguments): the model calls this tool


@dataclass
class ChatCall:
    """One ``text_chat`` (or ``text_chat_stream``) call as the provider saw it."""

    index: int
    prompt: str | None
    system_prompt: str | None
    contexts: list[dict]
    kwargs: dict[str, Any]
    stream: bool
    started: float  # time.monotonic()
    started_wall: float  # time.time()
    finished: float | None = None
    outcome: str = "pending"  # pending | answered | raised | cancelled
    answer: str | None = None
    error: BaseException | None = None

    @property
    def text(self) -> str:
        """System prompt, every context message and the prompt, one per line: for
        asserting that something reached the model."""
        parts = [self.system_prompt or ""]
        for message in self.contexts:
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            parts.append(str(content or ""))
        parts.append(self.prompt or "")
        return "\n".join(p for p in parts if p)


class ScriptedChatProvider(Provider):
    """A chat model that answers from a script and records every request."""

    def __init__(self, provider_config: dict, provider_settings: dict) -> None:
        super().__init__(provider_config, provider_settings)
        self.set_model(provider_config.get("model") or MODEL_NAME)
        self._key = (self.get_keys() or [""])[0]
        self.calls: list[ChatCall] = []
        self.script: list[Reply] = []
        self.default: Reply | None = None
        self.routes: dict[str, Reply] = {}
        self._hung: list[asyncio.Future] = []
        self.terminated = False

    # script ------------------------------------------------------------------------
    def then(self, *replies: Reply | str) -> ScriptedChatProvider:
        """Queue answers (a str is ``Reply(text=...)``); each call takes the next one."""
        self.script.extend(Reply(text=r) if isinstance(r, str) else r for r in replies)
        return self

    def answer(self, text: str, *, delay: float = 0.0) -> ScriptedChatProvider:
        return self.then(Reply(text=text, delay=delay))

    def fail(
        self, error: BaseException | None = None, *, delay: float = 0.0
    ) -> ScriptedChatProvider:
        return self.then(Reply(error=error or RuntimeError("scripted LLM failure"), delay=delay))

    def empty(self) -> ScriptedChatProvider:
        return self.then(Reply(text=""))

    def hang(self) -> ScriptedChatProvider:
        """The next call waits until ``release()``, cancellation or terminate."""
        return self.then(Reply(hang=True))

    def always(self, reply: Reply | str | None) -> ScriptedChatProvider:
        """What to do once the script is empty (None: ``"test reply #n"``)."""
        self.default = Reply(text=reply) if isinstance(reply, str) else reply
        return self

    def route(self, marker: str, reply: Reply | str | None) -> ScriptedChatProvider:
        """Every call whose text contains ``marker`` gets ``reply``, before the script
        (None removes the route): one session's calls fail while others are answered."""
        if reply is None:
            self.routes.pop(marker, None)
        else:
            self.routes[marker] = Reply(text=reply) if isinstance(reply, str) else reply
        return self

    def release(self) -> int:
        """End every hung call (each answers its default text). Returns how many."""
        hung, self._hung = [f for f in self._hung if not f.done()], []
        for future in hung:
            future.set_result(None)
        return len(hung)

    def reset(self) -> None:
        self.calls.clear()
        self.script.clear()
        self.default = None
        self.routes.clear()
        self.release()

    # inspection --------------------------------------------------------------------
    @property
    def last_call(self) -> ChatCall:
        return self.calls[-1]

    @property
    def hung_calls(self) -> int:
        return sum(1 for f in self._hung if not f.done())

    async def wait_for_calls(
        self,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[ChatCall]:
        """Wait until at least ``count`` calls have STARTED."""
        await async_wait_for(
            lambda: len(self.calls) >= count, timeout, 0.01, f"{count} LLM call(s)"
        )
        return self.calls[:count]

    async def wait_for_finished(
        self,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[ChatCall]:
        """Wait until at least ``count`` calls have finished (any outcome)."""
        await async_wait_for(
            lambda: sum(1 for c in self.calls if c.outcome != "pending") >= count,
            timeout,
            0.01,
            f"{count} finished LLM call(s)",
        )
        return self.calls[:count]

    # Provider API ------------------------------------------------------------------
    def get_current_key(self) -> str:
        return self._key

    def set_key(self, key: str) -> None:
        self._key = key

    async def get_models(self) -> list[str]:
        return [self.get_model()]

    async def text_chat(
        self,
        prompt: str | None = None,
        session_id: str | None = None,
        image_urls: list[str] | None = None,
        audio_urls: list[str] | None = None,
        func_tool: Any = None,
        contexts: list | None = None,
        system_prompt: str | None = None,
        tool_calls_result: Any = None,
        model: str | None = None,
        **kwargs: Any,
    ) -> LLMResponse:
        extra = {
            "session_id": session_id,
            "image_urls": image_urls,
            "audio_urls": audio_urls,
            "func_tool": func_tool,
            "tool_calls_result": tool_calls_result,
            "model": model,
            **kwargs,
        }
        call = self._record(prompt, system_prompt, contexts, extra, stream=False)
        return await self._answer(call)

    async def text_chat_stream(
        self,
        prompt: str | None = None,
        session_id: str | None = None,
        image_urls: list[str] | None = None,
        audio_urls: list[str] | None = None,
        func_tool: Any = None,
        contexts: list | None = None,
        system_prompt: str | None = None,
        tool_calls_result: Any = None,
        model: str | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[LLMResponse, None]:
        extra = {
            "session_id": session_id,
            "image_urls": image_urls,
            "audio_urls": audio_urls,
            "func_tool": func_tool,
            "tool_calls_result": tool_calls_result,
            "model": model,
            **kwargs,
        }
        call = self._record(prompt, system_prompt, contexts, extra, stream=True)
        final = await self._answer(call)
        if final.completion_text:
            yield LLMResponse(role=final.role, completion_text=final.completion_text, is_chunk=True)
        yield final

    async def terminate(self) -> None:
        self.terminated = True
        hung, self._hung = self._hung, []
        for future in hung:
            future.cancel()

    # internals ---------------------------------------------------------------------
    def _record(self, prompt, system_prompt, contexts, extra, *, stream: bool) -> ChatCall:
        try:
            normalized = copy.deepcopy(self._ensure_message_to_dicts(contexts))
        except Exception:  # a caller passing odd objects must still be recorded
            normalized = [{"content": repr(c)} for c in contexts or []]
        call = ChatCall(
            index=len(self.calls) + 1,
            prompt=prompt,
            system_prompt=system_prompt,
            contexts=normalized,
            kwargs={k: v for k, v in extra.items() if v is not None},
            stream=stream,
            started=time.monotonic(),
            started_wall=time.time(),
        )
        self.calls.append(call)
        return call

    async def _answer(self, call: ChatCall) -> LLMResponse:
        seen = call.text if self.routes else ""
        step = next((r for m, r in self.routes.items() if m in seen), None)
        if step is None:
            step = self.script.pop(0) if self.script else (self.default or Reply())
        try:
            if step.delay:
                await asyncio.sleep(step.delay)
            if step.hang:
                future = asyncio.get_running_loop().create_future()
                self._hung.append(future)
                try:
                    await future
                finally:
                    if future in self._hung:
                        self._hung.remove(future)
            if step.error is not None:
                raise step.error
        except asyncio.CancelledError:
            call.outcome, call.finished = "cancelled", time.monotonic()
            raise
        except BaseException as exc:
            call.outcome, call.error, call.finished = "raised", exc, time.monotonic()
            raise
        if step.tool is not None:
            name, arguments = step.tool
            call.outcome, call.answer, call.finished = "answered", "", time.monotonic()
            return LLMResponse(
                role="tool",
                tools_call_name=[name],
                tools_call_args=[arguments],
                tools_call_ids=[f"call-{call.index}"],
            )
        text = f"test reply #{call.index}" if step.text is None else step.text
        call.outcome, call.answer, call.finished = "answered", text, time.monotonic()
        return LLMResponse(role=step.role, completion_text=text)


# -- text to speech --------------------------------------------------------------------


@dataclass
class TtsCall:
    text: str
    path: str
    at: float


class ScriptedTtsProvider(TTSProvider):
    """Writes a tiny valid WAV (0.05 s of silence) per request and records it."""

    def __init__(self, provider_config: dict, provider_settings: dict) -> None:
        super().__init__(provider_config, provider_settings)
        self.set_model("scripted-tts")
        self.calls: list[TtsCall] = []
        self.error: BaseException | None = None

    async def get_audio(self, text: str) -> str:
        if self.error is not None:
            raise self.error
        from astrbot.core.utils.astrbot_path import get_astrbot_temp_path

        path = Path(get_astrbot_temp_path()) / f"pc_test_tts_{uuid.uuid4().hex}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            wav.writeframes(b"\x00\x00" * 400)
        self.calls.append(TtsCall(text=text, path=str(path), at=time.monotonic()))
        return str(path)


# -- the IM platform -------------------------------------------------------------------


@dataclass
class SentMessage:
    """One message that reached the (fake) network."""

    umo: str
    text: str
    chain: MessageChain
    is_reply: bool  # True: a pipeline reply via event.send(); False: send_by_session
    session: MessageSession
    at: float  # time.monotonic()
    wall: float  # time.time()
    event: AstrMessageEvent | None = None
    error: BaseException | None = None  # set on records in platform.failed


class RecordingEvent(AstrMessageEvent):
    """An injected message. ``processed`` is set when AstrBot's pipeline is done with
    it (AstrBot's event scope calls ``cleanup_temporary_local_files`` on exit)."""

    def __init__(self, message_str, message_obj, platform_meta, session_id, platform_inst):
        super().__init__(message_str, message_obj, platform_meta, session_id)
        self.platform_inst = platform_inst
        self.processed = asyncio.Event()
        self.handled_by: list[str] = []  # plugin handlers AstrBot activated for it
        self.was_wake = False
        self.was_at_or_wake_command = False

    async def send(self, message: MessageChain) -> None:
        if message is not None:
            await self.platform_inst._deliver(self.session, message, is_reply=True, event=self)
        await super().send(message)

    async def send_streaming(self, generator, use_fallback: bool = False) -> None:
        """Collect the stream and deliver it as one reply (as non-streaming IMs do)."""
        components: list = []
        async for chain in generator:
            if chain is not None and getattr(chain, "type", None) not in {"break", "reasoning"}:
                components.extend(chain.chain)
        if components:
            await self.send(MessageChain(components))

        async def nothing():
            return
            yield  # pragma: no cover

        await super().send_streaming(nothing(), use_fallback)

    def cleanup_temporary_local_files(self) -> None:
        try:
            super().cleanup_temporary_local_files()
        finally:
            handlers = self.get_extra("activated_handlers") or []
            self.handled_by = [getattr(h, "handler_full_name", str(h)) for h in handlers]
            self.was_wake = self.is_wake
            self.was_at_or_wake_command = self.is_at_or_wake_command
            self.processed.set()


class RecordingPlatform(Platform):
    """An IM platform whose network is a list. See the module docstring."""

    def __init__(self, platform_config: dict, platform_settings: dict, event_queue) -> None:
        super().__init__(platform_config, event_queue)
        self.settings = platform_settings
        self.self_id = str(platform_config.get("self_id", BOT_SELF_ID))
        self.metadata = PlatformMetadata(
            name=IM_PLATFORM_TYPE,
            description="Test IM platform that records what it sends",
            id=str(platform_config.get("id", PLATFORM_ID)),
            support_streaming_message=False,
            support_proactive_message=bool(platform_config.get("support_proactive_message", True)),
        )
        self.sent: list[SentMessage] = []
        self.failed: list[SentMessage] = []
        self.events: list[RecordingEvent] = []
        self.send_delay = 0.0
        self.send_error: BaseException | None = None
        self._fail_next: list[BaseException] = []
        self._stopped = asyncio.Event()
        self.terminated = False

    # Platform API ------------------------------------------------------------------
    def meta(self) -> PlatformMetadata:
        return self.metadata

    async def run(self) -> None:
        await self._stopped.wait()

    async def terminate(self) -> None:
        self.terminated = True
        self._stopped.set()

    async def send_by_session(self, session: MessageSession, message_chain: MessageChain) -> None:
        await self._deliver(session, message_chain, is_reply=False, event=None)
        await super().send_by_session(session, message_chain)  # AstrBot's stats tick

    def create_event(self, message: AstrBotMessage) -> RecordingEvent:
        return RecordingEvent(
            message_str=message.message_str,
            message_obj=message,
            platform_meta=self.meta(),
            session_id=message.session_id,
            platform_inst=self,
        )

    # knobs -------------------------------------------------------------------------
    @property
    def support_proactive_message(self) -> bool:
        return self.metadata.support_proactive_message

    @support_proactive_message.setter
    def support_proactive_message(self, value: bool) -> None:
        self.metadata.support_proactive_message = bool(value)

    def fail_next(self, error: BaseException | None = None, times: int = 1) -> None:
        """The next ``times`` sends raise ``error``."""
        self._fail_next.extend([error or ConnectionError("scripted send failure")] * times)

    # inbound -----------------------------------------------------------------------
    def umo_for(self, sender_id: str | None = None, group_id: str | None = None) -> str:
        """The unified_msg_origin AstrBot gives this chat: ``<platform_id>:GroupMessage:
        <group_id>`` or ``<platform_id>:FriendMessage:<sender_id>``."""
        if group_id:
            return str(MessageSession(self.metadata.id, MessageType.GROUP_MESSAGE, str(group_id)))
        if not sender_id:
            raise ValueError("umo_for needs sender_id or group_id")
        return str(MessageSession(self.metadata.id, MessageType.FRIEND_MESSAGE, str(sender_id)))

    def inject(
        self,
        text: str,
        *,
        sender_id: str,
        group_id: str | None = None,
        sender_name: str | None = None,
        group_name: str | None = None,
        at_bot: bool = False,
        message_id: str | None = None,
    ) -> RecordingEvent:
        """Commit an incoming message to AstrBot's event queue, as an adapter does.

        A private message always wakes the bot (the LLM answers); in a group only
        ``at_bot=True`` (an ``At`` of the bot first), the wake prefix (``/``) or
        replying to the bot does, though plugin listeners see every message.
        """
        message = AstrBotMessage()
        message.type = MessageType.GROUP_MESSAGE if group_id else MessageType.FRIEND_MESSAGE
        message.self_id = self.self_id
        message.session_id = str(group_id) if group_id else str(sender_id)
        message.message_id = message_id or uuid.uuid4().hex
        message.sender = MessageMember(
            user_id=str(sender_id), nickname=sender_name or str(sender_id)
        )
        if group_id:
            message.group = Group(group_id=str(group_id), group_name=group_name)
        components: list = [Plain(text)]
        if at_bot:
            components.insert(0, At(qq=self.self_id, name="bot"))
        message.message = components
        message.message_str = text
        message.raw_message = {"text": text, "sender_id": sender_id, "group_id": group_id}
        event = self.create_event(message)
        self.events.append(event)
        self.commit_event(event)
        return event

    async def inject_and_wait(
        self,
        text: str,
        *,
        timeout: float = 15.0,  # noqa: ASYNC109
        **kwargs: Any,
    ) -> RecordingEvent:
        """``inject`` and wait (bounded) until the pipeline has finished with it, and
        the plugin's engine has planned after it (its message batch, every 0.2 s: see
        core/engine/messages.py). Needs the core started (the event bus running)."""
        event = self.inject(text, **kwargs)
        await asyncio.wait_for(event.processed.wait(), timeout)
        await messages_planned(timeout)
        return event

    # outbound ----------------------------------------------------------------------
    @property
    def replies(self) -> list[SentMessage]:
        return [m for m in self.sent if m.is_reply]

    @property
    def proactive(self) -> list[SentMessage]:
        """What went out through send_by_session (context.send_message)."""
        return [m for m in self.sent if not m.is_reply]

    def replies_to(self, event: AstrMessageEvent) -> list[SentMessage]:
        return [m for m in self.sent if m.event is event]

    def sent_to(self, umo: str) -> list[SentMessage]:
        return [m for m in self.sent if m.umo == umo]

    async def wait_for_sent(
        self,
        count: int = 1,
        *,
        umo: str | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        """Wait until at least ``count`` messages (to ``umo``, if given) went out."""

        def enough() -> list[SentMessage] | None:
            messages = self.sent if umo is None else self.sent_to(umo)
            return messages if len(messages) >= count else None

        return await async_wait_for(
            enough, timeout, 0.01, f"{count} sent message(s) to {umo or 'anyone'}"
        )

    async def _deliver(
        self,
        session: MessageSession,
        chain: MessageChain,
        *,
        is_reply: bool,
        event: AstrMessageEvent | None,
    ) -> None:
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        record = SentMessage(
            umo=str(session),
            text=chain.get_plain_text() if chain is not None else "",
            chain=chain,
            is_reply=is_reply,
            session=session,
            at=time.monotonic(),
            wall=time.time(),
            event=event,
        )
        error = self._fail_next.pop(0) if self._fail_next else self.send_error
        if error is not None:
            record.error = error
            self.failed.append(record)
            raise error
        self.sent.append(record)


# -- registration ----------------------------------------------------------------------


def ensure_registered() -> None:
    """Register the three adapter types with AstrBot's own decorators, once per
    process. If this module was imported again (new class objects), the map entries
    are pointed at the new classes instead of raising AstrBot's duplicate-name error."""
    from astrbot.core.platform.register import (
        platform_cls_map,
        platform_registry,
        register_platform_adapter,
    )
    from astrbot.core.provider.register import (
        provider_cls_map,
        provider_registry,
        register_provider_adapter,
    )

    for type_name, cls, kind, desc in (
        (CHAT_PROVIDER_TYPE, ScriptedChatProvider, ProviderType.CHAT_COMPLETION, "test chat"),
        (TTS_PROVIDER_TYPE, ScriptedTtsProvider, ProviderType.TEXT_TO_SPEECH, "test tts"),
    ):
        existing = provider_cls_map.get(type_name)
        if existing is not None and existing.cls_type is cls:
            continue
        if existing is not None:
            provider_cls_map.pop(type_name)
            provider_registry[:] = [m for m in provider_registry if m.type != type_name]
        register_provider_adapter(type_name, desc, provider_type=kind)(cls)

    if platform_cls_map.get(IM_PLATFORM_TYPE) is not RecordingPlatform:
        if IM_PLATFORM_TYPE in platform_cls_map:
            platform_cls_map.pop(IM_PLATFORM_TYPE)
            platform_registry[:] = [m for m in platform_registry if m.name != IM_PLATFORM_TYPE]
        register_platform_adapter(
            IM_PLATFORM_TYPE,
            "test IM platform (records sends, injects messages)",
            support_streaming_message=False,
        )(RecordingPlatform)


ensure_registered()
