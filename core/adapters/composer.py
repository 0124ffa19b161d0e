"""Writing the proactive message with the session's own model, persona and history.

Everything is resolved the way AstrBot resolves it for a normal reply in that
session: the chat provider chosen for the UMO, the persona from
``persona_manager.resolve_selected_persona`` (per-session rules included), and the
current conversation's history. The exchange is then added to that conversation so
the bot remembers what it said.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from ..constants import LOG_PREFIX
from ..engine.models import SessionSettings
from ..engine.ports import ComposeError, ComposeResult, PreparedRequest
from ..plugin_log import logger
from ..umo import platform_of
from .lookups import platform_name_of
from .model_choice import model_name_of, provider_id_of, providers_to_try
from .request import BuiltRequest, LlmRequest, prepared_view
from .thumbnails import thumbnail_data_uri
from .tool_loop import ToolRun

# What the conversation history shows as the "user" turn of a proactive exchange.
HISTORY_USER_NOTE = "[主动消息：这次是你主动找对方聊天 / You started this conversation]"


@dataclass(frozen=True, slots=True)
class _Failure:
    """Why one attempt gave no text: a journal kind, the reason, what the user can do."""

    kind: str
    reason: str
    advice: str


class MessageComposer:
    """Writes with the first model that answers (model_choice.py), each attempt bounded
    by ``timeout_seconds`` and all of them together by ``timeout_seconds * (retries + 1)``
    (a single model gets ``retries`` more tries within that, as before fallbacks)."""

    def __init__(self, context: Any, *, timeout_seconds: float = 60.0, retries: int = 1) -> None:
        self._context = context
        self.timeout_seconds = timeout_seconds
        self.retries = retries

    async def prepare(self, umo: str, settings: SessionSettings, prompt: str) -> PreparedRequest:
        """The request ``compose`` would send right now, without calling a model (the
        panel's preview). Built by ``_build``, the one function ``compose`` uses too."""
        built = await self._build(umo, settings, prompt)
        return prepared_view(built)

    async def _build(self, umo: str, settings: SessionSettings, prompt: str) -> BuiltRequest:
        """Everything one proactive message's request is made of: the models to try, the
        persona, the history and the prompt, and the tools. The send and the preview
        both come through here, so what one sees is what the other sends."""
        providers, missing = await self._providers(umo, settings)
        conversation = await self._conversation(umo)
        persona_id, system_prompt, begin_dialogs = await self._persona(umo, settings, conversation)
        request = LlmRequest(
            prompt=prompt,
            system_prompt=system_prompt,
            contexts=begin_dialogs + recent_turns(conversation, settings.conversation_turns),
        )
        return BuiltRequest(
            providers=providers,
            missing=missing,
            conversation=conversation,
            persona_id=persona_id,
            request=request,
            tools=self._tool_run(umo, settings),
        )

    async def compose(self, umo: str, settings: SessionSettings, prompt: str) -> ComposeResult:
        built = await self._build(umo, settings, prompt)
        providers, missing, conversation = built.providers, built.missing, built.conversation
        persona_id, request, tools = built.persona_id, built.request, built.tools
        detail: dict[str, Any] = {"missing": missing} if missing else {}
        written, provider, provider_id, tried = await self._first_answer(
            umo, providers, request, tools
        )
        if tried:
            detail["tried"] = tried
        if tools is not None:
            detail.update(tools.journal_detail())
            if tools.pictures and "picture" in detail:
                thumb = await asyncio.to_thread(thumbnail_data_uri, tools.pictures[0])
                detail["picture"]["thumb"] = thumb
        if isinstance(written, _Failure):
            raise ComposeError(
                written.kind,
                f"{provider_id}: {written.reason}",
                provider_id=provider_id,
                advice=written.advice,
                detail=detail,
            )
        return ComposeResult(
            text=written,
            provider_id=provider_id,
            persona_id=persona_id,
            conversation_id=getattr(conversation, "cid", None),
            attempts=len(tried) + 1,
            detail={"model": model_name_of(provider), **detail},
            pictures=tuple(tools.pictures) if tools is not None else (),
        )

    def _tool_run(self, umo: str, settings: SessionSettings) -> ToolRun | None:
        """The tools of this message; None when tools and pictures are off, or when
        AstrBot cannot list its tools (then written without, as before; logged)."""
        if not (settings.tools.enabled or settings.pictures.enabled):
            return None
        try:
            return ToolRun(self._context, umo, settings)
        except Exception as exc:
            logger.warning(
                "%s Could not list AstrBot's tools for %s; writing without tools: %s",
                LOG_PREFIX,
                umo,
                exc,
            )
            return None

    async def _first_answer(
        self, umo: str, providers: list[Any], request: LlmRequest, tools: ToolRun | None
    ) -> tuple[str | _Failure, Any, str, list[dict]]:
        """(the text or the last failure, the provider that gave it and its id, the
        failed attempts)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_seconds * (self.retries + 1)
        plan = providers if len(providers) > 1 else providers * (self.retries + 1)
        tried: list[dict] = []
        outcome: str | _Failure = _Failure("llm_failed", "no answer", "")
        used, used_id = plan[0], provider_id_of(plan[0])
        for provider in plan:
            left = deadline - loop.time()
            if left < 0.1:  # the overall limit is reached: the rest are not tried
                break
            if provider is not used:
                used, used_id = provider, provider_id_of(provider)
            provider_id = used_id
            outcome = await self._attempt(
                provider_id, request, min(self.timeout_seconds, left), tools
            )
            if isinstance(outcome, str):
                return outcome, used, used_id, tried
            tried.append({"provider": provider_id, "kind": outcome.kind, "reason": outcome.reason})
            # The engine logs the outcome once per cause; each attempt is detail.
            logger.debug(
                "%s Model %s failed for %s (attempt %d): %s",
                LOG_PREFIX,
                provider_id,
                umo,
                len(tried),
                outcome.reason,
            )
        if isinstance(outcome, _Failure) and tried:
            tried.pop()  # the last failure is the entry's own reason
        return outcome, used, used_id, tried

    async def _attempt(
        self, provider_id: str, request: LlmRequest, seconds: float, tools: ToolRun | None
    ) -> str | _Failure:
        """One call to the model (or one run of the tool loop): its text, or why none."""
        try:
            if tools is not None and tools.active:
                response = await tools.write(
                    provider_id, request.prompt, request.system_prompt, request.contexts, seconds
                )
            else:
                response = await asyncio.wait_for(
                    self._context.llm_generate(
                        chat_provider_id=provider_id,
                        prompt=request.prompt,
                        system_prompt=request.system_prompt or None,
                        contexts=request.contexts,
                    ),
                    seconds,
                )
        except TimeoutError:
            return _Failure(
                "llm_failed",
                f"timed out after {seconds:.3g} s",
                f"make sure the chat model {provider_id} is reachable and answers in "
                "time, or raise llm_timeout_seconds in the plugin's engine settings",
            )
        except Exception as exc:  # a provider may raise anything
            return _Failure(
                "llm_failed",
                f"{type(exc).__name__}: {exc}"[:300],
                f"check the chat model {provider_id} in AstrBot's dashboard "
                "(API key, endpoint, model name, quota)",
            )
        return _answer_text(response) or _Failure(
            "llm_empty",
            "the model answered nothing usable",
            f"check the chat model {provider_id} in AstrBot's dashboard and try the "
            "proactive prompt in a normal chat (a content filter or a very low "
            "max tokens setting gives empty answers)",
        )

    async def remember(self, umo: str, conversation_id: str | None, text: str) -> None:
        """Add the exchange to the session's conversation (best effort, logged)."""
        manager = self._context.conversation_manager
        try:
            cid = conversation_id or await manager.get_curr_conversation_id(umo)
            if not cid:
                cid = await manager.new_conversation(umo, platform_of(umo))
            await manager.add_message_pair(
                cid,
                {"role": "user", "content": HISTORY_USER_NOTE},
                {"role": "assistant", "content": text},
            )
        except Exception as exc:
            logger.warning(
                "%s Could not add the message to %s's conversation history: %s",
                LOG_PREFIX,
                umo,
                exc,
            )

    # -- pieces ----------------------------------------------------------------------
    async def _providers(self, umo: str, settings: SessionSettings) -> tuple[list[Any], list[str]]:
        try:
            providers, missing = await providers_to_try(self._context, umo, settings.model)
        except Exception as exc:
            raise ComposeError("no_provider", f"no usable chat model: {exc}") from exc
        if not providers:
            raise ComposeError(
                "no_provider",
                "no chat model is set for this session (AstrBot dashboard > model providers)",
                advice="choose a chat model in AstrBot's dashboard (model providers)",
            )
        return providers, missing

    async def _conversation(self, umo: str) -> Any:
        manager = self._context.conversation_manager
        try:
            cid = await manager.get_curr_conversation_id(umo)
            if not cid:
                return None
            return await manager.get_conversation(umo, cid)
        except Exception as exc:
            logger.warning("%s Could not read %s's conversation: %s", LOG_PREFIX, umo, exc)
            return None

    async def _persona(
        self, umo: str, settings: SessionSettings, conversation: Any
    ) -> tuple[str | None, str, list[dict]]:
        """(persona id, system prompt, begin dialogs) as the settings ask."""
        persona_settings = settings.persona
        if persona_settings.mode == "custom" and persona_settings.custom_prompt.strip():
            return None, _persona_block(persona_settings.custom_prompt), []
        manager = self._context.persona_manager
        if persona_settings.mode == "select" and persona_settings.persona_id:
            persona = next(
                (p for p in manager.personas_v3 if p.get("name") == persona_settings.persona_id),
                None,
            )
            if persona is not None:
                return persona_settings.persona_id, *_persona_parts(persona)
            logger.warning(
                "%s Persona %r (persona_settings.select_persona) does not exist; "
                "using the session's own persona for %s",
                LOG_PREFIX,
                persona_settings.persona_id,
                umo,
            )
        try:
            config = self._context.get_config(umo)
            persona_id, persona, _forced, webchat_default = await manager.resolve_selected_persona(
                umo=umo,
                conversation_persona_id=getattr(conversation, "persona_id", None),
                platform_name=platform_name_of(self._context, umo),
                provider_settings=config.get("provider_settings", {}),
            )
        except Exception as exc:
            logger.warning("%s Could not resolve the persona for %s: %s", LOG_PREFIX, umo, exc)
            return None, "", []
        if persona:
            return persona_id, *_persona_parts(persona)
        if webchat_default:
            try:
                from astrbot.core.astr_main_agent_resources import (
                    CHATUI_SPECIAL_DEFAULT_PERSONA_PROMPT,
                )
            except ImportError:
                return persona_id, "", []
            return persona_id, CHATUI_SPECIAL_DEFAULT_PERSONA_PROMPT, []
        return persona_id, "", []


def _persona_block(prompt: str) -> str:
    return f"\n# Persona Instructions\n\n{prompt}\n"


def _persona_parts(persona: Any) -> tuple[str, list[dict]]:
    prompt = persona.get("prompt") or ""
    dialogs = persona.get("_begin_dialogs_processed") or []
    return (_persona_block(prompt) if prompt else ""), [dict(d) for d in dialogs]


def recent_turns(conversation: Any, turns: int) -> list[dict]:
    """The last ``turns`` user/assistant turns of the conversation, text only."""
    if conversation is None or turns <= 0:
        return []
    raw = getattr(conversation, "history", "") or "[]"
    try:
        history = json.loads(raw) if isinstance(raw, str) else list(raw)
    except (ValueError, TypeError):
        return []
    messages: list[dict] = []
    for item in history if isinstance(history, list) else []:
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            continue
        text = _text_of(item.get("content"))
        if text:
            messages.append({"role": item["role"], "content": text})
    return messages[-2 * turns :]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content.strip()
    if isinstance(content, list):
        texts = [
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        ]
        return "\n".join(t for t in texts if t).strip()
    return ""


def _answer_text(response: Any) -> str:
    if response is None or getattr(response, "role", "assistant") == "err":
        return ""
    text = getattr(response, "completion_text", "") or ""
    return text.strip()
