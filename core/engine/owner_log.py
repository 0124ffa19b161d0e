"""The lines a bot owner reads in AstrBot's log about proactive messages.

One INFO line per proactive message sent (to which session, private chat or group, why
now; the text itself only at DEBUG) and one per cap reached. Failures have their own
lines in ``failure_log.py`` (once per cause, with what to do). Nothing is logged per
incoming message: the message path stays quiet, the journal holds the rest.
"""

from __future__ import annotations

from contextvars import ContextVar

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from ..umo import GROUP, session_id_of
from .models import SessionState

# Set while the forward view simulates a session (forecast.py): its messages are not real.
SIMULATING: ContextVar[bool] = ContextVar("proactive_chat_simulating", default=False)

# A plan's reason (``SessionState.next_reason``, the journal's words) as an owner reads it.
WHY_NOW = {
    "user_message": "the chat stayed quiet for the planned time after the user's message",
    "after_proactive": "the planned time after the previous proactive message came",
    "group_silence": "the group stayed quiet for long enough",
    "retry": "a retry after a failure",
    "quiet_hours": "quiet hours ended",
    "auto_trigger": "the auto trigger after start-up (the chat had no message yet)",
    "missed_replanned": "its time passed while the plugin was off, and came again",
    "manual": "the time an admin set came",
    "resumed": "the planned time after the session was resumed came",
    "manual trigger": "an admin pressed send now",
    "planned": "its planned time came",
}


def describe_session(state: SessionState) -> str:
    """``group "Name" (umo)``: the name an owner knows and the id the panel shows."""
    kind = "group" if state.kind == GROUP else "private chat"
    name = state.name or session_id_of(state.umo)
    return f'{kind} "{name}" ({state.umo})'


def log_sent(state: SessionState, why: str, how: str, text: str) -> None:
    if SIMULATING.get():
        return
    logger.info(
        "%s Proactive message sent to %s: %s; %s, %d unanswered in a row.",
        LOG_PREFIX,
        describe_session(state),
        WHY_NOW.get(why, why or "its planned time came"),
        how,
        state.unanswered,
    )
    logger.debug("%s Text sent to %s: %s", LOG_PREFIX, state.umo, text)


def log_capped(state: SessionState, limit: int) -> None:
    if SIMULATING.get():
        return
    logger.info(
        "%s Cap reached for %s: %d proactive message(s) unanswered (max_unanswered_times "
        "= %d); none more until the user writes.",
        LOG_PREFIX,
        describe_session(state),
        state.unanswered,
        limit,
    )
