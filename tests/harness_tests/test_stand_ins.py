"""The stand-in LLM and IM platform (harness/stand_ins.py) inside AstrBot's real core:
loaded from the core config like any adapter, reached through the same Context calls
the plugin's engine makes, driving AstrBot's own message pipeline."""

from __future__ import annotations

import asyncio
import copy
import shutil
import sys
import time
from pathlib import Path

import pytest

from harness.waiting import async_wait_for

pytestmark = pytest.mark.host

PROBE = "pc_probe_plugin"

_PROBE_MAIN = '''\
from astrbot.api.event import AstrMessageEvent, filter
from astrbot.api.star import Context, Star


class Probe(Star):
    """Records what a plugin's listeners see."""

    def __init__(self, context: Context, config=None):
        super().__init__(context)
        self.seen = []
        self.after_sent = []

    @filter.event_message_type(filter.EventMessageType.ALL)
    async def on_any_message(self, event: AstrMessageEvent):
        self.seen.append(
            {
                "umo": event.unified_msg_origin,
                "text": event.message_str,
                "addressed": event.is_at_or_wake_command,
                "private": event.is_private_chat(),
            }
        )

    @filter.after_message_sent()
    async def on_after_sent(self, event: AstrMessageEvent):
        result = event.get_result()
        self.after_sent.append(
            {
                "umo": event.unified_msg_origin,
                "text": result.get_plain_text() if result else None,
            }
        )
'''

_PROBE_METADATA = f"""\
name: {PROBE}
display_name: Probe
desc: Test probe that records what plugin listeners see.
version: "0.0.1"
author: tests
repo: https://example.invalid/{PROBE}
astrbot_version: ">=4.14.7"
"""


@pytest.fixture
def probe_plugin(inprocess_root: Path):
    """A second plugin with an ALL-messages listener and an after_message_sent hook,
    present only for hosts booted during this test."""
    folder = inprocess_root / "data" / "plugins" / PROBE
    folder.mkdir(parents=True)
    (folder / "main.py").write_text(_PROBE_MAIN, encoding="utf-8")
    (folder / "metadata.yaml").write_text(_PROBE_METADATA, encoding="utf-8")
    try:
        yield PROBE
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(inprocess_root / "data" / "plugin_data" / PROBE, ignore_errors=True)
        for key in [k for k in sys.modules if k.startswith(f"data.plugins.{PROBE}")]:
            del sys.modules[key]


def probe(host):
    smd = host.context.get_registered_star(PROBE)
    assert smd is not None, host.logs.text()[-3000:]
    return smd.star_cls


async def test_platform_is_loaded_and_send_message_is_recorded(chat_host):
    from astrbot.core.message.message_event_result import MessageChain
    from astrbot.core.platform.platform import PlatformStatus

    from harness import stand_ins

    im = stand_ins.platform(chat_host)
    assert im in chat_host.context.platform_manager.get_insts()
    assert isinstance(im, stand_ins.RecordingPlatform)
    assert im.meta().id == stand_ins.PLATFORM_ID and im.meta().name == stand_ins.IM_PLATFORM_TYPE
    assert im.meta().support_proactive_message is True
    await async_wait_for(lambda: im.status == PlatformStatus.RUNNING, timeout=5, interval=0.01)

    user = stand_ins.unique_id()
    umo = im.umo_for(sender_id=user)
    assert umo == f"test_im:FriendMessage:{user}"
    assert im.umo_for(group_id="g1") == "test_im:GroupMessage:g1"
    before = time.monotonic()
    assert await chat_host.context.send_message(umo, MessageChain().message("x")) is True
    [sent] = im.sent
    assert (sent.umo, sent.text, sent.is_reply) == (umo, "x", False)
    assert sent.at >= before and im.proactive == [sent] and im.replies == []

    # No platform with that id: False, nothing recorded.
    assert (
        await chat_host.context.send_message("nope:FriendMessage:1", MessageChain().message("y"))
        is False
    )
    # A failing network raises out of send_message; a slow one is awaited.
    im.fail_next(ConnectionError("down"))
    with pytest.raises(ConnectionError):
        await chat_host.context.send_message(umo, MessageChain().message("lost"))
    assert [m.text for m in im.failed] == ["lost"]
    im.send_error = OSError("still down")
    for _ in range(2):
        with pytest.raises(OSError, match="still down"):
            await chat_host.context.send_message(umo, MessageChain().message("lost again"))
    im.send_error = None
    im.send_delay = 0.2
    began = time.monotonic()
    assert await chat_host.context.send_message(umo, MessageChain().message("slow"))
    assert time.monotonic() - began >= 0.2
    assert [m.text for m in im.sent_to(umo)] == ["x", "slow"]


async def test_provider_is_the_default_and_llm_generate_follows_the_script(chat_host):
    from astrbot.core.provider.entities import LLMResponse

    from harness import stand_ins

    context = chat_host.context
    llm = stand_ins.provider(chat_host)
    umo = stand_ins.platform(chat_host).umo_for(sender_id=stand_ins.unique_id())
    using = await context.get_using_provider_async(umo)
    assert using is llm
    provider_id = using.meta().id
    assert provider_id == stand_ins.CHAT_PROVIDER_ID
    assert context.get_provider_by_id(provider_id) is llm
    assert llm.get_model() == stand_ins.MODEL_NAME

    contexts = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "yes"}]
    first = await context.llm_generate(
        chat_provider_id=provider_id, prompt="p1", system_prompt="sys", contexts=contexts
    )
    assert isinstance(first, LLMResponse) and first.completion_text == "test reply #1"
    call = llm.last_call
    assert (call.prompt, call.system_prompt, call.contexts) == ("p1", "sys", contexts)
    assert call.outcome == "answered" and call.answer == "test reply #1"
    assert "earlier" in call.text and "sys" in call.text

    llm.answer("fixed").empty()
    assert (
        await context.llm_generate(chat_provider_id=provider_id, prompt="p2")
    ).completion_text == "fixed"
    assert (
        await context.llm_generate(chat_provider_id=provider_id, prompt="p3")
    ).completion_text == ""

    llm.fail(RuntimeError("model down"))
    with pytest.raises(RuntimeError, match="model down"):
        await context.llm_generate(chat_provider_id=provider_id, prompt="p4")
    assert llm.last_call.outcome == "raised"

    llm.answer("late", delay=0.2)
    began = time.monotonic()
    assert (
        await context.llm_generate(chat_provider_id=provider_id, prompt="p5")
    ).completion_text == "late"
    assert time.monotonic() - began >= 0.2

    # A hang is cancellable (the caller's timeout ends it) ...
    llm.hang()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(context.llm_generate(chat_provider_id=provider_id, prompt="p6"), 0.2)
    assert llm.last_call.outcome == "cancelled"
    # ... and release() lets a hung call answer.
    llm.hang()
    task = asyncio.create_task(context.llm_generate(chat_provider_id=provider_id, prompt="p7"))
    await llm.wait_for_calls(7, timeout=2)
    assert llm.hung_calls == 1 and not task.done()
    assert llm.release() == 1
    assert (await asyncio.wait_for(task, 2)).completion_text == "test reply #7"

    llm.always("same")
    assert (
        await context.llm_generate(chat_provider_id=provider_id, prompt="p8")
    ).completion_text == "same"
    assert [c.prompt for c in llm.calls] == [f"p{n}" for n in range(1, 9)]


async def test_private_message_runs_the_pipeline_and_is_stored(chat_host):
    from harness import stand_ins

    im, llm = stand_ins.platform(chat_host), stand_ins.provider(chat_host)
    user = stand_ins.unique_id()
    umo = im.umo_for(sender_id=user)
    llm.answer("hello from the model")

    event = await im.inject_and_wait("hi bot", sender_id=user, sender_name="Alice")
    assert event.unified_msg_origin == umo
    assert event.was_at_or_wake_command  # private chats are addressed to the bot
    [reply] = im.replies_to(event)
    assert (reply.umo, reply.text, reply.is_reply) == (umo, "hello from the model", True)
    assert im.proactive == []

    [call] = llm.calls
    assert call.stream is False
    # AstrBot passes the user turn inside contexts (prompt appended by the agent runner).
    assert "hi bot" in call.text
    assert call.system_prompt is None or isinstance(call.system_prompt, str)
    history = await stand_ins.conversation_history(chat_host, umo)
    assert [m["role"] for m in history] == ["user", "assistant"]
    # AstrBot appends a <system_reminder> (current datetime) part to the stored user turn.
    assert _content(history[0]).startswith("hi bot")
    assert _content(history[1]) == "hello from the model"

    foreign = [r for r in chat_host.logs.warnings() if r not in chat_host.logs.plugin_records()]
    assert foreign == [], chat_host.logs.text()[-3000:]

    # A second turn sends the first exchange back as context.
    event2 = await im.inject_and_wait("and again", sender_id=user)
    assert [m.text for m in im.replies_to(event2)] == ["test reply #2"]
    assert "hello from the model" in llm.calls[1].text
    assert len(await stand_ins.conversation_history(chat_host, umo)) == 4


def _content(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict)).strip()
    return str(content)


async def test_group_messages_reach_plugin_listeners(chat_host_factory, probe_plugin):
    from harness import stand_ins

    async with chat_host_factory() as host:
        im, llm, seen = stand_ins.platform(host), stand_ins.provider(host), probe(host)
        group, user = stand_ins.unique_id("g"), stand_ins.unique_id()
        umo = im.umo_for(group_id=group)

        quiet = await im.inject_and_wait("just chatting", sender_id=user, group_id=group)
        assert quiet.unified_msg_origin == umo
        assert seen.seen == [
            {"umo": umo, "text": "just chatting", "addressed": False, "private": False}
        ]
        assert any(name.endswith("on_any_message") for name in quiet.handled_by)
        assert im.replies_to(quiet) == [] and llm.calls == []  # not addressed: no LLM
        assert seen.after_sent == []

        asked = await im.inject_and_wait("what's up?", sender_id=user, group_id=group, at_bot=True)
        assert asked.was_at_or_wake_command
        assert [m.text for m in im.replies_to(asked)] == ["test reply #1"]
        assert seen.seen[-1]["addressed"] is True
        # after_message_sent fires for pipeline replies ...
        assert seen.after_sent == [{"umo": umo, "text": "test reply #1"}]

        # ... but not for context.send_message.
        from astrbot.core.message.message_event_result import MessageChain

        assert await host.context.send_message(umo, MessageChain().message("proactive"))
        await asyncio.sleep(0.1)
        assert len(seen.after_sent) == 1

        private = await im.inject_and_wait("psst", sender_id=user)
        assert seen.seen[-1] == {
            "umo": im.umo_for(sender_id=user),
            "text": "psst",
            "addressed": True,
            "private": True,
        }
        assert [m.text for m in im.replies_to(private)] == ["test reply #2"]


async def test_model_failure_and_empty_answer_in_the_pipeline(chat_host):
    from harness import stand_ins

    im, llm = stand_ins.platform(chat_host), stand_ins.provider(chat_host)
    llm.fail(RuntimeError("model down"))
    failed = await im.inject_and_wait("hi", sender_id=stand_ins.unique_id())
    # AstrBot tells the user about the failure, as a normal reply.
    [reply] = im.replies_to(failed)
    assert "model down" in reply.text
    llm.empty()
    silent = await im.inject_and_wait("hi", sender_id=stand_ins.unique_id())
    assert im.replies_to(silent) == []  # an empty answer: nothing sent, no retry
    assert [c.outcome for c in llm.calls] == ["raised", "answered"]


async def test_streamed_replies_do_not_fire_after_message_sent(chat_host_factory, probe_plugin):
    from harness import stand_ins

    streaming = {"provider_settings": {"streaming_response": True}}
    async with chat_host_factory(core_config=streaming) as host:
        im, llm, seen = stand_ins.platform(host), stand_ins.provider(host), probe(host)
        llm.answer("streamed answer")
        event = await im.inject_and_wait("hi", sender_id=stand_ins.unique_id())
        assert [m.text for m in im.replies_to(event)] == ["streamed answer"]
        assert llm.last_call.stream is True
        history = await stand_ins.conversation_history(host, event.unified_msg_origin)
        assert _content(history[-1]) == "streamed answer"
        assert seen.after_sent == []


async def test_persona_resolves_from_config_session_and_conversation(chat_host_factory):
    from astrbot.core import sp

    from harness import stand_ins

    default_id = stand_ins.unique_id("persona_default_")
    forced_id = stand_ins.unique_id("persona_forced_")
    config = {"agent_runner": {"config": {"persona": {"persona_id": default_id}}}}
    async with chat_host_factory(core_config=config) as host:
        personas = host.context.persona_manager
        await personas.create_persona(default_id, "You are Captain Test, terse and kind.")
        await personas.create_persona(forced_id, "You are the forced persona.")
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        settings = host.context.get_config()["provider_settings"]
        user, other = stand_ins.unique_id(), stand_ins.unique_id()
        umo, other_umo = im.umo_for(sender_id=user), im.umo_for(sender_id=other)
        try:
            # The config default.
            persona_id, persona, forced, webchat = await personas.resolve_selected_persona(
                umo=umo,
                conversation_persona_id=None,
                platform_name=im.meta().name,
                provider_settings=settings,
            )
            assert (persona_id, forced, webchat) == (default_id, None, False)
            assert persona["prompt"] == "You are Captain Test, terse and kind."

            # A conversation's own persona wins over the default ...
            persona_id, persona, _, _ = await personas.resolve_selected_persona(
                umo=umo,
                conversation_persona_id=forced_id,
                platform_name=im.meta().name,
            )
            assert persona_id == forced_id and persona["name"] == forced_id

            # ... and a session rule wins over both.
            await sp.put_async(
                "umo", other_umo, "session_service_config", {"persona_id": forced_id}
            )
            persona_id, persona, forced, _ = await personas.resolve_selected_persona(
                umo=other_umo,
                conversation_persona_id=default_id,
                platform_name=im.meta().name,
            )
            assert persona_id == forced == forced_id

            # The pipeline puts the default persona's prompt in the system prompt.
            await im.inject_and_wait("who are you?", sender_id=user)
            # (AstrBot sends it as a role "system" message in contexts, not system_prompt.)
            assert "Captain Test" in llm.last_call.text
            assert llm.last_call.system_prompt is None
        finally:
            await sp.remove_async("umo", other_umo, "session_service_config")
            await personas.delete_persona(default_id)
            await personas.delete_persona(forced_id)


async def test_tts_provider_and_no_proactive_flag(chat_host_factory):
    import wave

    from harness import stand_ins

    async with chat_host_factory(tts=True, proactive=False) as host:
        im = stand_ins.platform(host)
        assert im.meta().support_proactive_message is False
        umo = im.umo_for(sender_id=stand_ins.unique_id())
        tts = await host.context.get_using_tts_provider_async(umo)
        assert tts is stand_ins.tts_provider(host)
        with pytest.warns(DeprecationWarning):  # the sync getter works, but is deprecated
            assert host.context.get_using_tts_provider(umo) is tts
        path = await tts.get_audio("hello")
        with wave.open(path) as wav:
            assert wav.getnframes() > 0
        assert [c.text for c in tts.calls] == ["hello"]
        await asyncio.to_thread(Path(path).unlink)


async def test_several_hosts_in_a_row_get_fresh_stand_ins(chat_host_factory, host_factory):
    from astrbot.core import astrbot_config

    from harness import stand_ins

    keys = ("provider", "platform", "agent_runner", "provider_tts_settings")
    config_before = copy.deepcopy({k: astrbot_config.get(k) for k in keys})
    file_before = await asyncio.to_thread(Path(astrbot_config.config_path).read_bytes)
    seen = []
    for round_ in range(3):
        async with chat_host_factory() as host:
            im, llm = stand_ins.platform(host), stand_ins.provider(host)
            assert im.sent == [] and llm.calls == []
            seen.append((id(im), id(llm)))
            umo = im.umo_for(sender_id=stand_ins.unique_id())
            response = await host.context.llm_generate(chat_provider_id=llm.meta().id, prompt="hi")
            assert response.completion_text == "test reply #1"
            event = await im.inject_and_wait(f"round {round_}", sender_id=umo.rsplit(":", 1)[1])
            assert [m.text for m in im.replies_to(event)] == ["test reply #2"]
        assert im.terminated and llm.terminated
        assert host.leftover_tasks == [], host.leftover_tasks
    assert len(set(seen)) == 3

    # The core config is back as it was, and a plain host has no stand-ins.
    assert {k: astrbot_config.get(k) for k in keys} == config_before
    assert await asyncio.to_thread(Path(astrbot_config.config_path).read_bytes) == file_before
    async with host_factory() as plain:
        with pytest.raises(LookupError):
            stand_ins.platform(plain)
        with pytest.raises(LookupError):
            stand_ins.provider(plain)
