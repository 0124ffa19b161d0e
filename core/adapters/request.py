"""One proactive message's request to the model, as the composer builds it.

``BuiltRequest`` is what ``MessageComposer._build`` returns: the models to try, the
persona, the history and prompt (``LlmRequest``), the tools. ``compose`` sends it;
``prepared_view`` turns it into the engine's ``PreparedRequest`` for the panel's
preview: ids and texts only, never a provider object, key or endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine.ports import PreparedRequest
from .model_choice import model_name_of, provider_id_of
from .tool_loop import ToolRun


@dataclass(frozen=True, slots=True)
class LlmRequest:
    prompt: str
    system_prompt: str
    contexts: list[dict]


@dataclass(frozen=True, slots=True)
class BuiltRequest:
    providers: list[Any]  # AstrBot providers, in the order they are tried
    missing: list[str]  # configured model ids that do not exist
    conversation: Any  # AstrBot's conversation, or None
    persona_id: str | None
    request: LlmRequest
    tools: ToolRun | None


def prepared_view(built: BuiltRequest) -> PreparedRequest:
    """The request as the preview shows it: what the model receives, which models would
    be asked, which tools offered (the system prompt as the tool loop extends it)."""
    tools = built.tools
    system_prompt = built.request.system_prompt
    tool_names: list[str] = []
    if tools is not None and tools.active:
        system_prompt = tools.system_prompt(system_prompt)
        tool_names = [str(name) for name in tools.toolset.names()]
    first = built.providers[0] if built.providers else None
    return PreparedRequest(
        system_prompt=system_prompt,
        contexts=[dict(message) for message in built.request.contexts],
        prompt=built.request.prompt,
        providers=[provider_id_of(p) for p in built.providers],
        model=model_name_of(first) if first is not None else "",
        persona_id=built.persona_id,
        conversation_id=getattr(built.conversation, "cid", None),
        tools=tool_names,
        missing=list(built.missing),
    )
