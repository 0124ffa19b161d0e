"""Texts of the learned-habits week map on the session page (web/pages/habits_map.py)."""

from __future__ import annotations

ZH: dict[str, str] = {
    "habits.title": "作息习惯",
    "habits.intro": "按一周的每个小时（AstrBot 时区），颜色越深表示对方越常在这个时段说话、越常回复；主动消息的随机时间会偏向深色时段。",
    "habits.none": "还没有学到任何习惯：对方说话后开始记录。",
    "habits.off": "此会话已关闭“按作息习惯安排”（schedule_settings.learn_habits）：不再学习，也不影响安排。",
    "habits.learning": "记录还不够（至少 7 天、20 个活跃小时）：目前仍按区间均匀随机安排。",
    "habits.used": "已用于安排：随机时间偏向深色时段。",
    "habits.sleep": "学到的作息（避开）：{hours}",
    "habits.delay": "平均回复用时：{minutes} 分钟",
    "habits.since": "记录开始于",
    "habits.map_label": "一周作息热力图",
    "habits.cell": "{day} {hour}:00–{next}:00：活跃 {active} 小时，主动消息 {sent} 条，回复 {answered} 条{weight}",
    "habits.cell_weight": "，权重 {w}",
    "habits.cell_asleep": "，作息（避开）",
    "habits.day.0": "周一",
    "habits.day.1": "周二",
    "habits.day.2": "周三",
    "habits.day.3": "周四",
    "habits.day.4": "周五",
    "habits.day.5": "周六",
    "habits.day.6": "周日",
    "habits.legend": "浅 → 深：不活跃 → 活跃；斜线：作息时段",
}

EN: dict[str, str] = {
    "habits.title": "Habits",
    "habits.intro": "Per hour of the week (AstrBot's time zone): the darker, the more often this person writes and answers then; the random time of proactive messages leans toward the dark hours.",
    "habits.none": "Nothing learned yet: learning starts with their messages.",
    "habits.off": "Learning habits is off for this session (schedule_settings.learn_habits): nothing is learned and plans are not weighted.",
    "habits.learning": "Not enough history yet (at least 7 days and 20 active hours): plans are still drawn evenly.",
    "habits.used": "In use: the random time leans toward the dark hours.",
    "habits.sleep": "Learned sleep (avoided): {hours}",
    "habits.delay": "Average answer time: {minutes} min",
    "habits.since": "Learning since",
    "habits.map_label": "Week heat-map of habits",
    "habits.cell": "{day} {hour}:00–{next}:00: active {active} h, {sent} proactive sent, {answered} answered{weight}",
    "habits.cell_weight": ", weight {w}",
    "habits.cell_asleep": ", learned sleep (avoided)",
    "habits.day.0": "Mon",
    "habits.day.1": "Tue",
    "habits.day.2": "Wed",
    "habits.day.3": "Thu",
    "habits.day.4": "Fri",
    "habits.day.5": "Sat",
    "habits.day.6": "Sun",
    "habits.legend": "light → dark: inactive → active; hatched: learned sleep",
}

JS_KEYS: tuple[str, ...] = ()
