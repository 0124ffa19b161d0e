"""The per-message path: what a message in a chat changes, now and in the next batch.

AstrBot calls the plugin's handler for every message in every chat, between
milliseconds of its own dispatch work, so the handler runs with cold CPU caches:
every function and object it touches costs a trip to memory. ``note_user_message``
(the handler's entry) therefore does only what cannot wait: the time of the message,
and, through the full path, stopping a message being written, the answered count
and a new session's first record. The new plan is left to a batch that runs
``BATCH_SECONDS`` later over every chat that spoke meanwhile, one after another with
warm caches. The plan is drawn from the message's own time, so it is the plan the
message would have made at once; a plan that comes due before the batch has seen a
later message does not fire (``DueQueue._on_due`` applies the message first).

``on_user_message`` is the same work done at once (commands, tests, the first
message of a session). Nothing here does I/O or grows with the number of sessions.
"""

from __future__ import annotations

import asyncio
import itertools

from ..constants import LOG_PREFIX
from ..plugin_log import logger
from ..umo import GROUP, kind_of
from .analysed import AnalysedCues
from .cues import Cue, parse_user_cue
from .delivery import USER_SPOKE, Deliveries
from .models import TIMED_PHASES, JournalKind, Phase
from .promises import Promises

BATCH_SECONDS = 0.2  # the longest a message waits for its plan; AstrBot's replies take longer
MAX_RECORDED_SESSIONS = 50_000  # unserved chats are recorded only below this many sessions
BATCH_LIMIT = 500  # messages per loop turn (about 5 ms); the rest in the next turn


class Messages(Promises, AnalysedCues, Deliveries):
    def note_user_message(self, umo: str, name: str | None = None, text: str = "") -> None:
        """Someone (not the bot) wrote ``text`` in this session: the handler's O(1) path."""
        state = self.sessions.get(umo)
        if (
            state is None
            or state.unanswered
            or umo in self._deliveries
            or umo in self._failures
            or not self.running
        ):
            self.on_user_message(umo, name, text)  # rare for a chat: the full path, at once
            return
        now = self.clock()
        if name and name != state.name:
            state.name = name
        state.last_user_at = now
        state.last_activity_at = now
        pending = self._pending_messages
        if not pending:
            loop = asyncio.get_running_loop()
            self._batch_timer = loop.call_later(
                BATCH_SECONDS, self.apply_pending_messages, BATCH_LIMIT
            )
        pending[umo] = (now, text)

    def on_user_message(self, umo: str, name: str | None = None, text: str = "") -> None:
        """Someone (not the bot) wrote in this session; everything at once. O(log n)."""
        kind = kind_of(umo)
        if kind is None:
            return
        state = self.sessions.get(umo)
        if state is None:
            if not self._served(umo, kind, self.settings_for(umo, kind)):
                self._record_seen(umo, kind, name)
                return
            state = self._new_state(umo, kind)
        now = self.clock()
        if name and name != state.name:
            state.name = name
        state.last_user_at = now
        state.last_activity_at = now
        self._pending_messages.pop(umo, None)  # this message supersedes a batched one
        self._failures.pop(umo, None)
        self._abort_writing(umo, USER_SPOKE)  # the user spoke first: do not send
        if state.unanswered:
            self.journal(umo, JournalKind.ANSWERED, f"replied after {state.unanswered} message(s)")
            state.unanswered = 0
            self._note_habit_answer(umo, now)
        self._after_user_message(umo, now, text)

    def _record_seen(self, umo: str, kind: str, name: str | None) -> None:
        """A chat that is not served, seen for the first time: recorded (name, time) so
        the panel lists it and can serve it, never planned. Bounded: past
        MAX_RECORDED_SESSIONS sessions, unserved chats are no longer recorded."""
        if len(self.sessions) >= MAX_RECORDED_SESSIONS:
            return
        state = self._new_state(umo, kind)
        state.name = name or ""
        state.last_user_at = state.last_activity_at = self.clock()
        self._touch(state)

    def apply_pending_messages(self, limit: int | None = None) -> int:
        """Plan after the messages noted since the last batch (at most ``limit``; the
        rest in the next loop turn); returns how many."""
        timer, self._batch_timer = self._batch_timer, None
        if timer is not None:
            timer.cancel()
        pending = self._pending_messages
        if limit is None or len(pending) <= limit:
            self._pending_messages = {}
            batch = list(pending.items())
        else:
            batch = [(umo, pending.pop(umo)) for umo in list(itertools.islice(pending, limit))]
            loop = asyncio.get_running_loop()
            self._batch_timer = loop.call_later(0, self.apply_pending_messages, limit)
        for umo, (now, text) in batch:
            try:
                self._after_user_message(umo, now, text)
            except Exception:
                logger.exception(
                    "%s Could not plan after a message in %s; its next message plans again.",
                    LOG_PREFIX,
                    umo,
                )
        return len(batch)

    def _apply_pending_for(self, umo: str) -> bool:
        """Apply this session's noted message now, if there is one."""
        noted = self._pending_messages.pop(umo, None)
        if noted is None:
            return False
        self._after_user_message(umo, *noted)
        return True

    def _after_user_message(self, umo: str, now: float, text: str = "") -> None:
        """A message at ``now``: a time the user named sets the plan (cues/); otherwise
        groups wait for silence and chats get a new plan."""
        state = self.sessions.get(umo)
        if state is None:
            return
        kind = state.kind
        settings = self.settings_for(umo, kind)
        self.failure_log.forget(umo)
        if state.paused or not self._served(umo, kind, settings):
            self._touch(state)
            return
        self._note_habit_activity(umo, settings, now)
        cue = self._read_cue(text, now) if text and settings.time_cues else None
        if self._keep_promise(state, now, cue):
            pass  # the bot's promise comes first (nothing else to plan)
        elif cue is not None:
            self._plan_at_cue(state, settings, cue)
        else:
            if kind == GROUP:
                self._start_silence(state, settings, now)
            else:
                self._plan(state, settings, now, "user_message")
            if text and settings.time_cues and settings.analysis.enabled:
                self._ask_analysis(state, settings, text, now)  # no cue here: a model may see one
        self._touch(state)

    def _read_cue(self, text: str, now: float) -> Cue | None:
        """The user's time cue, read in AstrBot's zone; never fails the message."""
        try:
            return parse_user_cue(text, now, self.timezone)
        except Exception:
            logger.exception("%s Could not read a time cue; planning as usual.", LOG_PREFIX)
            return None

    def on_bot_message(self, umo: str, text: str = "") -> None:
        """The bot replied in this session (AstrBot's pipeline): groups restart the
        silence; private chats only note the time. A reply (``text``) that promises a
        time plans a follow-up for it (promises.py)."""
        state = self.sessions.get(umo)
        if state is None:
            return
        now = self.clock()
        state.last_bot_at = now
        state.last_activity_at = now
        settings = self.settings_for(umo, state.kind)
        if state.umo in self._promises and state.phase == Phase.PLANNED:
            pass  # a promise made earlier stays the plan
        elif state.kind == GROUP and state.phase in TIMED_PHASES and not state.paused:
            self._start_silence(state, settings, now)
        if (
            text
            and settings.time_cues
            and not state.paused
            and self._served(umo, state.kind, settings)
        ):
            self._note_promise(state, settings, text)
        self._touch(state)
