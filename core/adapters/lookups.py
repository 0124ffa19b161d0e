"""Finding what serves a session in AstrBot: its platform and its providers.

The one place that walks ``context.platform_manager.platform_insts`` and asks the
context for a session's providers. Platforms and providers do not exist yet when
``initialize()`` runs at AstrBot's first start, so everything here is looked up
when asked, never cached. The platform lookups never raise: a platform whose
``meta()`` fails is skipped, a context without a platform manager has no platforms.
"""

from __future__ import annotations

from typing import Any

from ..umo import platform_of


def running_platforms(context: Any) -> list[Any]:
    """The platform instances AstrBot runs now (empty before they are loaded)."""
    manager = getattr(context, "platform_manager", None)
    return list(getattr(manager, "platform_insts", None) or [])


def platforms_loaded(context: Any) -> bool:
    """Whether AstrBot has loaded its platforms (at first start, after initialize())."""
    return bool(running_platforms(context))


def platform_meta_of(context: Any, umo: str) -> Any | None:
    """The ``meta()`` of the running platform whose id is the UMO's, or None."""
    platform_id = platform_of(umo)
    for platform in running_platforms(context):
        try:
            meta = platform.meta()
        except Exception:
            continue
        if meta.id == platform_id:
            return meta
    return None


def platform_name_of(context: Any, umo: str) -> str:
    """The name (adapter type) of the session's platform; its id when none runs."""
    meta = platform_meta_of(context, umo)
    return meta.name if meta is not None else platform_of(umo)


async def chat_provider_of(context: Any, umo: str) -> Any | None:
    """The chat provider AstrBot uses for the session (None: none is set); may raise."""
    return await context.get_using_provider_async(umo)


async def tts_provider_of(context: Any, umo: str) -> Any | None:
    """The session's TTS provider when its config turns TTS on, else None; may raise."""
    config = context.get_config(umo)
    if not config.get("provider_tts_settings", {}).get("enable", False):
        return None
    return await context.get_using_tts_provider_async(umo)
