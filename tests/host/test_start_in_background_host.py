"""``initialize()`` returns before the plugin has started (main.py), so a save in
AstrBot's dashboard is not held up by our start. Inside AstrBot's real core: the reload
returns while the start runs on, a chat's message that arrives meanwhile is noted once
the engine runs (core/early_messages.py), and a save right after a save waits for the
start before stopping it."""

from __future__ import annotations

from harness.ports import free_port

PASSWORD = "Start-Host-Passw0rd"


def plugin_config(friend: str) -> dict:
    return {
        "web_admin": {"port": free_port(), "password": PASSWORD},
        "friend_settings": {
            "enable": True,
            "session_list": [friend],
            "schedule_settings": {"quiet_hours": "", "min_interval_minutes": 30},
        },
    }


async def test_a_message_during_the_start_is_noted_when_the_engine_runs(chat_host_factory):
    from harness import stand_ins

    sender = stand_ins.unique_id("u")
    umo = f"{stand_ins.PLATFORM_ID}:FriendMessage:{sender}"
    async with chat_host_factory(plugin_config=plugin_config(umo)) as host:
        im = stand_ins.platform(host)
        await host.reload_plugin(wait_started=False)
        plugin = host.plugin_instance()
        assert plugin.service is None, "the reload waited for the start"
        await im.inject_and_wait("are you there?", sender_id=sender, sender_name="Mia")
        await host.plugin_started()
        engine = plugin.service.engine
        await engine_applied(engine)
        state = engine.sessions[umo]
        assert state.name == "Mia" and state.last_user_at is not None
        assert state.phase == "planned" and state.next_at > state.last_user_at


async def test_a_save_during_the_start_stops_what_the_start_started(chat_host_factory):
    from harness import stand_ins

    umo = f"{stand_ins.PLATFORM_ID}:FriendMessage:{stand_ins.unique_id('u')}"
    async with chat_host_factory(plugin_config=plugin_config(umo)) as host:
        await host.reload_plugin(wait_started=False)
        first = host.plugin_instance()
        await host.reload_plugin()  # terminate() of the instance still starting
        assert first.service is None and first.panel is None
        assert first._starting is None
        second = host.plugin_instance()
        assert second is not first and second.service.engine.running


async def engine_applied(engine) -> None:
    """The engine's message batch (0.2 s) has run."""
    engine.apply_pending_messages()
