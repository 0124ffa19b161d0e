"""Scripted chat models and tools for the composer, run by AstrBot's real agent loop.

``ScriptedModel`` is a subclass of AstrBot's ``Provider`` whose answers come from a
script: text, an empty answer, an exception, a hang, or a tool call
(``call("name", arg=...)``). ``AgentContext`` is the smallest stand-in of AstrBot's
``Context`` the composer needs, with AstrBot's own ``Context.tool_loop_agent`` and
``FunctionToolManager``, so the tool loop, the tool executor and the tool hooks are
AstrBot's real ones; only the network and the core are left out.

IMPORTS ASTRBOT AT IMPORT TIME: import it inside a test (tests/conftest.py points
``ASTRBOT_ROOT`` at a throw-away root first).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from astrbot.core.provider.entities import LLMResponse, ProviderMeta
from astrbot.core.provider.func_tool_manager import FunctionToolManager, FuncTool
from astrbot.core.provider.provider import Provider
from astrbot.core.star.context import Context


@dataclass
class ToolCall:
    name: str
    args: dict[str, Any] = field(default_factory=dict)


def call(name: str, **args: Any) -> ToolCall:
    return ToolCall(name, args)


HANG = object()


class ScriptedModel(Provider):
    """Answers from ``script`` (one item per model turn); records each request."""

    def __init__(self, provider_id: str, *script: Any, model: str = "") -> None:
        # Provider.__init__ reads AstrBot's config; these two are all it keeps.
        self.provider_config = {"id": provider_id, "type": "openai_chat_completion"}
        self.provider_settings: dict = {}
        self.model_name = model or f"model-of-{provider_id}"
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self._ids = 0

    def meta(self) -> ProviderMeta:
        return ProviderMeta(id=self.provider_config["id"], model=self.model_name, type="scripted")

    def get_current_key(self) -> str:
        return ""

    def set_key(self, key: str) -> None:
        return None

    async def get_models(self) -> list[str]:
        return [self.model_name]

    async def text_chat(self, **kwargs: Any) -> LLMResponse:
        self.requests.append(kwargs)
        item = self.script.pop(0) if self.script else "default answer"
        while isinstance(item, ToolCall) and not kwargs.get("func_tool"):
            # no tools offered (the loop's forced last step): a model cannot call one
            item = self.script.pop(0) if self.script else "default answer"
        if item is HANG:
            await asyncio.Event().wait()
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, ToolCall):
            self._ids += 1
            return LLMResponse(
                role="tool",
                tools_call_name=[item.name],
                tools_call_args=[item.args],
                tools_call_ids=[f"call-{self._ids}"],
            )
        return LLMResponse(role="assistant", completion_text=str(item))

    async def text_chat_stream(self, **kwargs: Any):  # type: ignore[override]
        yield await self.text_chat(**kwargs)


class _Providers:
    def __init__(self, models: dict[str, ScriptedModel], tools: FunctionToolManager) -> None:
        self.inst_map = models
        self.llm_tools = tools

    async def get_provider_by_id(self, provider_id: str) -> Any:
        return self.inst_map.get(provider_id)


class _Conversations:
    async def get_curr_conversation_id(self, umo: str) -> None:
        return None


class _Personas:
    def __init__(self) -> None:
        self.personas_v3: list = []

    async def resolve_selected_persona(self, **kwargs: Any) -> tuple:
        return None, None, None, False


class AgentContext(Context):
    """What MessageComposer uses of AstrBot's Context, with its real tool loop (a
    subclass, because the agent checks it is one; its managers are left out)."""

    def __init__(self, *models: ScriptedModel, config: dict | None = None) -> None:
        self.tools = FunctionToolManager()
        self.provider_manager = _Providers({m.provider_config["id"]: m for m in models}, self.tools)
        self.conversation_manager = _Conversations()
        self.persona_manager = _Personas()
        self.platform_manager = None
        self.session_model = models[0] if models else None
        self.config = config or {}
        self.delivered: list[Any] = []  # what reached "the platform" (send_message)

    def add_tool(self, name: str, handler: Any, description: str = "", **params: str) -> None:
        """Register a tool the way ``@filter.llm_tool`` does (a FuncTool with a handler)."""
        properties = {key: {"type": kind} for key, kind in params.items()}
        self.tools.func_list.append(
            FuncTool(
                name=name,
                description=description or name,
                parameters={"type": "object", "properties": properties},
                handler=handler,
            )
        )

    def get_llm_tool_manager(self) -> FunctionToolManager:
        return self.tools

    def get_config(self, umo: str | None = None) -> Any:
        return self.config

    def get_provider_by_id(self, provider_id: str) -> Any:
        return self.provider_manager.inst_map.get(provider_id)

    async def get_using_provider_async(self, umo: str | None = None) -> Any:
        return self.session_model

    async def send_message(self, session: Any, message_chain: Any) -> bool:
        self.delivered.append((session, message_chain))
        return True
