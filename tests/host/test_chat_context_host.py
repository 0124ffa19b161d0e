"""What the model reads besides the conversation, inside AstrBot's real core: group
messages not addressed to the bot (AstrBot's pipeline hands them to the plugin's
handler, which keeps them), the bot's own replies, and its last proactive messages, all
in the request the scripted provider records (core/engine/chat_context.py)."""

from __future__ import annotations

import time

from harness.ports import free_port
from harness.waiting import async_wait_for

PASSWORD = "Context-Host-Passw0rd"


def plugin_config(group_umo: str, source_mode: str | None = None) -> dict:
    group = {
        "enable": True,
        "session_list": [group_umo],
        "group_idle_trigger_minutes": 1,
        "schedule_settings": {
            "min_interval_minutes": 30,
            "max_interval_minutes": 60,
            "quiet_hours": "",
            "max_unanswered_times": 0,
        },
    }
    if source_mode is not None:
        group["context_settings"] = {"source_mode": source_mode}
    return {
        "web_admin": {"port": free_port(), "password": PASSWORD},
        "group_settings": group,  # the default group prompt: {{group_context}} and all
    }


async def _write_now(engine, llm, umo: str, answer: str, calls_before: int):
    llm.answer(answer)
    engine.plan_at(umo, time.time())
    await llm.wait_for_finished(calls_before + 1, timeout=10)
    return llm.calls[calls_before]


async def test_the_model_sees_what_the_group_said_and_its_own_last_messages(chat_host_factory):
    from harness import stand_ins

    group = stand_ins.unique_id("g")
    umo = f"{stand_ins.PLATFORM_ID}:GroupMessage:{group}"
    async with chat_host_factory(plugin_config=plugin_config(umo)) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = host.plugin_instance().service.engine
        for sender, name, text in (
            ("u1", "Mia", "who is up for hiking on Saturday?"),
            ("u2", "Leo", "me! the weather looks great"),
        ):
            await im.inject_and_wait(
                text, sender_id=sender, sender_name=name, group_id=group, group_name="Hikers"
            )
        assert not llm.calls  # nobody addressed the bot: AstrBot's model was not asked
        call = await _write_now(engine, llm, umo, "Saturday it is, then?", 0)
        sent = call.prompt or ""
        assert "Mia：who is up for hiking on Saturday?" in sent
        assert "Leo：me! the weather looks great" in sent
        await async_wait_for(lambda: im.proactive, 10, 0.01, "the proactive message")

        # The bot is addressed and answers: its reply is a line of the group's too.
        llm.answer("I'll bring snacks")
        await im.inject_and_wait(
            "@bot coming?", sender_id="u3", sender_name="Ann", group_id=group, at_bot=True
        )
        calls = len(llm.calls)
        call = await _write_now(engine, llm, umo, "See you all Saturday", calls)
        sent = call.prompt or ""
        assert "[你最近主动发过的消息]" in sent and "Saturday it is, then?" in sent
        assert "刚刚" in sent or "分钟前" in sent  # how long ago
        assert "你：I'll bring snacks" in sent
        assert "Ann：" in sent


async def test_platform_history_only_leaves_the_conversation_out(chat_host_factory):
    from harness import stand_ins

    group = stand_ins.unique_id("g")
    umo = f"{stand_ins.PLATFORM_ID}:GroupMessage:{group}"
    config = plugin_config(umo, source_mode="platform_message_history")
    async with chat_host_factory(plugin_config=config) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = host.plugin_instance().service.engine
        llm.answer("ANSWER-IN-CONVERSATION")
        await im.inject_and_wait(
            "@bot remember MARKER-ONE",
            sender_id="u1",
            sender_name="Mia",
            group_id=group,
            at_bot=True,
        )
        call = await _write_now(engine, llm, umo, "hello group", len(llm.calls))
        contexts = "\n".join(str(c) for c in call.contexts or [])
        assert "MARKER-ONE" not in contexts  # no conversation turns
        assert "Mia：" in (call.prompt or "") and "MARKER-ONE" in (call.prompt or "")
