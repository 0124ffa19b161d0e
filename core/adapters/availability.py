"""Which models and tools named in the plugin's config do not exist in AstrBot.

For the Overview's warning: ``model_settings.provider_id``, the custom fallback list,
the tool white/blacklists and the picture include/exclude lists of both kinds, each
checked against AstrBot's providers and registered tools as they are now. A name that
does not exist is skipped when a message is written (and said so in the journal);
this says it before. Never raises.
"""

from __future__ import annotations

from typing import Any

from ..engine.models import PluginSettings, SessionSettings
from .model_choice import chat_provider_by_id


def missing_names(context: Any, settings: PluginSettings) -> list[dict[str, str]]:
    """``[{"kind": "provider"|"tool", "name", "where"}]`` for each name that does not exist."""
    try:
        tools = _registered_tools(context)
    except Exception:
        tools = None  # cannot tell: say nothing about tools
    missing: list[dict[str, str]] = []
    for group, kind in ((settings.friend, "friend_settings"), (settings.group, "group_settings")):
        for name, where in _provider_names(group, kind):
            if chat_provider_by_id(context, name) is None:
                missing.append({"kind": "provider", "name": name, "where": where})
        if tools is None:
            continue
        for name, where in _tool_names(group, kind):
            if name not in tools:
                missing.append({"kind": "tool", "name": name, "where": where})
    return missing


def _registered_tools(context: Any) -> set[str]:
    manager = context.get_llm_tool_manager()
    return {str(getattr(tool, "name", "")) for tool in manager.func_list}


def _provider_names(s: SessionSettings, group: str) -> list[tuple[str, str]]:
    names = [(s.model.provider_id, f"{group}.model_settings.provider_id")]
    if s.model.fallback_mode == "custom":
        where = f"{group}.model_settings.fallback_provider_ids"
        names += [(name, where) for name in s.model.fallback_provider_ids]
    return [(name, where) for name, where in names if name]


def _tool_names(s: SessionSettings, group: str) -> list[tuple[str, str]]:
    names: list[tuple[str, str]] = []
    if s.tools.mode == "whitelist":
        names += [(n, f"{group}.tool_settings.whitelist") for n in s.tools.whitelist]
    if s.tools.mode == "all":
        names += [(n, f"{group}.tool_settings.blacklist") for n in s.tools.blacklist]
    if s.pictures.enabled:
        names += [(n, f"{group}.picture_settings.include_tools") for n in s.pictures.include_tools]
    return names
