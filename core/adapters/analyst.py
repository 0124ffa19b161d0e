"""Asking the analysis model (``analysis_settings.provider_id``) about a user's message:
the engine's ``Analyst`` port over AstrBot's ``Context.llm_generate``.

The model gets the engine's instructions as the system prompt, the session's last
``max_turns`` turns of its current conversation as context, and the message itself as
the prompt (it may not be in the history yet: AstrBot's own reply runs meanwhile).
Its raw text is returned unchecked: the engine checks it. Every failure raises, for
the engine to log; nothing here waits longer than the engine's time-out (it cancels).
"""

from __future__ import annotations

from typing import Any

from ..engine.ports import AnalysisRequest
from .composer import recent_turns


class ModelAnalyst:
    def __init__(self, context: Any) -> None:
        self._context = context

    async def analyse(self, request: AnalysisRequest) -> str:
        contexts = await self._turns(request.umo, request.max_turns)
        if contexts and contexts[-1].get("content") == request.message:
            contexts = contexts[:-1]  # AstrBot saved the message already: not twice
        response = await self._context.llm_generate(
            chat_provider_id=request.provider_id,
            prompt=request.message,
            system_prompt=request.system_prompt,
            contexts=contexts,
        )
        if response is None or getattr(response, "role", "assistant") == "err":
            raise RuntimeError(getattr(response, "completion_text", "") or "no answer")
        return str(getattr(response, "completion_text", "") or "")

    async def _turns(self, umo: str, turns: int) -> list[dict]:
        manager = self._context.conversation_manager
        cid = await manager.get_curr_conversation_id(umo)
        if not cid:
            return []
        return recent_turns(await manager.get_conversation(umo, cid), turns)
