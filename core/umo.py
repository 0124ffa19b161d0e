"""Unified message origins (UMO): ``platform_id:MessageType:session_id``.

The session id may itself contain colons (some platforms put one in), so only the
first two separators count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FRIEND = "friend"
GROUP = "group"
SessionKind = Literal["friend", "group"]

_KIND_BY_TYPE = {"FriendMessage": FRIEND, "GroupMessage": GROUP}
MAX_UMO_LENGTH = 512
_CONTROL_RE = re.compile(r"[\x00-\x1f]")


@dataclass(frozen=True, slots=True)
class Umo:
    platform_id: str
    message_type: str
    session_id: str

    @property
    def kind(self) -> SessionKind:
        return _KIND_BY_TYPE[self.message_type]  # type: ignore[return-value]

    def __str__(self) -> str:
        return f"{self.platform_id}:{self.message_type}:{self.session_id}"


def parse_umo(text: object) -> Umo:
    """Parse a UMO of a private chat or a group; raise ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError("a session id must be text like platform:FriendMessage:12345")
    if len(text) > MAX_UMO_LENGTH:
        raise ValueError(f"a session id is at most {MAX_UMO_LENGTH} characters")
    if _CONTROL_RE.search(text):
        raise ValueError("a session id cannot contain control characters")
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(part.strip() for part in parts):
        raise ValueError(f"{text!r} is not a session id like platform:FriendMessage:12345")
    platform_id, message_type, session_id = parts
    if message_type not in _KIND_BY_TYPE:
        raise ValueError(
            f"{text!r}: the message type must be FriendMessage or GroupMessage, "
            f"not {message_type!r}"
        )
    return Umo(platform_id, message_type, session_id)


def kind_of(umo: str) -> SessionKind | None:
    """``friend``/``group`` for a UMO, None when it is neither (cheap, no exceptions)."""
    if not isinstance(umo, str):
        return None
    parts = umo.split(":", 2)
    if len(parts) != 3:
        return None
    return _KIND_BY_TYPE.get(parts[1])  # type: ignore[return-value]


def platform_of(umo: str) -> str:
    """The platform id a UMO names (cheap, no checks: the text before the first colon)."""
    return umo.split(":", 1)[0]


def session_id_of(umo: str) -> str:
    """The session id a checked UMO names (``kind_of`` or ``parse_umo`` said it is one):
    everything after the second colon, colons included."""
    return umo.split(":", 2)[2]


SHORT_ID_CHARS = 12
WEBCHAT_PREFIX = "webchat!"  # AstrBot's webchat: session id "webchat!<user>!<conversation id>"


def short_id(umo: str) -> str:
    """A short, readable stand-in for a session without a name (never empty): the session
    id, cut to ``SHORT_ID_CHARS``; for AstrBot's webchat, whose session ids all begin with
    the dashboard user's name, the start of the conversation id instead."""
    parts = umo.split(":", 2)
    session = parts[2] if len(parts) == 3 else umo
    if session.startswith(WEBCHAT_PREFIX):
        session = session.rsplit("!", 1)[-1][:8]
    if len(session) > SHORT_ID_CHARS:
        session = session[:SHORT_ID_CHARS] + "…"
    return session or umo


def webchat_name(session_id: str, user: str) -> str | None:
    """A name for an AstrBot webchat conversation, which the platform names after the
    dashboard user (the same for every conversation): the user and the start of the
    conversation id, so two conversations can be told apart. None for other platforms."""
    if not session_id.startswith(WEBCHAT_PREFIX):
        return None
    return f"{user or 'webchat'} · {session_id.rsplit('!', 1)[-1][:8]}"
