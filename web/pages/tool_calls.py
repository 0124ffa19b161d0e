"""The tools a message used, as the pages show them: ``search_web (120 ms), draw ✗``.

The composer journals each call as ``{"name", "provider", "ms", "ok"}``
(``core/adapters/tool_loop.py``). A stored entry may hold anything (an older version, a
hand-edited file), so ``tool_call_list`` keeps only well-formed calls, with names cut
short, and the templates (``_macros.html: tool_calls``) and scripts
(``common.js: toolCallsText``) write them with the same texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_CALLS = 50  # a message's tool loop is bounded (max_steps); a stored list may not be
MAX_NAME_CHARS = 80


def tool_call_list(value: Any) -> list[dict[str, Any]]:
    """``[{"name", "ms" (int or None), "ok"}]`` of the well-formed calls in ``value``."""
    if not isinstance(value, list):
        return []
    calls: list[dict[str, Any]] = []
    for call in value[:MAX_CALLS]:
        if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
            continue
        name = call["name"].strip()[:MAX_NAME_CHARS]
        if not name:
            continue
        ms = call.get("ms")
        shown_ms = None
        if isinstance(ms, int | float) and not isinstance(ms, bool) and 0 <= ms < 1e9:
            shown_ms = round(ms)
        calls.append({"name": name, "ms": shown_ms, "ok": call.get("ok") is True})
    return calls
