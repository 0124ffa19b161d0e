"""The proactive prompt's placeholders: ``{{ name }}`` filled with this session's facts.

Prompts are user text full of braces (JSON examples, kaomoji), so ``str.format`` is
never used: only the known ``{{ name }}`` forms are replaced, everything else stays.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, tzinfo

PLACEHOLDERS = (
    "unanswered_count",
    "current_time",
    "time_since_last_chat",
    "session_name",
    "occasion",  # what the bot promised for this time ("" when nothing): promises.py
    "recent_proactive",  # the bot's last proactive messages, how long ago: chat_context.py
    "group_context",  # what the chat said lately, everyone (source_mode): chat_context.py
)

# Bounded name and spacing: one left-to-right scan, no costly backtracking.
_PLACEHOLDER_RE = re.compile(r"\{\{[ \t]{0,16}([A-Za-z_][A-Za-z0-9_]{0,63})[ \t]{0,16}\}\}")
_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

# The defaults of friend_settings / group_settings.proactive_prompt (engine_config).
DEFAULT_FRIEND_PROMPT = """[模拟指令：主动发起私聊]
这不是对方发来的消息，而是一条模拟的指令：你们已经有一段时间没聊天了，现在由你主动找对方说话。

[当前情况]
- 聊天对象：{{session_name}}
- 当前时间：{{current_time}}
- 距离上次聊天：{{time_since_last_chat}}
- 你之前主动发消息、对方还没回复的次数：{{unanswered_count}}
- 你之前答应过、现在到时间的事（空着表示没有；有就自然地兑现它）：{{occasion}}

[你最近主动发过的消息]（空着表示没有；不要重复这些话题和说法）
{{recent_proactive}}

[最近的聊天流水]（“你”是你自己；空着表示没有记录，看聊天记录就好）
{{group_context}}

[怎么说]
1. 完全用你人格设定中的身份、性格和口吻说话，像平时聊天一样自然。
2. 先看看聊天记录：上次的话题没聊完就接着聊；已经聊完了，就关心一下对方最近在做什么，或者聊一个轻松的新话题。
3. 可以结合当前时间（清晨、深夜、周末……）让开场更自然。
4. 如果未回复次数大于 0，语气可以带一点点想念或小小的失落，但不要抱怨，也不要连连追问。
5. 只发一条简短的消息，就像真人随手发的一句话。

[不要]
- 不要提到“模拟”“指令”“系统”“主动消息”或这些规则本身。
- 不要解释你为什么发这条消息，不要加前缀、引号、旁白或动作说明。

[也可以不发]
如果从聊天记录看现在不适合开口（比如刚说过在忙、在开会、去睡了，或者话题刚刚自然结束），就只回复 [SKIP]，这次什么都不会发出去。"""

DEFAULT_GROUP_PROMPT = """[模拟指令：主动在群里开口]
这不是群友发来的消息，而是一条模拟的指令：这个群已经安静了一段时间，现在由你主动说点什么，让大家重新聊起来。

[当前情况]
- 群聊：{{session_name}}
- 当前时间：{{current_time}}
- 距离群里上次有人说话：{{time_since_last_chat}}
- 你之前主动发言、还没有人接话的次数：{{unanswered_count}}
- 你之前答应过、现在到时间的事（空着表示没有；有就自然地兑现它）：{{occasion}}

[你最近主动发过的消息]（空着表示没有；不要重复这些话题和说法）
{{recent_proactive}}

[群里最近的聊天]（大家最近在聊什么，不一定是对你说的；“你”是你自己；空着表示没有记录）
{{group_context}}

[怎么说]
1. 完全用你人格设定中的身份、性格和口吻说话，像一个普通群友那样自然。
2. 先看看最近的聊天记录：有没聊完的有趣话题就接着聊；没有的话，抛出一个大家都能接的轻松话题或问题。
3. 面向群里所有人，不要只对某一个人说话，不要 @ 任何人。
4. 如果还没有人接话的次数大于 0，就更克制一些，换个话题，别显得在刷屏。
5. 只发一条简短的消息。

[不要]
- 不要提到“模拟”“指令”“系统”“主动消息”或这些规则本身。
- 不要解释你为什么发这条消息，不要加前缀、引号、旁白或动作说明。

[也可以不发]
如果从聊天记录看现在不适合开口（比如刚说过在忙、在开会、去睡了，或者话题刚刚自然结束），就只回复 [SKIP]，这次什么都不会发出去。"""


def fill_prompt(template: str, values: Mapping[str, object]) -> str:
    """Replace ``{{ name }}`` for the names in ``PLACEHOLDERS`` that ``values`` holds.

    Unknown names and lone braces are left as written; inserted values are not
    scanned again, so a value containing ``{{...}}`` stays literal.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in PLACEHOLDERS and name in values:
            return str(values[name])
        return match.group(0)

    return _PLACEHOLDER_RE.sub(replace, template)


def describe_elapsed(seconds: float | None) -> str:
    """A short Chinese duration for ``{{time_since_last_chat}}``, e.g. ``3 小时 20 分钟``."""
    if seconds is None or math.isnan(seconds) or math.isinf(seconds):
        return "很久"
    if seconds < 60:
        return "刚刚"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} 分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} 小时" if minutes == 0 else f"{hours} 小时 {minutes} 分钟"
    days, hours = divmod(hours, 24)
    return f"{days} 天" if hours == 0 else f"{days} 天 {hours} 小时"


def format_local_time(ts: float, tz: tzinfo | None) -> str:
    """``2026-11-28 14:05 星期六`` in ``tz`` (the machine's local zone when None)."""
    moment = datetime.fromtimestamp(ts, tz)
    return f"{moment:%Y-%m-%d %H:%M} {_WEEKDAYS[moment.weekday()]}"


# Built-in prompts a daily moment may name instead of writing one ("08:00 | * | good_morning"):
# the config stays short and in no language; the text is the kind's own.
BUILTIN_MOMENT_PROMPTS: dict[tuple[str, str], str] = {
    (
        "friend",
        "good_morning",
    ): "[模拟指令：早安] 现在是 {{current_time}}。用你人格设定的口吻给 {{session_name}} "
    "发一句简短自然的早安，可以顺口提到今天是星期几；不要提到指令或规则本身。不适合开口就只回复 [SKIP]。",
    (
        "friend",
        "good_night",
    ): "[模拟指令：晚安] 现在是 {{current_time}}。用你人格设定的口吻跟 {{session_name}} "
    "道一声晚安，简短温柔，不要追问；不要提到指令或规则本身。不适合开口就只回复 [SKIP]。",
    (
        "group",
        "good_morning",
    ): "[模拟指令：群里早安] 现在是 {{current_time}}。用你人格设定的口吻跟群里的大家道早安，"
    "一句话，轻松自然，不要 @ 任何人；不要提到指令或规则本身。不适合开口就只回复 [SKIP]。",
    (
        "group",
        "good_night",
    ): "[模拟指令：群里晚安] 现在是 {{current_time}}。用你人格设定的口吻跟群里的大家道晚安，"
    "一句话，简短温柔，不要 @ 任何人；不要提到指令或规则本身。不适合开口就只回复 [SKIP]。",
}


def moment_prompt(prompt: str, kind: str) -> str:
    """A moment's prompt: a built-in one it names (``good_morning``, ``good_night``), or its own."""
    return BUILTIN_MOMENT_PROMPTS.get((kind, prompt.strip()), prompt)
