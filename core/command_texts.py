"""What ``/proactive status|on|off`` answer, in both languages (main.py sends them).

They say what the panel's Serve switch says: whether the chat is served, why (the codes
of ``core/engine/serving.py``), how to change it, and what happens next. Pure text over
the engine's views; nothing here changes anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from .umo import kind_of

if TYPE_CHECKING:
    from .engine.engine import ProactiveEngine
    from .service import ServeOutcome

NOT_A_CHAT = "这里不是私聊或群聊。/ Not a private chat or a group."


def status_text(engine: ProactiveEngine, umo: str) -> str:
    """``/proactive status``: served or not, why, how to change it, and the next step."""
    serve = engine.serve_state(umo)
    if serve is None:
        return NOT_A_CHAT
    lines = [
        "主动消息：开启，本会话服务中 / Proactive messages: on, this chat is served"
        if serve["served"]
        else "主动消息：关闭，本会话未服务 / Proactive messages: off, this chat is not served",
        *_serve_reason_lines(serve),
    ]
    state = engine.sessions.get(umo)
    if state is not None:
        if state.paused:
            lines.append("已暂停 / paused")
        if serve["served"]:
            lines += _next_step_lines(engine, umo)
        limit = engine.settings_for(umo, state.kind).schedule.max_unanswered_times
        lines.append(f"未回复 / unanswered: {state.unanswered}/{limit or '∞'}")
    return "\n".join(lines)


def switch_reply(engine: ProactiveEngine | None, umo: str, outcome: ServeOutcome) -> str:
    """``/proactive on|off``: what changed and what happens next, or why nothing did."""
    if outcome.refused == "kind_off":
        return "\n".join(_kind_off_lines(umo))
    if outcome.errors:
        return "操作失败，配置未改变 / Failed, the config is unchanged: " + "; ".join(
            outcome.errors[:3]
        )
    return "\n".join(_switched_lines(engine, umo, outcome))


_HOW_TO_SERVE = (
    "开启：管理员在这里发送 /proactive on，或在管理面板“会话”页面打开“服务”开关。"
    "/ To serve it: an admin sends /proactive on here, or turns on its Serve switch in the "
    "panel's Sessions page."
)


def _kind_off_lines(umo: str) -> list[str]:
    group = "group_settings" if kind_of(umo) == "group" else "friend_settings"
    kind = "群聊 / groups" if kind_of(umo) == "group" else "私聊 / private chats"
    return [
        f"未开启：{kind} 的总开关已关闭（{group}.enable）。"
        f"/ Not switched on: the switch of this kind of chat is off ({group}.enable).",
        f"请先在管理面板“配置”页面或 AstrBot 的插件配置中打开 {group}.enable，再发送 /proactive on。"
        f"/ Turn {group}.enable on first (the panel's Config page or AstrBot's plugin config), "
        "then send /proactive on again.",
    ]


def _serve_reason_lines(serve: dict[str, Any]) -> list[str]:
    """Why the chat is (not) served and how to change it, as the panel's switch says."""
    group, why = serve["group"], serve["why"]
    if why == "listed":
        return [
            f"原因：本会话在服务名单中（{group}.session_list）。/ Why: this chat is on the served list ({group}.session_list)."
        ]
    if why == "override_on":
        return [
            "原因：本会话的单独设置开启了它（旧版 /proactive on 留下的）。"
            "/ Why: this chat's own settings switch it on (left by an older /proactive on).",
            f"发送 /proactive on 会把它改为写入服务名单（{group}.session_list）。"
            f"/ Sending /proactive on moves it to the served list ({group}.session_list).",
        ]
    if why == "override_off":
        return [
            "原因：本会话的单独设置关闭了它（旧版 /proactive off 留下的）。"
            "/ Why: this chat's own settings switch it off (left by an older /proactive off).",
            _HOW_TO_SERVE,
        ]
    if why == "kind_off":
        return _kind_off_lines_status(group)
    return [
        f"原因：本会话不在服务名单中（{group}.session_list）。"
        f"/ Why: this chat is not on the served list ({group}.session_list).",
        _HOW_TO_SERVE,
    ]


def _kind_off_lines_status(group: str) -> list[str]:
    return [
        f"原因：插件配置中此类会话的总开关已关闭（{group}.enable）。"
        f"/ Why: the switch of this kind of chat is off in the plugin config ({group}.enable).",
        f"开启：在管理面板“配置”页面或 AstrBot 的插件配置中打开 {group}.enable。"
        f"/ To serve it: turn {group}.enable on in the panel's Config page or AstrBot's "
        "plugin config.",
    ]


def _switched_lines(engine: ProactiveEngine | None, umo: str, outcome: ServeOutcome) -> list[str]:
    """The answer to ``/proactive on|off``: what changed, and what happens next."""
    group = "group_settings" if kind_of(umo) == "group" else "friend_settings"
    if outcome.served:
        lines = [
            f"已开启：本会话在服务名单中（{group}.session_list）。"
            f"/ On: this chat is on the served list ({group}.session_list)."
        ]
    else:
        lines = [
            f"已关闭：本会话已移出服务名单（{group}.session_list）。"
            f"/ Off: this chat is off the served list ({group}.session_list)."
        ]
    if outcome.dropped_override:
        lines.append(
            "本会话旧的单独开关已移除。/ This chat's old switch in its own settings was removed."
        )
    if outcome.removed_bare_ids:
        ids = ", ".join(outcome.removed_bare_ids)
        lines.append(
            f"名单中的纯 ID {ids} 也已移除（它也可能服务其他平台上同 ID 的会话）。"
            f"/ The bare id {ids} was removed from the list too (it may also have served a "
            "chat with the same id on another platform)."
        )
    if outcome.served and engine is not None:
        lines += _next_step_lines(engine, umo)
    return lines


def _next_step_lines(engine: ProactiveEngine, umo: str) -> list[str]:
    """What happens next in a served chat: its plan, or why there is none yet."""
    state = engine.sessions.get(umo)
    if state is None or not state.last_user_at:
        return ["下次：本会话下一条消息之后计划。/ Next: planned after this chat's next message."]
    if state.next_at and state.phase == "planned":
        return [f"下次 / next: {_local(state.next_at, engine.timezone)}"]
    if state.phase == "silence":
        return ["下次：等待群聊沉默 / next: waiting for the group to go quiet"]
    view = engine.session_view(state)
    why = view.get("why_no_plan")
    if why == "paused":
        return ["下次：已暂停，恢复后计划。/ Next: paused; planned once resumed."]
    if why == "capped":
        return [
            "下次：已达未回复上限，等用户回复后计划。"
            "/ Next: the unanswered cap is reached; planned after the user replies."
        ]
    return ["下次：本会话下一条消息之后计划。/ Next: planned after this chat's next message."]


def _local(ts: float, tz: Any) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")
