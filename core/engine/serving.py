"""Why a chat is served or not, and the one list that says so.

Serving a chat means listing it in its kind's ``session_list`` (``friend_settings`` or
``group_settings``): the panel's "Serve" switch, ``/proactive on|off`` and AstrBot's config
dialog all read and write that list. The meaning of the list is unchanged: an empty list
serves nobody, and a kind whose ``enable`` is off serves nobody of that kind. A session
override that sets ``enable`` (stored by ``/proactive on|off`` before 2.x) still wins over
the list; ``serve_state`` names it so pages and commands show it as what it is.

Everything here only reads; ``session_list_with`` is pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..umo import GROUP, session_id_of
from .config import GROUP_OF_KIND
from .models import Phase, PluginSettings, SessionState
from .planning import is_capped

if TYPE_CHECKING:
    from .base import EngineBase

# Why a chat is (not) served, as a code the panel and /proactive status both translate.
SERVED_LISTED = "listed"
SERVED_BY_OVERRIDE = "override_on"
NOT_LISTED = "not_listed"
KIND_OFF = "kind_off"
OFF_BY_OVERRIDE = "override_off"

# Why a served chat has no plan right now.
NO_PLAN_PAUSED = "paused"
NO_PLAN_CAPPED = "capped"
NO_PLAN_NO_HISTORY = "no_history"  # planned after the chat's next message
NO_PLAN_WAITING = "waiting"  # talked with, but nothing planned yet (e.g. a message pending)


def kind_enabled(settings: PluginSettings, kind: str) -> bool:
    """The kind's own ``enable`` switch in the plugin config (no override applied)."""
    return (settings.group if kind == GROUP else settings.friend).enable


def listed(settings: PluginSettings, umo: str, kind: str) -> bool:
    sessions = settings.group_sessions if kind == GROUP else settings.friend_sessions
    return sessions.contains(umo, session_id_of(umo))


def serve_state(engine: EngineBase, umo: str, kind: str) -> dict[str, Any]:
    """``{served, listed, kind_enabled, override, why, group}`` for one chat.

    ``override`` is the ``enable`` a session override sets (True, False) or None;
    ``why`` is one of the codes above; ``group`` names the config group of the list."""
    settings = engine.settings
    override = (engine.overrides.get(umo) or {}).get("enable")
    override = override if isinstance(override, bool) else None
    is_listed = listed(settings, umo, kind)
    kind_on = kind_enabled(settings, kind)
    served = engine._served(umo, kind, engine.settings_for(umo, kind))
    if override is False:
        why = OFF_BY_OVERRIDE
    elif override is True:
        why = SERVED_BY_OVERRIDE
    elif not kind_on:
        why = KIND_OFF
    else:
        why = SERVED_LISTED if is_listed else NOT_LISTED
    return {
        "served": served,
        "listed": is_listed,
        "kind_enabled": kind_on,
        "override": override,
        "why": why,
        "group": GROUP_OF_KIND[kind],
    }


def why_no_plan(engine: EngineBase, state: SessionState, served: bool) -> str | None:
    """Why a served chat has nothing planned (None: it has a plan, or is not served)."""
    if not served or state.phase in (Phase.PLANNED, Phase.SILENCE):
        return None
    if state.paused:
        return NO_PLAN_PAUSED
    schedule = engine.settings_for(state.umo, state.kind).schedule
    if state.phase == Phase.CAPPED or is_capped(state.unanswered, schedule):
        return NO_PLAN_CAPPED
    if not state.last_user_at:
        return NO_PLAN_NO_HISTORY
    return NO_PLAN_WAITING


def session_list_with(entries: list[str], umo: str, served: bool) -> tuple[list[str], list[str]]:
    """``entries`` with ``umo`` added (``served``) or removed, and the bare ids removed.

    Serving adds the full session id unless the chat is listed already (by its id or by
    a bare id, the 1.x style). Stopping removes the full id and a bare id naming this
    chat: that bare id may also have served a chat of the same id on another platform,
    which is why the removed bare ids are returned (to be said)."""
    session_id = session_id_of(umo)
    if served:
        if umo in entries or session_id in entries:
            return list(entries), []
        return [*entries, umo], []
    bare = [entry for entry in entries if entry == session_id and ":" not in entry]
    kept = [entry for entry in entries if entry != umo and entry not in bare]
    return kept, bare
