"""Texts of the overview page."""

from __future__ import annotations

ZH: dict[str, str] = {
    "overview.intro": "今天发生了什么，接下来要发什么。",
    "overview.not_ready": "正在等待 AstrBot 加载完消息平台，之后计划会继续执行。",
    "overview.store_error": "插件的存储暂时无法写入：{error}。更改保存在内存中并会自动重试，详情见实时日志。",
    "overview.stats_error": "统计数据暂不可用：{error}",
    "overview.cards": "状态",
    "overview.card.served": "服务中的会话",
    "overview.card.served_of": "已知会话共 {known} 个",
    "overview.card.busy": "{writing} 个正在撰写 · {queued} 个排队中",
    "overview.card.sent": "今日已发送",
    "overview.card.sent_hint": "今天发出的主动消息",
    "overview.card.answered_today": "今日得到回复 {n} 次",
    "overview.card.waiting": "等待回复",
    "overview.card.waiting_hint": "主动消息还没有得到回复的会话",
    "overview.card.capped_now": "其中 {n} 个已达上限，等用户先开口",
    "overview.card.capped_today": "今日达到上限 {n} 次",
    "overview.card.capped_today.one": "今日达到上限 {n} 次",
    "overview.card.next": "下一条消息",
    "overview.card.next_none": "暂无计划",
    "overview.start": "还没有服务中的会话。打开“会话”页面，为一个私聊或群聊开启服务；"
    "或者在那个聊天里发送 /proactive on（需要管理员）。",
    "overview.start_link": "打开会话列表",
    "overview.card.provider": "默认对话模型",
    "overview.card.provider_hint": "未单独设置模型的会话使用它",
    "overview.versions": "插件 {version} · AstrBot {astrbot}",
    "overview.provider.none": "未配置",
    "overview.provider.unknown": "未知",
    "overview.provider.missing": (
        "AstrBot 没有可用的对话模型，主动消息无法撰写。请在 AstrBot 管理面板的"
        "「模型提供商」中添加一个对话模型并启用，然后回到这里。"
    ),
    "overview.missing": "配置中提到的这些模型或工具在 AstrBot 中不存在，写主动消息时会被跳过：",
    "overview.missing.provider": "模型",
    "overview.missing.tool": "工具",
    "overview.chart.heading": "每日消息（最近 {days} 天）",
    "overview.chart.summary": (
        "最近 {days} 天：发送 {sent} 条，得到回复 {answered} 次，达到上限 {capped} 次；"
        "单日最多发送 {peak} 条。"
    ),
    "overview.chart.sent": "已发送",
    "overview.chart.answered": "已回复",
    "overview.chart.capped": "达到上限",
    "overview.chart.tip_sent": "{date}：发送 {n} 条",
    "overview.chart.tip_answered": "{date}：回复 {n} 次",
    "overview.chart.tip_day": "{date}：发送 {sent}，回复 {answered}，达到上限 {capped}",
    "overview.chart.table": "查看数据表",
    "overview.chart.date": "日期",
    "overview.chart.unavailable": "引擎未运行，暂无统计数据。",
    "overview.timeline.heading": "接下来的计划",
    "overview.timeline.all": "全部会话",
    "overview.timeline.empty": "目前没有计划。服务中的会话安静下来后，就会计划一条消息。",
    "overview.timeline.offline": "引擎未运行，没有计划。",
}

EN: dict[str, str] = {
    "overview.intro": "What happened today and what goes out next.",
    "overview.not_ready": (
        "Waiting for AstrBot to finish loading its platforms; plans go on after that."
    ),
    "overview.store_error": (
        "The plugin's store cannot save right now: {error}. Changes are kept in memory "
        "and retried; see the live logs."
    ),
    "overview.stats_error": "Statistics are not available: {error}",
    "overview.cards": "Status",
    "overview.card.served": "Sessions served",
    "overview.card.served_of": "of {known} known",
    "overview.card.busy": "{writing} writing · {queued} queued",
    "overview.card.sent": "Sent today",
    "overview.card.sent_hint": "Proactive messages sent today",
    "overview.card.answered_today": "{n} answered today",
    "overview.card.waiting": "Waiting for a reply",
    "overview.card.waiting_hint": "Sessions whose proactive message has no answer yet",
    "overview.card.capped_now": "{n} of them at their cap, waiting for the user",
    "overview.card.capped_today": "{n} caps reached today",
    "overview.card.capped_today.one": "{n} cap reached today",
    "overview.card.next": "Next message",
    "overview.card.next_none": "Nothing planned",
    "overview.start": "No chat is served yet. Open Sessions and switch a private chat or "
    "a group on, or send /proactive on in that chat (admins only).",
    "overview.start_link": "Open Sessions",
    "overview.card.provider": "Default chat model",
    "overview.card.provider_hint": "Used by sessions without a model of their own",
    "overview.versions": "Plugin {version} · AstrBot {astrbot}",
    "overview.provider.none": "None configured",
    "overview.provider.unknown": "Unknown",
    "overview.provider.missing": (
        "AstrBot has no chat model, so proactive messages cannot be written. Add a chat "
        "model under Providers in AstrBot's dashboard and enable it, then come back here."
    ),
    "overview.missing": (
        "These models or tools named in the config do not exist in AstrBot; writing "
        "a message skips them:"
    ),
    "overview.missing.provider": "model",
    "overview.missing.tool": "tool",
    "overview.chart.heading": "Messages per day (last {days} days)",
    "overview.chart.summary": (
        "Last {days} days: {sent} sent, {answered} answered, {capped} caps reached; "
        "at most {peak} sent in one day."
    ),
    "overview.chart.sent": "Sent",
    "overview.chart.answered": "Answered",
    "overview.chart.capped": "Caps reached",
    "overview.chart.tip_sent": "{date}: {n} sent",
    "overview.chart.tip_answered": "{date}: {n} answered",
    "overview.chart.tip_day": "{date}: {sent} sent, {answered} answered, {capped} caps reached",
    "overview.chart.table": "Show the numbers",
    "overview.chart.date": "Date",
    "overview.chart.unavailable": "No statistics while the engine is not running.",
    "overview.timeline.heading": "Next planned messages",
    "overview.timeline.all": "All sessions",
    "overview.timeline.empty": (
        "Nothing planned right now. A message is planned when a served chat goes quiet."
    ),
    "overview.timeline.offline": "The engine is not running: nothing is planned.",
}

# Keys the page's script reads (shipped as JSON in every page).
JS_KEYS: tuple[str, ...] = (
    "overview.store_error",
    "overview.stats_error",
    "overview.card.served_of",
    "overview.card.busy",
    "overview.card.capped_now",
    "overview.card.capped_today",
    "overview.card.answered_today",
    "overview.card.next_none",
    "overview.versions",
    "overview.provider.none",
    "overview.provider.unknown",
    "overview.chart.heading",
    "overview.chart.summary",
    "overview.chart.tip_sent",
    "overview.chart.tip_answered",
    "overview.chart.tip_day",
    "overview.chart.unavailable",
    "overview.timeline.empty",
    "overview.timeline.offline",
)
