"""State that must outlive one plugin instance inside the AstrBot process.

A hot reload deletes every ``data.plugins.<dir>*`` module from ``sys.modules`` and
imports the plugin again, so module globals are lost. What must survive (the bound
listening socket, the live-log ring) is parked here, in a module object registered
under a name AstrBot never purges. Only plain standard-library objects go in: the
next instance's code may be a different version of ours.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ..constants import STASH_MODULE_NAME


def process_stash() -> dict[str, Any]:
    """Return the process-wide dict shared by every instance of the plugin."""
    module = sys.modules.get(STASH_MODULE_NAME)
    if module is None:
        module = types.ModuleType(
            STASH_MODULE_NAME, "Hand-over state of astrbot_plugin_proactive_chat."
        )
        vars(module)["state"] = {}
        sys.modules[STASH_MODULE_NAME] = module
    state = getattr(module, "state", None)
    if not isinstance(state, dict):
        state = {}
        vars(module)["state"] = state
    return state
