"""Texts of the help page. The long prose is in templates/_help_zh.html and _help_en.html;
here are the headings, the table of contents and one line per prompt placeholder
(``help.ph.<name>``, one for each name in core/prompt_template.PLACEHOLDERS: a test
checks)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "help.intro": "插件如何决定何时开口、提示词里可以用的占位符、聊天中的指令，以及常见问题。",
    "help.toc": "目录",
    "help.when": "它如何决定何时开口",
    "help.placeholders": "提示词占位符",
    "help.commands": "指令",
    "help.faq": "常见问题",
    "help.foresight": "提前看到：预览、草稿和接下来 7 天",
    "help.col.placeholder": "占位符",
    "help.col.meaning": "含义",
    "help.col.example": "示例",
    "help.col.command": "指令",
    "help.col.who": "谁可以用",
    "help.col.what": "作用",
    "help.ph.unanswered_count": "机器人连续发出、还没有人回复的主动消息条数（对方一说话就归零）。",
    "help.ph.current_time": "当前时间（按 AstrBot 配置的时区），带星期几。",
    "help.ph.time_since_last_chat": "距离对方（群里则是任何人）上次说话过了多久。",
    "help.ph.session_name": "私聊中是对方的昵称，群聊中是群名称；还不知道名字时是会话 ID。",
    "help.ph.session_name_example": "小明",
    "help.ph.occasion": "机器人之前答应过、现在到时间的事（它说过的那句话）；没有时为空。",
    "help.ph.occasion_example": "我十分钟后提醒你喝水。",
    "help.ph.recent_proactive": (
        "机器人在这个会话最近发出的几条主动消息（最多 3 条），每条带多久以前，"
        "让模型别重复自己；还没有时为空。"
    ),
    "help.ph.recent_proactive_example": "- （3 小时 20 分钟前）早呀，今天也要元气满满哦",
    "help.ph.group_context": (
        "这个会话最近的聊天记录（群里所有人说的话，不只是对机器人说的；最多 30 条，"
        "每条带时间和发言人，机器人自己的话记作“你”）。只在“聊天记录来源”为"
        "最近聊天流水或两者都用时有内容（群聊默认两者都用）；提示词里没有这个占位符时，"
        "记录会附在提示词末尾。"
    ),
    "help.ph.group_context_example": "[12-07 14:05] 小明：周末有人去爬山吗",
}

EN: dict[str, str] = {
    "help.intro": (
        "How the plugin decides when to speak, the placeholders a prompt can use, the chat "
        "commands, and answers to common questions."
    ),
    "help.toc": "Contents",
    "help.when": "How it decides when to speak",
    "help.placeholders": "Prompt placeholders",
    "help.commands": "Commands",
    "help.faq": "FAQ",
    "help.foresight": "See it before it happens: preview, draft, next 7 days",
    "help.col.placeholder": "Placeholder",
    "help.col.meaning": "Meaning",
    "help.col.example": "Example",
    "help.col.command": "Command",
    "help.col.who": "Who",
    "help.col.what": "What it does",
    "help.ph.unanswered_count": (
        "How many proactive messages in a row nobody has answered yet (back to 0 as soon as "
        "the user speaks)."
    ),
    "help.ph.current_time": "The current time in AstrBot's timezone, with the day of the week.",
    "help.ph.time_since_last_chat": ("How long since the user (in a group: anyone) last spoke."),
    "help.ph.session_name": (
        "The user's name in a private chat, the group's name in a group; the session id "
        "while no name is known."
    ),
    "help.ph.session_name_example": "Xiaoming",
    "help.ph.occasion": (
        "What the bot promised for this time (the sentence it said); empty when it promised "
        "nothing."
    ),
    "help.ph.occasion_example": "I'll remind you to drink water in ten minutes.",
    "help.ph.recent_proactive": (
        "The bot's last proactive messages in this session (at most 3), each with how long "
        "ago, so the model does not repeat itself; empty while there are none."
    ),
    "help.ph.recent_proactive_example": "- （3 小时 20 分钟前）Morning! Big day today?",
    "help.ph.group_context": (
        "The session's recent messages (everyone in a group, not only what was said to the "
        "bot; at most 30, each with its time and sender, the bot's own lines as 你 'you'). "
        "Filled only when History source is recent messages or both (groups: both by "
        "default); a prompt without this placeholder gets them added at its end."
    ),
    "help.ph.group_context_example": "[12-07 14:05] Xiaoming: anyone up for a hike this weekend?",
}

# Keys the page's script reads (shipped as JSON in every page).
JS_KEYS: tuple[str, ...] = ()
