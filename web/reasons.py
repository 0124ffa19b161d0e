"""The engine's journal reasons (and why it is not running) in the reader's language.

The engine writes each reason as a short English phrase or code (``core/engine/engine.py``); the
panel shows it translated. One table serves both ends: the server renders with it, and
the pages ship it to the browser (``<script id="pc-reasons">``) for entries that arrive
live. A reason nobody listed (a provider's or platform's own error text) is shown as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# (pattern, text key). Patterns match the whole reason; named groups become placeholders.
# A group named ``kind`` holds a journal kind and is shown with its label.
REASONS: tuple[tuple[str, str], ...] = (
    (r"user_message", "reason.user_message"),
    (r"cue", "reason.cue"),
    (r"newly_listed", "reason.newly_listed"),
    (r"promise", "reason.promise"),
    (r"moment", "reason.moment"),
    (r"moment_skipped", "reason.moment_skipped"),
    (r"moment_removed", "reason.moment_removed"),
    (r"the moment falls inside quiet hours \((?P<quiet>[^)]*)\)", "reason.moment_quiet"),
    (r"promise_cancelled", "reason.promise_cancelled"),
    (r"promise cancelled", "reason.promise_cancelled_manual"),
    (r"the model chose not to write now", "reason.declined"),
    (r"after_declined", "reason.after_declined"),
    (r"after_proactive", "reason.after_proactive"),
    (r"group_silence", "reason.group_silence"),
    (r"manual", "reason.manual"),
    (r"resumed", "reason.resumed"),
    (r"enabled", "reason.enabled"),
    (r"missed_replanned", "reason.missed_replanned"),
    (r"auto_trigger", "reason.auto_trigger"),
    (r"retry", "reason.retry"),
    (r"planned", "reason.planned"),
    (r"manual trigger", "reason.manual_trigger"),
    (r"send now", "reason.send_now"),
    (r"re-plan", "reason.replan"),
    (r"moved", "reason.moved"),
    (r"paused", "reason.paused"),
    (r"plan cancelled", "reason.plan_cancelled"),
    (r"moved out of quiet hours", "reason.quiet_shifted"),
    (r"cap reached", "reason.cap_reached"),
    (r"cancelled while writing", "reason.cancelled_writing"),
    (r"the user spoke while the message was being written", "reason.user_spoke"),
    (r"paused or switched off while it was being written", "reason.paused_writing"),
    (r"switched off while the message was being written", "reason.off_writing"),
    (r"the session is no longer served", "reason.not_served"),
    (r"not served or paused when the time came", "reason.not_served_at_time"),
    (r"session settings changed", "reason.override_set"),
    (r"session settings reset", "reason.override_reset"),
    (r"sent \((?P<parts>\d+) part\(s\)\)", "reason.sent"),
    (r"sent \((?P<parts>\d+) part\(s\), voice\)", "reason.sent_voice"),
    (r"sent \((?P<parts>\d+) part\(s\), (?P<pictures>\d+) picture\(s\)\)", "reason.sent_pictures"),
    (
        r"sent \((?P<parts>\d+) part\(s\), voice, (?P<pictures>\d+) picture\(s\)\)",
        "reason.sent_voice_pictures",
    ),
    (r"replied after (?P<n>\d+) message\(s\)", "reason.replied"),
    (r"(?P<n>\d+) message\(s\) unanswered: waiting for a reply", "reason.capped"),
    (r"retry #(?P<n>\d+) after (?P<kind>[a-z_]+)", "reason.retry_after"),
    (r"missed long ago while the plugin was not running: re-planned", "reason.missed_old"),
    (
        r"missed while the plugin was not running \(restart or reload\): sending soon",
        "reason.missed_soon",
    ),
    (
        r"(?P<restored>\d+) plan\(s\) restored, (?P<missed>\d+) missed to be sent soon, "
        r"(?P<replanned>\d+) re-planned",
        "reason.restored",
    ),
    (r"no activity since start: planned in (?P<n>\d+) min", "reason.auto_planned"),
    (r"(?P<n>\d+) sessions are no longer served", "reason.many_not_served"),
    (r"draft written, not sent", "reason.draft_written"),
    (r"draft: the model chose not to write now", "reason.draft_declined"),
    (r"draft cancelled: the plugin stopped while it was being written", "reason.draft_stopped"),
    (r"no draft: (?P<why>.+)", "reason.draft_failed"),
    (
        r"no chat model is set for this session \(AstrBot dashboard > model providers\)",
        "reason.no_model",
    ),
    (
        r"platform (?P<platform>\S+) \((?P<name>.*)\) cannot send proactive messages",
        "reason.no_push",
    ),
    (r"no running platform has the id '(?P<platform>[^']*)'", "reason.no_platform"),
    # Why the engine is not running (banners and 503 answers).
    (r"the proactive engine is not loaded in this panel", "reason.engine_not_loaded"),
    (
        r"the proactive engine is not running \(starting or stopped\)|the engine is not running",
        "reason.engine_not_running",
    ),
    (r"start-up failed: (?P<error>.*)", "reason.startup_failed"),
    (r"not sent: the plugin's store could not save the plan first .*", "reason.store_not_saved"),
    (r"not sent: the plugin stopped \(reload or shutdown\) before .*", "reason.stopped_unsent"),
)

_COMPILED = tuple((re.compile(pattern), key) for pattern, key in REASONS)


def reason_text(reason: str, t: Callable[..., str]) -> str:
    """``reason`` in the language of ``t`` (``web/i18n.translator``), else as it is."""
    for pattern, key in _COMPILED:
        match = pattern.fullmatch(reason)
        if match is not None:
            values: dict[str, Any] = dict(match.groupdict())
            if "kind" in values:
                values["kind"] = t(f"jkind.{values['kind']}")
            return t(key, **values)
    return reason


def browser_table() -> list[list[str]]:
    """``[[JavaScript regex source, text key], ...]`` for common.js ``reasonText``."""
    return [[pattern.replace("(?P<", "(?<"), key] for pattern, key in REASONS]
