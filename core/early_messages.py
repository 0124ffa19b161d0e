"""Messages that arrive while the plugin is still starting, noted once the engine runs.

``initialize()`` returns before the engine runs (main.py: a save in AstrBot's dashboard
need not wait for our start), so for a moment after a save or at boot the handlers
see no engine. What they would have noted is kept here, at most ``MAX_EARLY`` entries
(the oldest dropped first), and handed to the engine in order when it has started.
Nothing here does I/O.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine.engine import ProactiveEngine

MAX_EARLY = 500  # a start takes about 0.2 s: far more than a busy host's messages in it

# (umo, session name, sender name, text) for a user's message; names None for the bot's
Early = tuple[str, str | None, str | None, str, bool]


class EarlyMessages:
    __slots__ = ("_entries", "dropped")

    def __init__(self) -> None:
        self._entries: deque[Early] = deque(maxlen=MAX_EARLY)
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def user(self, umo: str, name: str | None, sender: str | None, text: str) -> None:
        """Someone (not the bot) wrote ``text``."""
        self._add((umo, name, sender, text, False))

    def bot(self, umo: str, text: str = "") -> None:
        """The bot replied (``text`` when the reply's words are known)."""
        self._add((umo, None, None, text, True))

    def _add(self, entry: Early) -> None:
        if len(self._entries) == MAX_EARLY:
            self.dropped += 1
        self._entries.append(entry)

    def replay(self, engine: ProactiveEngine) -> int:
        """Note every kept message on ``engine``, oldest first; returns how many."""
        entries, self._entries = self._entries, deque(maxlen=MAX_EARLY)
        for umo, name, sender, text, from_bot in entries:
            if from_bot:
                engine.on_bot_message(umo, text)
                engine.note_bot_talk(umo, text)
            else:
                engine.note_user_message(umo, name, text)
                engine.note_talk(umo, sender, text)
        return len(entries)
