"""``/proactive on|off`` through AstrBot's real pipeline write the served list itself: the
chat lands in ``friend_settings.session_list`` of the plugin's config as AstrBot holds it
(its ``StarMetadata.config``, the object its config dialog edits) and in the config file it
reads at the next start; ``/proactive off`` takes it out. No override is stored."""

from __future__ import annotations

import json

from harness.ports import free_port

PASSWORD = "Serve-Host-Passw0rd"


def plugin_config() -> dict:
    return {
        "web_admin": {"port": free_port(), "password": PASSWORD},
        "friend_settings": {
            "enable": True,
            "session_list": [],
            "schedule_settings": {
                "min_interval_minutes": 30,
                "max_interval_minutes": 60,
                "quiet_hours": "",
            },
        },
    }


def astrbot_lists(host) -> tuple[list[str], list[str]]:
    """The friend list as AstrBot's plugin registry holds it, and as its file says."""
    from astrbot.core.star.star import star_map

    from harness.roots import plugin_config_path

    instance = host.plugin_instance()
    metadata = star_map[type(instance).__module__]
    held = list(metadata.config["friend_settings"]["session_list"])
    saved = json.loads(plugin_config_path(host.root).read_text(encoding="utf-8-sig"))
    return held, list(saved["friend_settings"]["session_list"])


async def test_proactive_on_and_off_write_astrbots_plugin_config(chat_host_factory):
    from harness import stand_ins

    admin = stand_ins.unique_id("admin")
    async with chat_host_factory(
        plugin_config=plugin_config(), core_config={"admins_id": [admin]}
    ) as host:
        im = stand_ins.platform(host)
        umo = im.umo_for(sender_id=admin)
        engine = host.plugin_instance().service.engine
        await im.inject_and_wait("hello there", sender_id=admin)  # seen, not served
        assert umo in engine.sessions and not engine.is_served(umo)

        event = await im.inject_and_wait("/proactive on", sender_id=admin)
        reply = " ".join(m.text for m in im.replies_to(event))
        assert "friend_settings.session_list" in reply, reply
        assert astrbot_lists(host) == ([umo], [umo])
        assert engine.is_served(umo) and umo not in engine.overrides
        state = engine.sessions[umo]
        assert state.phase == "planned" and state.next_reason == "newly_listed"
        assert "next" in reply.lower()  # the reply says what happens next

        event = await im.inject_and_wait("/proactive status", sender_id=admin)
        status = " ".join(m.text for m in im.replies_to(event))
        assert "this chat is served" in status and "on the served list" in status, status

        event = await im.inject_and_wait("/proactive off", sender_id=admin)
        assert astrbot_lists(host) == ([], [])
        assert not engine.is_served(umo) and engine.sessions[umo].phase == "idle"
        assert not host.logs.select(min_level=40), host.logs.text()[-3000:]
