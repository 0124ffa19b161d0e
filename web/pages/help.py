"""What the help page shows (its template: templates/help.html, the prose in
templates/_help_zh.html and _help_en.html).

How pages are built: docs/panel-pages.md.

The placeholder table is built from ``core.engine.prompt_template.PLACEHOLDERS``, with examples
made by the same functions that fill a real prompt, so the page cannot drift from them.
"""

from __future__ import annotations

import time
from datetime import tzinfo
from typing import Any

from starlette.requests import Request

from ...core.engine.prompt_template import PLACEHOLDERS, describe_elapsed, format_local_time
from ..api.access import app_deps
from ..i18n import pick_language, translator
from ..timefmt import panel_timezone

EXAMPLE_UNANSWERED = 2
EXAMPLE_ELAPSED_SECONDS = 3 * 3600 + 20 * 60


def placeholder_rows(lang: str, tz: tzinfo | None, now: float) -> list[dict[str, str]]:
    """``[{name, meaning, example}]``, one per placeholder the prompt may use."""
    t = translator(lang)
    examples = {
        "unanswered_count": str(EXAMPLE_UNANSWERED),
        "current_time": format_local_time(now, tz),
        "time_since_last_chat": describe_elapsed(EXAMPLE_ELAPSED_SECONDS),
        "session_name": t("help.ph.session_name_example"),
        "occasion": t("help.ph.occasion_example"),
        "recent_proactive": t("help.ph.recent_proactive_example"),
        "group_context": t("help.ph.group_context_example"),
    }
    return [
        {"name": name, "meaning": t(f"help.ph.{name}"), "example": examples.get(name, "")}
        for name in PLACEHOLDERS
    ]


async def context(request: Request) -> dict[str, Any]:
    lang = pick_language(request)
    tz = panel_timezone(app_deps(request))
    return {"placeholders": placeholder_rows(lang, tz, time.time())}
