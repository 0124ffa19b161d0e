"""What the model reads besides the conversation: the chat's recent messages and the
bot's own last proactive messages.

AstrBot's conversation history holds only what was said *to* the bot. In a group the
model should also see what the group said meanwhile, so the plugin keeps, per served
session whose ``context_settings.source_mode`` asks for it, the last ``TALK_LINES``
messages it observed (sender name and text, both cut short) in ``SessionState.talk``;
the bot's own replies and proactive messages are lines too, without a name. And it
keeps the last ``SENT_KEPT`` proactive messages of every session in
``SessionState.recent_sent``, so the model does not repeat itself.

Guarantees: a line is added in O(1) (a deque append), with no I/O: the store
persists the session row in its next batch (copying the lines on the loop first). Nothing here logs a line's text. The lines are cleared when the session stops
being served (``forget_talk``) and go with the session's row.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import datetime, tzinfo

from .base import EngineBase
from .models import SessionSettings, SessionState
from .prompt_template import describe_elapsed

TALK_LINES = 30  # recent messages kept per session
TALK_TEXT_CHARS = 200  # of each message: bounds a session's lines to a few kilobytes
NAME_CHARS = 32
SENT_KEPT = 3  # recent proactive messages the model is shown
SENT_TEXT_CHARS = 300
BOT_NAME = "你"  # how the bot's own lines read in the prompt (the prompts are Chinese)
# Added to a prompt that has no {{group_context}} when there are lines to show, so
# source_mode keeps its meaning with a prompt written before the placeholder existed.
TALK_HEADING = "[最近的聊天记录（不一定是对你说的）/ Recent messages in this chat]"
_GROUP_CONTEXT_RE = re.compile(r"\{\{[ \t]{0,16}group_context[ \t]{0,16}\}\}")


class ChatContext(EngineBase):
    def note_talk(self, umo: str, name: str | None, text: str) -> None:
        """Someone (not the bot) wrote ``text`` in this session: kept for the model when
        the session is served and its source_mode reads recent messages. O(1), no I/O."""
        state = self.sessions.get(umo)
        if state is None or not text:
            return
        settings = self.settings_for(umo, state.kind)
        if not settings.keeps_recent_talk or not self._served(umo, state.kind, settings):
            return
        add_talk(state, self.clock(), (name or "?")[:NAME_CHARS], text)
        self.store.put_session(state)  # saved in the store's next batch

    def note_bot_talk(self, umo: str, text: str) -> None:
        """The bot replied ``text`` in this session (AstrBot's pipeline)."""
        state = self.sessions.get(umo)
        if state is None or not text:
            return
        settings = self.settings_for(umo, state.kind)
        if settings.keeps_recent_talk and self._served(umo, state.kind, settings):
            add_talk(state, self.clock(), None, text)
            self.store.put_session(state)


def add_talk(state: SessionState, at: float, name: str | None, text: str) -> None:
    """Append one line to the session's recent messages, dropping the oldest past
    ``TALK_LINES``: a deque append (the tuple read back from the store becomes a deque
    at its first new line)."""
    talk = state.talk
    if type(talk) is not deque:
        talk = state.talk = deque(talk, maxlen=TALK_LINES)
    talk.append((at, name, text[:TALK_TEXT_CHARS]))


def remember_sent(state: SessionState, settings: SessionSettings, text: str, now: float) -> None:
    """A proactive message went out: kept for ``{{recent_proactive}}``, and as the bot's
    line in the recent messages when the session keeps them."""
    state.recent_sent = (*state.recent_sent[-(SENT_KEPT - 1) :], (now, text[:SENT_TEXT_CHARS]))
    if settings.keeps_recent_talk:
        add_talk(state, now, None, text)


def forget_talk(state: SessionState) -> bool:
    """Drop the session's recent messages (it is no longer served); True if any."""
    had = bool(state.talk)
    state.talk = ()
    return had


def describe_recent_sent(state: SessionState, now: float) -> str:
    """``{{recent_proactive}}``: one line per recent proactive message, oldest first,
    with how long ago; "" when none."""
    lines = []
    for at, text in state.recent_sent:
        ago = describe_elapsed(max(0.0, now - at))
        when = ago if ago == "刚刚" else f"{ago}前"
        lines.append(f"- （{when}）{_one_line(text)}")
    return "\n".join(lines)


def describe_talk(state: SessionState, settings: SessionSettings, tz: tzinfo | None) -> str:
    """``{{group_context}}``: the session's recent messages, one per line with the local
    time and the sender; "" when none or when its source_mode does not read them."""
    if not settings.keeps_recent_talk:
        return ""
    lines = []
    for at, name, text in state.talk:
        when = datetime.fromtimestamp(at, tz).strftime("%m-%d %H:%M")
        lines.append(f"[{when}] {name if name is not None else BOT_NAME}：{_one_line(text)}")
    return "\n".join(lines)


def with_talk_block(prompt: str, template: str, talk: str) -> str:
    """The filled prompt, with the recent messages added at the end when the template
    has no ``{{group_context}}`` of its own."""
    if not talk or _GROUP_CONTEXT_RE.search(template):
        return prompt
    return f"{prompt}\n\n{TALK_HEADING}\n{talk}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
