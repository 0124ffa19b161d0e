"""Seeing a session's next message before it happens: the request the model would get
now (``preview``) and one message written without sending it (``draft``).

Both build the request exactly as a delivery does: the prompt through
``Deliveries._prompt`` and the rest through the composer's ``prepare``/``compose``,
which share one builder (core/adapters/composer.py). So whatever a delivery adds to
the request shows in the preview with no change here.

A draft changes nothing but the journal (kind ``draft``): no unanswered count, no
plan, no history. One draft at a time per session, bounded by the composer's own
time limit plus a margin; ``ProactiveEngine.stop`` cancels drafts being written.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..umo import parse_umo
from .delivery import DECLINE_MARKER, Deliveries
from .errors import EngineStopped, InvalidRequest, SessionBusy, SessionNotFound
from .models import JournalKind, SessionState
from .ports import ComposeError, PreparedRequest

DRAFT_MARGIN_SECONDS = 5.0  # past the composer's own limit, a draft is given up
DRAFT_STOPPED = "draft cancelled: the plugin stopped while it was being written"


class Previews(Deliveries):
    def _known(self, umo: str) -> SessionState:
        try:
            parse_umo(umo)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from exc
        state = self.sessions.get(umo)
        if state is None:
            raise SessionNotFound(f"no session {umo!r} is known")
        return state

    async def preview(self, umo: str) -> dict[str, Any]:
        """The messages the model would get for this session right now (nothing is
        written, sent or journaled). A session without a usable model still shows its
        prompt, with the problem."""
        state = self._known(umo)
        settings = self.settings_for(umo, state.kind)
        prompt = self._prompt(state, settings)
        view: dict[str, Any] = {"umo": umo, "at": self.clock(), "prompt": prompt}
        try:
            prepared = await self.composer.prepare(umo, settings, prompt)
        except ComposeError as exc:
            user = {"role": "user", "content": prompt}
            problem = {"kind": exc.kind, "reason": exc.reason, "advice": exc.advice}
            return {**view, "messages": [user], "problem": problem, **_no_request()}
        return {**view, **preview_of(prepared), "problem": None}

    async def draft(self, umo: str) -> dict[str, Any]:
        """Write one message as a delivery would, without sending it; journaled as a
        draft. Raises SessionBusy while this session's previous draft is underway."""
        if not self.running:
            raise EngineStopped("the engine is not running")
        state = self._known(umo)
        if umo in self._drafts:
            raise SessionBusy("a draft for this session is already being written")
        settings = self.settings_for(umo, state.kind)
        task = asyncio.ensure_future(
            self.composer.compose(umo, settings, self._prompt(state, settings))
        )
        self._drafts[umo] = task
        try:
            result = await asyncio.wait_for(task, self._draft_limit())
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.running or (current is not None and current.cancelling()):
                raise  # the caller went away: not ours to report
            self.journal(umo, JournalKind.DRAFT, DRAFT_STOPPED)
            raise EngineStopped(DRAFT_STOPPED) from None
        except Exception as exc:
            return self._draft_failed(umo, exc)
        finally:
            if self._drafts.get(umo) is task:
                del self._drafts[umo]
        declined = DECLINE_MARKER in result.text
        model = str(result.detail.get("model") or "")
        self.journal(
            umo,
            JournalKind.DRAFT,
            "draft: the model chose not to write now" if declined else "draft written, not sent",
            text=result.text[:2000],
            provider=result.provider_id,
            persona=result.persona_id,
            model=model,
        )
        return {
            "umo": umo,
            "ok": True,
            "text": result.text,
            "declined": declined,
            "provider": result.provider_id,
            "model": model,
            "persona": result.persona_id,
            "pictures": len(result.pictures),
            "reason": None,
            "advice": None,
        }

    def _draft_limit(self) -> float:
        """The composer's own bound (each attempt, retries included) plus a margin."""
        seconds = float(getattr(self.composer, "timeout_seconds", 0) or 0)
        seconds = seconds or float(self.settings.engine.llm_timeout_seconds)
        retries = int(getattr(self.composer, "retries", 1) or 0)
        return seconds * (retries + 1) + DRAFT_MARGIN_SECONDS

    def _draft_failed(self, umo: str, exc: Exception) -> dict[str, Any]:
        if isinstance(exc, ComposeError):
            reason, advice, provider = exc.reason, exc.advice, exc.provider_id
        elif isinstance(exc, TimeoutError):
            reason, advice, provider = "the draft took too long", "", ""
        else:
            reason, advice, provider = f"{type(exc).__name__}: {exc}"[:300], "", ""
        self.journal(umo, JournalKind.DRAFT, f"no draft: {reason}", provider=provider)
        return {
            "umo": umo,
            "ok": False,
            "text": "",
            "declined": False,
            "provider": provider,
            "model": "",
            "persona": None,
            "pictures": 0,
            "reason": reason,
            "advice": advice or None,
        }

    def _cancel_drafts(self) -> None:
        for task in self._drafts.values():
            task.cancel()


def preview_of(prepared: PreparedRequest) -> dict[str, Any]:
    """The request as the API shows it: the messages in the order the model reads them."""
    messages: list[dict[str, Any]] = []
    if prepared.system_prompt:
        messages.append({"role": "system", "content": prepared.system_prompt})
    messages += [dict(message) for message in prepared.contexts]
    messages.append({"role": "user", "content": prepared.prompt})
    return {
        "messages": messages,
        "providers": list(prepared.providers),
        "model": prepared.model,
        "persona": prepared.persona_id,
        "conversation_id": prepared.conversation_id,
        "tools": list(prepared.tools),
        "missing": list(prepared.missing),
    }


def _no_request() -> dict[str, Any]:
    return {
        "providers": [],
        "model": "",
        "persona": None,
        "conversation_id": None,
        "tools": [],
        "missing": [],
    }
