"""Drive AstrBot's built-in webchat platform (the dashboard's chat page) from outside.

Used with an ``AstrBotProcess`` that is logged in. What the dashboard does (astrbot
4.29.3: dashboard/api/chat.py, dashboard/api/open_api.py, services/chat_service.py):

- ``GET /api/v1/chat/sessions/new`` -> ``data: {"session_id": <uuid4>, "platform_id":
  "webchat"}`` (a PlatformSession row, creator = the dashboard user).
- ``POST /api/v1/chat`` ``{"message": "hello", "session_id": <id>, "enable_streaming":
  bool}`` answers ``text/event-stream``: ``data: {json}`` events, ``: heartbeat`` comments
  every idle second. Events in order: ``session_id``, ``user_message_saved``,
  ``run_started``, then the bot's output: ``plain`` (``data`` = text; with streaming one
  per chunk, ``streaming: true``), ``agent_stats``, ``complete`` (streaming only: the
  whole text), ``message_saved``, and finally ``end``. A refused request answers JSON
  ``{"status": "error", ...}`` instead.
- ``GET /api/v1/chat/sessions/<id>`` -> ``data.history``: PlatformMessageHistory rows
  ``{"id", "sender_id", "sender_name", "content": {"type": "user"|"bot", "message":
  [{"type": "plain", "text": ...}, ...]}, "created_at", ...}``. Proactive messages that
  AstrBot sends to the session while no chat request is streaming are stored here too
  (WebChatAdapter._save_proactive_message, sender_id ``bot``).
- ``PATCH /api/v1/chat/sessions/<id>`` ``{"display_name": ...}``.

The UMO of a webchat session (WebChatAdapter.convert_message + chat_service.
build_webchat_unified_msg_origin): ``webchat:FriendMessage:webchat!<user>!<session_id>``.
``context.send_message(umo, chain)`` reaches the same session (the adapter keeps the part
after the last ``!``).

A session without a display name makes AstrBot fire a second, concurrent LLM request to
generate a title (astr_main_agent._handle_webchat) on its first message; ``create()``
names the session by default so that a fake LLM sees one request per message.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from .process import USERNAME, DashboardError
from .waiting import WaitTimeout, wait_for

if TYPE_CHECKING:
    from .fake_llm import RecordedRequest
    from .process import AstrBotProcess

PLATFORM_ID = "webchat"
DEFAULT_TITLE = "harness chat"
# chain_type values that are not the answer itself
_NOT_ANSWER = {"reasoning", "tool_call", "tool_call_result", "agent_stats"}
TITLE_PROMPT_RE = re.compile(r"conversation title generator", re.IGNORECASE)


def webchat_umo(session_id: str, username: str = USERNAME, platform_id: str = PLATFORM_ID) -> str:
    """The unified_msg_origin AstrBot uses for a webchat session."""
    return f"{platform_id}:FriendMessage:{platform_id}!{username}!{session_id}"


def is_title_request(req: RecordedRequest) -> bool:
    """True for AstrBot's webchat title-generation request (not the chat itself)."""
    return any(TITLE_PROMPT_RE.search(t) for t in req.contents("system"))


@dataclass
class ChatReply:
    """What one ``POST /api/v1/chat`` streamed back."""

    session_id: str
    text: str  # the bot's answer as the chat page shows it
    events: list[dict] = field(default_factory=list)  # every ``data:`` payload, in order
    elapsed: float = 0.0

    def of_type(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("type") == kind]

    @property
    def ended(self) -> bool:
        return bool(self.of_type("end"))

    @property
    def errors(self) -> list[dict]:
        return self.of_type("error")

    @property
    def saved_ids(self) -> list[int]:
        """History row ids of the bot messages this run saved."""
        return [e["data"]["id"] for e in self.of_type("message_saved")]


@dataclass
class HistoryMessage:
    """One row of a webchat session's history, as the chat page lists it."""

    id: int
    role: str  # "user" or "bot" (content.type)
    sender_id: str
    text: str  # the plain parts joined
    created_at: str
    raw: dict

    @classmethod
    def from_row(cls, row: dict) -> HistoryMessage:
        content = row.get("content") or {}
        parts = content.get("message") if isinstance(content, dict) else None
        text = "".join(
            str(p.get("text", ""))
            for p in (parts or [])
            if isinstance(p, dict) and p.get("type") == "plain"
        )
        return cls(
            id=int(row.get("id") or 0),
            role=str(content.get("type", "")) if isinstance(content, dict) else "",
            sender_id=str(row.get("sender_id", "")),
            text=text,
            created_at=str(row.get("created_at", "")),
            raw=row,
        )


class WebChatSession:
    """One webchat conversation of the dashboard user, driven over the dashboard API.

    ``WebChatSession.create(proc)`` opens a new one; ``WebChatSession(proc, id)`` wraps
    an existing one.
    """

    def __init__(self, proc: AstrBotProcess, session_id: str, *, username: str = USERNAME):
        self.proc = proc
        self.session_id = session_id
        self.username = username

    @classmethod
    def create(
        cls, proc: AstrBotProcess, *, display_name: str | None = DEFAULT_TITLE
    ) -> WebChatSession:
        """A new session (``GET /chat/sessions/new``), named unless ``display_name``
        is None (then AstrBot asks the LLM for a title on the first message)."""
        data = proc.api("GET", "/chat/sessions/new", params={"platform_id": PLATFORM_ID})
        session = cls(proc, data["data"]["session_id"])
        if display_name is not None:
            session.rename(display_name)
        return session

    @property
    def umo(self) -> str:
        return webchat_umo(self.session_id, self.username)

    def rename(self, display_name: str) -> None:
        self.proc.api(
            "PATCH", f"/chat/sessions/{self.session_id}", json={"display_name": display_name}
        )

    # -- chat ----------------------------------------------------------------------
    def send(
        self,
        text: str,
        *,
        streaming: bool = False,
        timeout: float = 60.0,
        extra: dict[str, Any] | None = None,
    ) -> ChatReply:
        """Send ``text`` as the dashboard user; returns once the run ended.

        ``streaming`` is the chat page's streaming switch (``enable_streaming``): with
        it AstrBot asks the LLM for a streamed answer. Raises WaitTimeout when the run
        has not ended within ``timeout`` seconds, DashboardError when refused.
        """
        body: dict[str, Any] = {
            "message": text,
            "session_id": self.session_id,
            "enable_streaming": streaming,
        }
        body.update(extra or {})
        began = time.monotonic()
        deadline = began + timeout
        events: list[dict] = []
        url = f"{self.proc.base_url}/api/v1/chat"
        # Idle streams carry a heartbeat every second, so a 10 s read timeout only
        # fires on a dead server; the overall deadline is checked per line.
        limits = httpx.Timeout(10.0, read=min(10.0, timeout))
        with httpx.stream(
            "POST", url, json=body, headers=self.proc.auth_headers(), timeout=limits
        ) as r:
            ctype = r.headers.get("content-type", "")
            if r.status_code != 200 or not ctype.startswith("text/event-stream"):
                r.read()
                raise DashboardError(f"POST {url} -> HTTP {r.status_code}: {r.text[:500]}")
            for line in r.iter_lines():
                if line.startswith("data:"):
                    try:
                        event = json.loads(line[5:].strip())
                    except ValueError:
                        event = {"type": "unparsed", "data": line}
                    events.append(event)
                    if event.get("type") == "end":
                        break
                if time.monotonic() > deadline:
                    raise WaitTimeout(
                        f"webchat run not ended after {timeout}s; events: {events}\n"
                        + self.proc.log_tail(30)
                    )
        return ChatReply(
            session_id=self.session_id,
            text=reply_text(events),
            events=events,
            elapsed=time.monotonic() - began,
        )

    # -- history -------------------------------------------------------------------
    def info(self) -> dict:
        """``GET /chat/sessions/<id>``: ``session``, ``history``, ``is_running``, ..."""
        return self.proc.api(
            "GET", f"/chat/sessions/{self.session_id}", params={"page_size": 1000}
        )["data"]

    def history(self) -> list[HistoryMessage]:
        """The session's messages as the chat page lists them, oldest first."""
        rows = self.info()["history"]
        return sorted((HistoryMessage.from_row(r) for r in rows), key=lambda m: m.id)

    def wait_for_history(
        self,
        predicate: Callable[[list[HistoryMessage]], Any],
        timeout: float = 30.0,
        interval: float = 0.2,
    ) -> list[HistoryMessage]:
        """Poll the history until ``predicate(history)`` is truthy; returns the history."""
        last: list[list[HistoryMessage]] = [[]]

        def check() -> list[HistoryMessage] | None:
            last[0] = self.history()
            return last[0] if predicate(last[0]) else None

        return wait_for(
            check, timeout, interval, lambda: f"history: {[(m.role, m.text) for m in last[0]]}"
        )

    def wait_for_bot_message(
        self, pattern: str | re.Pattern, timeout: float = 30.0, *, after_id: int = 0
    ) -> HistoryMessage:
        """Wait for a bot row (id > ``after_id``) whose text matches ``pattern``."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern

        def match(history: list[HistoryMessage]) -> HistoryMessage | None:
            return next(
                (
                    m
                    for m in history
                    if m.role == "bot" and m.id > after_id and regex.search(m.text)
                ),
                None,
            )

        return match(self.wait_for_history(match, timeout))  # type: ignore[return-value]


def reply_text(events: list[dict]) -> str:
    """The answer text of a run: the ``complete`` event's (streaming), else the
    ``plain`` events' texts joined (reasoning and tool-call chains left out)."""
    complete = [e for e in events if e.get("type") == "complete"]
    if complete:
        return "".join(str(e.get("data") or "") for e in complete)
    return "".join(
        str(e.get("data") or "")
        for e in events
        if e.get("type") == "plain" and e.get("chain_type") not in _NOT_ANSWER
    )


# -- what the dashboard knows about sessions ------------------------------------------
def active_umos(proc: AstrBotProcess) -> list[str]:
    """``GET /sessions/active-umos``: every UMO AstrBot has seen a message from."""
    return list(proc.api("GET", "/sessions/active-umos")["data"]["umos"])


def conversation_umos(proc: AstrBotProcess) -> list[str]:
    """``GET /conversations``: the UMO (``user_id``) of each LLM conversation."""
    data = proc.api("GET", "/conversations", params={"page_size": 100})["data"]
    return [c["user_id"] for c in data["conversations"]]
