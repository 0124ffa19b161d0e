"""The engine's data: checked settings, per-session state, journal entries.

Settings are immutable and built once per config change (``engine_config``); the
per-message path only reads them. ``SessionState`` is the one mutable record per
session, owned by the engine and persisted by the ``SessionStore``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .moment_calendar import Moment
from .quiet_hours import QuietHours

TalkLine = tuple[float, str | None, str]  # (time, sender name or None for the bot, text)


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    min_interval_minutes: int = 30
    max_interval_minutes: int = 900
    quiet_hours: QuietHours = QuietHours(60, 420)  # noqa: RUF009 (frozen: safe to share)
    max_unanswered_times: int = 3  # 0 = no limit


@dataclass(frozen=True, slots=True)
class SegmentSettings:
    enable: bool = False
    words_count_threshold: int = 150  # longer texts are sent in one piece
    split_mode: str = "regex"  # "regex" | "words"
    regex: str = r".*?[。？！~…\n]+|.+$"
    split_words: tuple[str, ...] = ("。", "？", "！", "~", "…")
    interval_method: str = "random"  # "random" | "log"
    interval_min: float = 1.5
    interval_max: float = 3.5
    log_base: float = 1.8


@dataclass(frozen=True, slots=True)
class TtsSettings:
    enable_tts: bool = True  # used only when the session has a TTS provider
    always_send_text: bool = True


@dataclass(frozen=True, slots=True)
class PersonaSettings:
    mode: str = "off"  # "off" (the session's own) | "select" | "custom"
    persona_id: str = ""
    custom_prompt: str = ""


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """Which chat models write the message. Defaults: the session's own, no fallback."""

    provider_id: str = ""  # empty: the session's own chat model
    fallback_mode: str = "off"  # "off" | "astrbot" (AstrBot's fallback list) | "custom"
    fallback_provider_ids: tuple[str, ...] = ()  # "custom": tried in this order


@dataclass(frozen=True, slots=True)
class ToolSettings:
    """Tools the model may call while writing. Default: none (one plain model call)."""

    mode: str = "off"  # "off" | "whitelist" | "all" (all registered minus the blacklist)
    whitelist: tuple[str, ...] = ()
    blacklist: tuple[str, ...] = ()
    max_steps: int = 5  # model turns of the tool loop

    @property
    def enabled(self) -> bool:
        return self.mode != "off"


@dataclass(frozen=True, slots=True)
class PictureSettings:
    """A picture with the message, from an image tool. Default: none."""

    mode: str = "off"  # "off" | "auto" (the model decides) | "always"
    include_tools: tuple[str, ...] = ()  # image tools detection missed
    exclude_tools: tuple[str, ...] = ()  # tools detection took for image tools wrongly

    @property
    def enabled(self) -> bool:
        return self.mode != "off"


@dataclass(frozen=True, slots=True)
class MomentSettings:
    """Daily moments (moment_calendar.py). Default: off, none."""

    enable: bool = False
    moments: tuple[Moment, ...] = ()  # sorted by time of day, one per time

    @property
    def active(self) -> bool:
        return self.enable and bool(self.moments)


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """A model's second opinion on time cues the parser cannot see. Default: off."""

    provider_id: str = ""  # empty: off
    timeout_seconds: int = 15
    max_turns: int = 6  # the last turns of the conversation it reads

    @property
    def enabled(self) -> bool:
        return bool(self.provider_id)


@dataclass(frozen=True, slots=True)
class SessionSettings:
    kind: str  # "friend" | "group"
    enable: bool = True
    proactive_prompt: str = ""
    schedule: ScheduleSettings = ScheduleSettings()
    auto_trigger_enabled: bool = False
    auto_trigger_after_minutes: int = 5
    history_turns: int = 10
    persona: PersonaSettings = PersonaSettings()
    segmented: SegmentSettings = SegmentSettings()
    tts: TtsSettings = TtsSettings()
    model: ModelSettings = ModelSettings()
    tools: ToolSettings = ToolSettings()
    pictures: PictureSettings = PictureSettings()
    group_idle_trigger_minutes: int = 30  # groups only
    time_cues: bool = True  # a time the user names moves the next plan (cues/)
    # What the model reads of the chat (the 1.2.x key context_settings.source_mode):
    # "conversation_history" (AstrBot's conversation), "platform_message_history" (the
    # recent messages the plugin saw, chat_context.py) or "hybrid" (both).
    source_mode: str = "conversation_history"
    moments: MomentSettings = MomentSettings()  # daily moments (moments.py)
    analysis: AnalysisSettings = AnalysisSettings()
    learn_habits: bool = True  # the draw is weighted by learned habits (habit_learning.py)

    @property
    def conversation_turns(self) -> int:
        """The conversation turns given to the model (none in platform-history mode)."""
        return 0 if self.source_mode == "platform_message_history" else self.history_turns

    @property
    def keeps_recent_talk(self) -> bool:
        """Whether the chat's recent messages are kept for the model (chat_context.py)."""
        return self.source_mode != "conversation_history"


@dataclass(frozen=True, slots=True)
class EngineSettings:
    llm_timeout_seconds: int = 60
    missed_window_minutes: int = 60  # a plan missed by less is sent soon after start
    journal_keep_days: int = 30
    journal_max_entries: int = 50_000
    analysis_calls_per_hour: int = 60  # the analysis model's hard budget, all sessions


@dataclass(frozen=True, slots=True)
class SessionList:
    """``session_list`` of one kind: full UMOs, plus bare ids (the 1.x style)."""

    umos: frozenset[str] = frozenset()
    bare_ids: frozenset[str] = frozenset()

    def contains(self, umo: str, session_id: str) -> bool:
        return umo in self.umos or session_id in self.bare_ids

    def __len__(self) -> int:
        return len(self.umos) + len(self.bare_ids)


@dataclass(frozen=True, slots=True)
class PluginSettings:
    """Everything the engine needs from the plugin config, checked."""

    friend: SessionSettings = SessionSettings(kind="friend")
    group: SessionSettings = SessionSettings(kind="group", enable=False)
    friend_sessions: SessionList = SessionList()
    group_sessions: SessionList = SessionList()
    engine: EngineSettings = EngineSettings()
    # The normalized config groups as plain dicts (schema shape), for the admin API
    # and for merging per-session overrides.
    friend_dict: dict[str, Any] = field(default_factory=dict)
    group_dict: dict[str, Any] = field(default_factory=dict)
    engine_dict: dict[str, Any] = field(default_factory=dict)


class Phase(StrEnum):
    """Where a session's plan stands. The values are stored in SQLite and shown in
    JSON and pages; a StrEnum compares equal to them, so plain strings read back from
    the store work everywhere."""

    IDLE = "idle"  # nothing planned (never seen, disabled, paused or capped)
    SILENCE = "silence"  # group: waiting for the group to be quiet long enough
    PLANNED = "planned"  # a message is planned for next_at
    CAPPED = "capped"  # max_unanswered_times reached: waits for a user message


# The phases that have a timer in the scheduler (next_at is set).
TIMED_PHASES: tuple[Phase, ...] = (Phase.PLANNED, Phase.SILENCE)


@dataclass(slots=True)
class SessionState:
    umo: str
    kind: str
    name: str = ""
    last_user_at: float | None = None
    last_bot_at: float | None = None
    last_activity_at: float | None = None  # any message (user, bot, proactive)
    unanswered: int = 0
    next_at: float | None = None
    phase: str = Phase.IDLE  # a Phase value (plain text when read back from the store)
    next_reason: str = ""
    paused: bool = False
    created_at: float = 0.0
    sent_total: int = 0
    # Bounded, newest last (chat_context.py): what the chat said lately, as
    # (time, sender name or None for the bot, text): a tuple until the first new line,
    # then a deque with a maxlen (O(1) appends; the store copies it at flush time).
    talk: tuple[TalkLine, ...] | deque[TalkLine] = ()
    # The bot's last proactive messages as (time, text).
    recent_sent: tuple[tuple[float, str], ...] = ()
    # The daily moments fired on one local day: "<day ordinal>|08:00,22:30" (moments.py).
    moments_fired: str = ""


@dataclass(slots=True)
class JournalEntry:
    """One line of the journal. Not frozen: the store sets ``id`` once, in place (an
    entry is made on the message path, where a copy per message would cost)."""

    at: float
    umo: str
    kind: str  # a JournalKind value
    reason: str  # one readable sentence (English; the panel translates by kind)
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # set once stored


class JournalKind(StrEnum):
    """What a journal entry records. The values are stored and translated by the panel
    (``jkind.<value>``); a StrEnum compares equal to them."""

    PLANNED = "planned"  # a message was planned (detail: at, why)
    SILENCE_STARTED = "silence_started"  # group: waiting for silence (detail: until)
    QUIET_SHIFTED = "quiet_shifted"  # a planned time fell in quiet hours and was moved
    FIRED = "fired"  # the time came, writing started
    SENT = "sent"  # delivered (detail: text, parts, tts)
    SEND_FAILED = "send_failed"  # the platform refused or raised
    PLATFORM_SKIPPED = "platform_skipped"  # no platform, or it cannot send proactive messages
    NO_PROVIDER = "no_provider"  # no chat model for this session
    LLM_FAILED = "llm_failed"  # the model timed out or raised (after the retry)
    LLM_EMPTY = "llm_empty"  # the model answered nothing usable
    CANCELLED = "cancelled"  # a user spoke while the message was being written, or stopped
    DECLINED = "declined"  # the model chose silence ([SKIP]): nothing sent, not unanswered
    CAPPED = "capped"  # max unanswered messages reached: stopped until the user speaks
    ANSWERED = "answered"  # the user spoke after proactive messages
    RESTORED = "restored"  # plan restored after a restart or reload
    MISSED = "missed"  # a plan missed while AstrBot was down: sent soon, or re-planned
    AUTO_TRIGGER = "auto_trigger"  # planned by auto-trigger after start
    MANUAL = "manual"  # an admin asked: trigger, reschedule, pause, resume, on, off
    OVERRIDE = "override"  # per-session settings changed
    DISABLED = "disabled"  # the session is no longer served
    RETRY = "retry"  # re-planned with back-off after a failure
    MOMENT_SKIPPED = "moment_skipped"  # a daily moment's time came inside quiet hours
    DRAFT = "draft"  # a message written on request and not sent (preview.py)


JOURNAL_KINDS: frozenset[str] = frozenset(kind.value for kind in JournalKind)
