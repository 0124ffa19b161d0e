"""Texts of the Serve switch (``serve.*``): the Sessions rows and cards, and the top of the
session page. ``/proactive status`` says the same in core/command_texts.py."""

from __future__ import annotations

ZH: dict[str, str] = {
    "serve.switch": "服务",
    "serve.switch_label": "服务此会话：{name}",
    "serve.box": "是否服务此会话",
    "serve.kind.friend": "私聊",
    "serve.kind.group": "群聊",
    "serve.why.listed": "已在服务名单中（{group}.session_list）。",
    "serve.why.not_listed": "未服务：打开“服务”开关，即加入服务名单（{group}.session_list）。",
    "serve.why.kind_off": "{kind}的总开关已关闭（{group}.enable），开关无法生效：请先在配置中打开。",
    "serve.why.override_on": "由本会话的单独设置开启（旧版 /proactive on 留下的）；使用开关会改为写入服务名单。",
    "serve.why.override_off": "被本会话的单独设置关闭（旧版 /proactive off 留下的）；打开开关即可服务。",
    "serve.config_link": "打开配置",
    "serve.next.planned": "下一条主动消息：",
    "serve.next.silence": "等待群聊安静，最早于：",
    "serve.next.no_history": "本会话下一条消息之后计划第一条主动消息。",
    "serve.next.paused": "已暂停：恢复后才会计划。",
    "serve.next.capped": "已达连续未回复上限：用户回复后才会计划。",
    "serve.next.waiting": "聊天安静下来后计划。",
    "serve.done.on": "已服务：已加入服务名单并保存。",
    "serve.done.off": "已停止服务：已移出服务名单并保存。",
    "serve.failed": "无法更改：{message}",
}

EN: dict[str, str] = {
    "serve.switch": "Serve",
    "serve.switch_label": "Serve this chat: {name}",
    "serve.box": "Whether this chat is served",
    "serve.kind.friend": "Private chats",
    "serve.kind.group": "Groups",
    "serve.why.listed": "On the served list ({group}.session_list).",
    "serve.why.not_listed": (
        "Not served: switch Serve on to put it on the served list ({group}.session_list)."
    ),
    "serve.why.kind_off": (
        "{kind} are switched off ({group}.enable), so the switch cannot serve this one: "
        "turn them on in Config first."
    ),
    "serve.why.override_on": (
        "Served by this chat's own settings (left by an older /proactive on); using the "
        "switch moves it to the served list."
    ),
    "serve.why.override_off": (
        "Switched off in this chat's own settings (left by an older /proactive off); "
        "switch Serve on to serve it."
    ),
    "serve.config_link": "Open Config",
    "serve.next.planned": "Next proactive message:",
    "serve.next.silence": "Waits for the group to go quiet, at the earliest:",
    "serve.next.no_history": "The first proactive message is planned after this chat's next message.",
    "serve.next.paused": "Paused: planned once resumed.",
    "serve.next.capped": "The unanswered cap is reached: planned after the user replies.",
    "serve.next.waiting": "Planned when the chat goes quiet.",
    "serve.done.on": "Served: on the served list, saved.",
    "serve.done.off": "No longer served: off the served list, saved.",
    "serve.failed": "Could not change it: {message}",
}

JS_KEYS: tuple[str, ...] = tuple(EN)
