"""The bot's own promises: when its reply commits to a time ("我十分钟后提醒你", "I'll
check on you in an hour"), a follow-up is planned for that time, and the model is told,
when it writes, what it promised (the ``{{occasion}}`` placeholder).

A promise is kept per session in memory (one at most: a newer one replaces it) until
its message is sent or the model declines it; a user's message does not move it (unless
the user names an earlier time), a cancelled plan or a session going idle drops it, and
an admin may cancel it alone (``cancel_promise`` in admin.py: the plan is drawn again).
It survives a restart through the store: the session row keeps the plan (reason
``promise``) and the journal keeps the sentence (``recovered_promise`` reads it back);
if the journal entry was pruned, the plan still fires, without the sentence.
"""

from __future__ import annotations

from typing import Any

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from .cues import Cue, parse_bot_promise
from .models import JournalKind, Phase, SessionSettings, SessionState
from .ports import Store
from .transitions import Transitions

PROMISE = "promise"  # the plan's reason (next_reason) while a promise is pending
RECOVERY_LOOKBACK = 20  # planned entries read per session to find its promise at start


class Promises(Transitions):
    def _note_promise(self, state: SessionState, settings: SessionSettings, text: str) -> None:
        """Read the bot's reply for a promise; plan at its time (quiet hours still win)."""
        now = self.clock()
        try:
            cue = parse_bot_promise(text, now, self.timezone)
        except Exception:
            logger.exception("%s Could not read the bot's reply for a promise.", LOG_PREFIX)
            return
        if cue is None:
            return
        at, moved = self.quiet.shift(cue.target, settings.schedule.quiet_hours, self.rng)
        self._promises[state.umo] = (at, cue)
        self._set_planned(
            state,
            at,
            PROMISE,
            moved=moved,
            sentence=cue.sentence,
            rule=cue.rule,
            promise_at=cue.target,
        )

    def _keep_promise(self, state: SessionState, now: float, cue: Cue | None) -> bool:
        """After a user's message: True when a pending promise stays the plan (it comes
        before any time the user named), so the message does not re-plan."""
        pending = self._promises.get(state.umo)
        if pending is None:
            return False
        at, _ = pending
        if at <= now:  # its time passed (it failed, or is being written): let it go
            del self._promises[state.umo]
            return False
        if cue is not None and cue.target < at:
            return False
        if state.phase != Phase.PLANNED or state.next_at != at:
            self._set_planned(state, at, PROMISE, journal=False)
        return True

    def promise_of(self, umo: str) -> Cue | None:
        """The promise this session's next message keeps, if any."""
        pending = self._promises.get(umo)
        return pending[1] if pending else None


def promise_view(at: float, cue: Cue) -> dict[str, Any]:
    """A pending promise as the panel shows it: the sentence, when it fires (``at``,
    after quiet hours) and the time the bot named (``promised_at``)."""
    return {"sentence": cue.sentence, "at": at, "promised_at": cue.target, "rule": cue.rule}


async def recovered_promise(store: Store, umo: str) -> Cue | None:
    """The promise a stored plan (reason ``promise``) keeps, read back from the newest
    ``planned`` journal entry that made it; None when it was pruned or unreadable."""
    entries = await store.query_journal(
        umo=umo, kinds=(JournalKind.PLANNED,), limit=RECOVERY_LOOKBACK
    )
    for entry in entries:
        if entry.reason != PROMISE:
            continue
        detail = entry.detail
        sentence, rule, promised = (
            detail.get("sentence"),
            detail.get("rule"),
            detail.get("promise_at"),
        )
        if not isinstance(sentence, str) or not isinstance(promised, int | float):
            return None
        rule = rule if isinstance(rule, str) else ""
        return Cue(float(promised), float(promised), rule, sentence, sentence)
    return None
