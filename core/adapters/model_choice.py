"""Which chat models write a proactive message, in the order they are tried.

First the model chosen for proactive messages (``model_settings.provider_id``) or,
when none is chosen or it no longer exists, the session's own; then the fallback
models: AstrBot's own fallback list (``agent_runner.config.model.fallback_provider_ids``,
``provider_settings.fallback_chat_models`` before 4.x) or the plugin's list. Each model
appears once; names that do not exist (or are not chat models) are skipped and
reported, so the journal and the Overview can say so.
"""

from __future__ import annotations

from typing import Any

from ..engine.models import ModelSettings
from .lookups import chat_provider_of


def provider_id_of(provider: Any) -> str:
    return str(provider.meta().id)


def model_name_of(provider: Any) -> str:
    """The model a provider uses ("" when it cannot say)."""
    try:
        return str(provider.get_model() or "")
    except Exception:
        return ""


def astrbot_fallback_ids(context: Any, umo: str | None) -> list[str]:
    """The fallback chat models AstrBot is configured with (for the session's config)."""
    try:
        config = context.get_config(umo) if umo else context.get_config()
    except Exception:
        return []
    runner = (config.get("agent_runner") or {}).get("config") or {}
    ids = (runner.get("model") or {}).get("fallback_provider_ids")
    if ids is None:  # AstrBot before the agent-runner config
        ids = (config.get("provider_settings") or {}).get("fallback_chat_models")
    return [i for i in ids or [] if isinstance(i, str) and i]


def fallback_ids(context: Any, umo: str | None, model: ModelSettings) -> list[str]:
    if model.fallback_mode == "astrbot":
        return astrbot_fallback_ids(context, umo)
    if model.fallback_mode == "custom":
        return list(model.fallback_provider_ids)
    return []


def chat_provider_by_id(context: Any, provider_id: str) -> Any | None:
    """The chat provider with this id, or None (missing, or not a chat model)."""
    try:
        provider = context.get_provider_by_id(provider_id)
    except Exception:
        return None
    return provider if provider is not None and hasattr(provider, "text_chat") else None


async def providers_to_try(
    context: Any, umo: str, model: ModelSettings
) -> tuple[list[Any], list[str]]:
    """(the chat providers in the order to try, the configured names that do not exist).
    The first may be missing (empty list) when the session has no chat model; may raise
    what AstrBot raises looking up the session's model."""
    missing: list[str] = []
    first = None
    if model.provider_id:
        first = chat_provider_by_id(context, model.provider_id)
        if first is None:
            missing.append(model.provider_id)
    if first is None:
        first = await chat_provider_of(context, umo)
    if first is None:
        return [], missing
    ids = fallback_ids(context, umo, model)
    if not ids:  # the usual case: the session's (or the chosen) model alone
        return [first], missing
    providers = [first]
    seen = {provider_id_of(first)}
    for provider_id in ids:
        if provider_id in seen:
            continue
        seen.add(provider_id)
        provider = chat_provider_by_id(context, provider_id)
        if provider is None:
            missing.append(provider_id)
        else:
            providers.append(provider)
    return providers, missing
