"""Writing and sending one proactive message, at most once.

``deliver`` checks the session may still speak, then writes the message with the
``Composer`` and sends it with the ``Sender``. A plan stays in the store while the
message is being written (a reload or crash then restores it and it fires again
soon), and is marked consumed, with a flush, right before the message is handed to
the platform; so a message is never sent twice. A message still being written is
dropped when the user speaks first; one being sent is never interrupted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum

from ..umo import GROUP, session_id_of
from .chat_context import describe_recent_sent, describe_talk, remember_sent, with_talk_block
from .failure_log import model_source, platform_source
from .models import JournalKind, Phase, SessionSettings, SessionState
from .moment_calendar import Moment
from .moments import MOMENT, MOMENT_SKIPPED
from .owner_log import log_capped, log_sent
from .planning import is_capped
from .ports import ComposeError, ComposeResult, platform_advice
from .prompt_template import describe_elapsed, fill_prompt, format_local_time, moment_prompt
from .retries import Retries

SKIPPED = "skipped"  # what deliver() returns when it did nothing (no journal entry)
# The model's way to stay silent (the default prompts and the Help page tell it how).
DECLINE_MARKER = "[SKIP]"
USER_SPOKE = "the user spoke while the message was being written"
SWITCHED_OFF = "switched off while the message was being written"
STOPPED_BEFORE_SENT = (
    "not sent: the plugin stopped (reload or shutdown) before the message was written; "
    "press send now again"
)
STORE_NOT_SAVED = (
    "not sent: the plugin's store could not save the plan first (see the warning in "
    "the log), and sending without it could send the message twice"
)


class AfterSend(StrEnum):
    """What follows a message that is going out (set before it is sent)."""

    IDLE = "idle"  # paused or no longer served
    CAPPED = "capped"  # the cap is reached: wait for the user
    SILENCE = "silence"  # group: wait for the group to be quiet again
    PLANNED = "planned"
    PLANNED_QUIET = "planned_quiet"  # planned, moved out of quiet hours


@dataclass(slots=True)
class InFlight:
    """One message being written or sent for a session."""

    fired_at: float
    compose_task: asyncio.Task | None = None
    sending: bool = False
    manual: bool = False
    why: str = ""  # the plan's reason, for the owner's log line
    done: asyncio.Event = field(default_factory=asyncio.Event)
    cancel_reason: str = ""


class Deliveries(Retries):
    async def deliver(self, umo: str, *, manual: bool = False) -> str:
        """Write and send one message now. Returns the journal kind of the outcome
        (``SKIPPED`` when nothing was done)."""
        state = self.sessions.get(umo)
        if not self.running or state is None or umo in self._deliveries:
            return SKIPPED
        settings = self.settings_for(umo, state.kind)
        now = self.clock()
        if not manual:
            held = self._held_back(state, settings, now)
            if held is not None:
                return held
        delivery = InFlight(fired_at=now, manual=manual)
        problem = self.sender.platform_problem(umo)
        if problem is not None:
            return self._failed(
                state,
                settings,
                JournalKind.PLATFORM_SKIPPED,
                problem,
                delivery,
                source=platform_source(umo),
                advice=platform_advice(umo),
            )
        reason = "manual trigger" if manual else state.next_reason or "planned"
        self.journal(umo, JournalKind.FIRED, reason, **self._moment_detail(umo))
        delivery.why = reason
        self._deliveries[umo] = delivery
        try:
            return await self._compose_and_send(state, delivery)
        finally:
            if self._deliveries.get(umo) is delivery:
                del self._deliveries[umo]
            delivery.done.set()

    def _held_back(self, state: SessionState, settings: SessionSettings, now: float) -> str | None:
        """Why a planned message must not go out now (the outcome), or None."""
        if state.paused or not self._served(state.umo, state.kind, settings):
            self._set_idle(state, JournalKind.DISABLED, "not served or paused when the time came")
            return JournalKind.DISABLED
        if is_capped(state.unanswered, settings.schedule):
            self._set_idle(state, JournalKind.CAPPED, "cap reached", Phase.CAPPED)
            log_capped(state, settings.schedule.max_unanswered_times)
            return JournalKind.CAPPED
        at, moved = self.quiet.shift(now, settings.schedule.quiet_hours, self.rng)
        if moved and state.next_reason == MOMENT:
            self._skip_moment(state, settings, now)
            return JournalKind.MOMENT_SKIPPED
        if moved:
            self._set_planned(state, max(at, now + 60.0), "quiet_hours", moved=True)
            self._touch(state)
            return JournalKind.QUIET_SHIFTED
        return None

    def _skip_moment(self, state: SessionState, settings: SessionSettings, now: float) -> None:
        """A daily moment whose time came inside quiet hours: not sent today (journaled
        why), and the session planned as after a message."""
        detail = self._moment_detail(state.umo)
        self._consume_moment(state)
        quiet = settings.schedule.quiet_hours
        self.journal(
            state.umo,
            JournalKind.MOMENT_SKIPPED,
            f"the moment falls inside quiet hours ({quiet})",
            **detail,
        )
        self._plan(state, settings, now, MOMENT_SKIPPED)
        self._touch(state)

    def _moment_underway(self, state: SessionState) -> Moment | None:
        """The daily moment the message being written is for: its plan's, unless an
        admin's "send now" came first (the moment then stays planned)."""
        delivery = self._deliveries.get(state.umo)
        if state.next_reason != MOMENT or (delivery is not None and delivery.manual):
            return None
        return self.moment_of(state.umo)

    def _abort_writing(self, umo: str, reason: str) -> None:
        """Stop a message still being written for this session (never one being sent)."""
        delivery = self._deliveries.get(umo)
        if delivery is not None and not delivery.sending and delivery.compose_task is not None:
            delivery.cancel_reason = reason
            delivery.compose_task.cancel()

    async def _compose_and_send(self, state: SessionState, delivery: InFlight) -> str:
        """Write the message, check nothing changed meanwhile, then send it."""
        umo = state.umo
        settings = self.settings_for(umo, state.kind)
        prompt = self._prompt(state, settings)
        delivery.compose_task = asyncio.ensure_future(self.composer.compose(umo, settings, prompt))
        try:
            result = await delivery.compose_task
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self.running or (task is not None and task.cancelling()):
                # The engine is stopping: a plan stays for the next start, a manual
                # "send now" has none, so say it was not sent.
                if delivery.manual:
                    self.journal(umo, JournalKind.CANCELLED, STOPPED_BEFORE_SENT)
                raise
            reason = delivery.cancel_reason or "cancelled while writing"
            self.journal(umo, JournalKind.CANCELLED, reason)
            return JournalKind.CANCELLED
        except Exception as exc:
            return self._compose_failed(state, settings, delivery, exc)
        # Things may have changed while the model was writing.
        settings = self.settings_for(umo, state.kind)
        if (state.last_user_at or 0) > delivery.fired_at:
            self.journal(umo, JournalKind.CANCELLED, USER_SPOKE)
            return JournalKind.CANCELLED
        if not delivery.manual and (state.paused or not self._served(umo, state.kind, settings)):
            reason = "paused or switched off while it was being written"
            self.journal(umo, JournalKind.CANCELLED, reason)
            return JournalKind.CANCELLED
        if DECLINE_MARKER in result.text:
            return self._declined(state, settings, result)
        return await self._send(state, settings, delivery, result)

    def _declined(
        self, state: SessionState, settings: SessionSettings, result: ComposeResult
    ) -> str:
        """The model chose silence (it answered the marker): nothing is sent (not even
        text around the marker), the unanswered count stays, and the next time is planned
        as after a message."""
        self._failures.pop(state.umo, None)  # the model worked
        self.journal(
            state.umo,
            JournalKind.DECLINED,
            "the model chose not to write now",
            provider=result.provider_id,
        )
        after = self._plan_after_send(state, settings, self.clock())
        if state.next_reason == "after_proactive":
            state.next_reason = "after_declined"
        self._journal_next(state, after, settings)
        self._touch(state)
        return JournalKind.DECLINED

    def _compose_failed(
        self,
        state: SessionState,
        settings: SessionSettings,
        delivery: InFlight,
        exc: Exception,
    ) -> str:
        if isinstance(exc, ComposeError):
            return self._failed(
                state,
                settings,
                exc.kind,
                exc.reason,
                delivery,
                source=model_source(exc.provider_id),
                advice=exc.advice,
                detail=exc.detail,
            )
        # A provider or AstrBot raising something unexpected.
        return self._failed(
            state,
            settings,
            JournalKind.LLM_FAILED,
            f"{type(exc).__name__}: {exc}"[:300],
            delivery,
            source=model_source(""),
            advice="this looks like a bug; please report it with this log",
            exc_info=exc,
        )

    async def _send(
        self,
        state: SessionState,
        settings: SessionSettings,
        delivery: InFlight,
        result: ComposeResult,
    ) -> str:
        umo = state.umo
        # The message is going out. First consume this plan and write down the next one,
        # durably: a reload or crash during the send then never sends it twice, and
        # never leaves the session without a plan.
        delivery.sending = True
        state.unanswered += 1
        after = self._plan_after_send(state, settings, self.clock())
        self._touch(state)
        if not await self.store.flush():
            state.unanswered -= 1
            # The store has logged why, with what to do, once: journal and retry only.
            return self._failed(
                state, settings, JournalKind.SEND_FAILED, STORE_NOT_SAVED, delivery, log=False
            )
        if result.pictures:
            outcome = await self.sender.send(
                umo, result.text, settings, hurry=self._hurry, pictures=result.pictures
            )
        else:  # the plain path, as before pictures existed
            outcome = await self.sender.send(umo, result.text, settings, hurry=self._hurry)
        now = self.clock()
        user_spoke = (state.last_user_at or 0) > delivery.fired_at
        if not outcome.ok:
            if not user_spoke:
                state.unanswered = max(0, state.unanswered - 1)
            return self._failed(
                state,
                settings,
                outcome.kind,
                outcome.reason,
                delivery,
                source=platform_source(umo),
                advice=outcome.advice,
                detail=result.detail,
            )
        self._failures.pop(umo, None)
        self.failure_log.worked(result.provider_id, umo)
        how = f"{outcome.parts} part(s){', voice' if outcome.tts else ''}"
        if outcome.pictures:
            how += f", {outcome.pictures} picture(s)"
        self._journal_sent(state, result, how, now)
        remember_sent(state, settings, result.text, now)  # for the next {{recent_proactive}}
        log_sent(state, delivery.why, how, result.text)
        if not user_spoke:  # else the user's own message already planned what comes next
            self._journal_next(state, after, settings)
        self._touch(state)
        # The platform has it: the session is free for the next trigger.
        del self._deliveries[umo]
        delivery.done.set()
        await self.composer.remember(umo, result.conversation_id, result.text)
        return JournalKind.SENT

    def _journal_sent(
        self, state: SessionState, result: ComposeResult, how: str, now: float
    ) -> None:
        state.last_bot_at = now
        state.last_activity_at = now
        state.sent_total += 1
        self.counters[JournalKind.SENT] += 1
        self._note_habit_sent(state, self.settings_for(state.umo, state.kind), now)
        self.journal(
            state.umo,
            JournalKind.SENT,
            f"sent ({how})",
            text=result.text[:2000],
            provider=result.provider_id,
            persona=result.persona_id,
            unanswered=state.unanswered,
            **result.detail,
        )

    def _plan_after_send(
        self, state: SessionState, settings: SessionSettings, now: float
    ) -> AfterSend:
        """Set (without journaling) what follows the message being sent."""
        self._habit_detail.pop(state.umo, None)
        self.scheduler.cancel(state.umo)
        self._promises.pop(state.umo, None)  # a promise is kept once
        if self._moment_underway(state) is not None:
            self._consume_moment(state)  # once a day, also when declined
        state.next_at = None
        state.next_reason = ""
        if state.paused or not self._served(state.umo, state.kind, settings):
            state.phase = Phase.IDLE
            return AfterSend.IDLE
        if is_capped(state.unanswered, settings.schedule):
            state.phase = Phase.CAPPED
            return AfterSend.CAPPED
        if state.kind == GROUP:
            self._start_silence(state, settings, now)
            return AfterSend.SILENCE
        at, moved, habits = self._draw_next(state, settings, now)
        moment = self._moment_before(state, settings, now, at)
        if moment is not None:
            self._plan_moment(state, moment, journal=False)  # journaled by _journal_next
            return AfterSend.PLANNED
        self._habit_detail[state.umo] = habits  # journaled by _journal_next, or dropped
        state.phase = Phase.PLANNED
        state.next_at = at
        state.next_reason = "after_proactive"
        self.scheduler.schedule(state.umo, at)
        return AfterSend.PLANNED_QUIET if moved else AfterSend.PLANNED

    def _journal_next(
        self, state: SessionState, after: AfterSend, settings: SessionSettings
    ) -> None:
        if after == AfterSend.CAPPED:
            self.journal(
                state.umo,
                JournalKind.CAPPED,
                f"{state.unanswered} message(s) unanswered: waiting for a reply",
            )
            log_capped(state, settings.schedule.max_unanswered_times)
        elif after in (AfterSend.PLANNED, AfterSend.PLANNED_QUIET) and state.next_at is not None:
            if after == AfterSend.PLANNED_QUIET:
                self.journal(
                    state.umo,
                    JournalKind.QUIET_SHIFTED,
                    "moved out of quiet hours",
                    at=state.next_at,
                )
            detail = {**self._habit_detail.pop(state.umo, {}), **self._moment_detail(state.umo)}
            self.journal(
                state.umo, JournalKind.PLANNED, state.next_reason, at=state.next_at, **detail
            )

    def _prompt(self, state: SessionState, settings: SessionSettings) -> str:
        now = self.clock()
        last = state.last_user_at or state.last_activity_at
        talk = describe_talk(state, settings, self.timezone)  # what the chat said lately
        values = {
            "unanswered_count": state.unanswered,
            "current_time": format_local_time(now, self.timezone),
            "time_since_last_chat": describe_elapsed(now - last if last else None),
            "session_name": state.name or session_id_of(state.umo),
            "occasion": promise[1].sentence if (promise := self._promises.get(state.umo)) else "",
            "recent_proactive": describe_recent_sent(state, now),
            "group_context": talk,
        }
        moment = self._moment_underway(state)
        own = moment_prompt(moment.prompt, state.kind) if moment is not None else ""
        template = own or settings.proactive_prompt
        prompt = fill_prompt(template, values)
        return with_talk_block(prompt, template, talk)
