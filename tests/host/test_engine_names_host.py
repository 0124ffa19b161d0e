"""Session names as main.py's handler takes them from AstrBot's real events: a group is
named after the group, never after whoever spoke last (found in review)."""

from __future__ import annotations

from harness.ports import free_port

PROMPT = "PROACTIVE-TASK name={{session_name}}"


def plugin_config(groups: list[str]) -> dict:
    return {
        "web_admin": {"port": free_port(), "password": "Review-Host-Passw0rd"},
        "group_settings": {
            "enable": True,
            "session_list": list(groups),
            "proactive_prompt": PROMPT,
            "group_idle_trigger_minutes": 1,
            "schedule_settings": {"quiet_hours": ""},
        },
    }


async def test_a_group_without_a_group_name_is_not_named_after_a_speaker(
    chat_host_factory,
):
    # Found in review (10), in main._session_name: when the platform gives no group name (OneBot v11
    # group message events carry none, so aiocqhttp leaves Group.group_name None), the GROUP session
    # is named after the message's sender, and renamed by every speaker. The group prompt then reads
    # "群聊：Bob" ({{session_name}}) and the panel lists the group as "Bob".
    from harness import stand_ins

    group = stand_ins.unique_id("g")
    umo = f"{stand_ins.PLATFORM_ID}:GroupMessage:{group}"
    async with chat_host_factory(plugin_config=plugin_config([umo])) as host:
        im = stand_ins.platform(host)
        engine = host.plugin_instance().service.engine
        await im.inject_and_wait("hello all", sender_id="u1", sender_name="Bob", group_id=group)
        await im.inject_and_wait("hi Bob", sender_id="u2", sender_name="Carol", group_id=group)
        name = engine.sessions[umo].name
        assert name not in ("Bob", "Carol"), f"the group {group!r} is now called {name!r}"
