"""Writing and sending in the real core: voice through the session's TTS provider,
segmented replies, platforms that cannot push, persona modes, and a model that
hangs or answers nothing."""

from __future__ import annotations

import asyncio
import itertools
import time

from harness.ports import free_port
from harness.waiting import async_wait_for

PASSWORD = "Delivery-Host-Passw0rd"


def config(umo: str, **friend) -> dict:
    friend_settings = {
        "enable": True,
        "session_list": [umo],
        "proactive_prompt": "SAY SOMETHING",
        "schedule_settings": {
            "min_interval_minutes": 30,
            "max_interval_minutes": 60,
            "quiet_hours": "",
            "max_unanswered_times": 0,
        },
    }
    friend_settings.update(friend)
    return {
        "web_admin": {"port": free_port(), "password": PASSWORD},
        "friend_settings": friend_settings,
        "engine_settings": {"llm_timeout_seconds": 5},
    }


def engine_of(host):
    return host.plugin_instance().service.engine


async def kinds(engine, umo: str) -> list[str]:
    return [e.kind for e in reversed(await engine.store.query_journal(umo=umo, limit=200))]


async def wait_for_kind(engine, umo: str, kind: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while kind not in await kinds(engine, umo):
        assert time.monotonic() < deadline, (kind, await kinds(engine, umo))
        await asyncio.sleep(0.02)


def new_umo() -> tuple[str, str]:
    from harness import stand_ins

    user = stand_ins.unique_id()
    return user, f"{stand_ins.PLATFORM_ID}:FriendMessage:{user}"


async def test_voice_first_then_the_text_in_natural_segments(chat_host_factory):
    from harness import stand_ins

    _user, umo = new_umo()
    plugin_config = config(
        umo,
        segmented_reply_settings={"enable": True, "interval": "0.1, 0.2"},
        tts_settings={"enable_tts": True, "always_send_text": True},
    )
    async with chat_host_factory(plugin_config=plugin_config, tts=True) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        tts = stand_ins.tts_provider(host)
        engine = engine_of(host)
        llm.answer("早上好！今天天气不错。要出去走走吗？")
        engine.request_trigger(umo)
        await async_wait_for(lambda: len(im.proactive) >= 4, 10, 0.01, "voice + 3 parts")
        voice, *parts = im.proactive
        assert any(type(c).__name__ == "Record" for c in voice.chain.chain)
        assert tts.calls[-1].text == "早上好！今天天气不错。要出去走走吗？"
        assert [p.text for p in parts] == ["早上好！", "今天天气不错。", "要出去走走吗？"]
        gaps = [b.at - a.at for a, b in itertools.pairwise(parts)]
        assert all(0.09 <= gap <= 1.0 for gap in gaps), gaps
        assert "sent" in await kinds(engine, umo)


async def test_voice_failure_falls_back_to_text(chat_host_factory):
    from harness import stand_ins

    _user, umo = new_umo()
    plugin_config = config(umo, tts_settings={"enable_tts": True, "always_send_text": False})
    async with chat_host_factory(plugin_config=plugin_config, tts=True) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        stand_ins.tts_provider(host).error = RuntimeError("tts down")
        llm.answer("plain text please")
        engine_of(host).request_trigger(umo)
        await async_wait_for(lambda: im.proactive, 10, 0.01, "text fallback")
        assert [m.text for m in im.proactive] == ["plain text please"]


async def test_a_platform_that_cannot_push_is_skipped_and_the_model_not_asked(chat_host_factory):
    from harness import stand_ins

    _user, umo = new_umo()
    async with chat_host_factory(plugin_config=config(umo), proactive=False) as host:
        llm = stand_ins.provider(host)
        engine = engine_of(host)
        calls = len(llm.calls)
        engine.request_trigger(umo)
        await wait_for_kind(engine, umo, "platform_skipped")
        assert len(llm.calls) == calls
        assert stand_ins.platform(host).proactive == []
        assert "cannot send proactive messages" in host.logs.text()


async def test_custom_and_selected_personas(chat_host_factory):
    from harness import stand_ins

    user, umo = new_umo()
    persona_id = f"pc_select_{user}"
    plugin_config = config(
        umo, persona_settings={"mode": "custom", "custom_persona": "You are a lighthouse."}
    )
    async with chat_host_factory(plugin_config=plugin_config) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = engine_of(host)
        engine.request_trigger(umo)
        await async_wait_for(lambda: im.proactive, 10, 0.01, "custom persona message")
        assert "You are a lighthouse." in llm.last_call.system_prompt

        await host.context.persona_manager.create_persona(
            persona_id=persona_id, system_prompt="You are a very old tortoise."
        )
        try:
            await engine.set_override(
                umo, {"persona_settings": {"mode": "select", "select_persona": persona_id}}
            )
            engine.request_trigger(umo)
            await async_wait_for(lambda: len(im.proactive) == 2, 10, 0.01, "selected persona")
            assert "You are a very old tortoise." in llm.last_call.system_prompt
            assert "lighthouse" not in llm.last_call.system_prompt
        finally:
            await host.context.persona_manager.delete_persona(persona_id)


async def test_a_hanging_model_times_out_is_retried_once_and_an_empty_answer_is_rejected(
    chat_host_factory,
):
    from harness import stand_ins

    _user, umo = new_umo()
    async with chat_host_factory(plugin_config=config(umo)) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = engine_of(host)
        llm.hang()
        llm.answer("sorry, I was slow")
        began = time.monotonic()
        engine.request_trigger(umo)
        await async_wait_for(lambda: im.proactive, 15, 0.05, "the retried message")
        assert 4.5 < time.monotonic() - began < 10
        assert [m.text for m in im.proactive] == ["sorry, I was slow"]

        llm.empty()
        llm.empty()
        engine.request_trigger(umo)
        await wait_for_kind(engine, umo, "llm_empty")
        assert len(im.proactive) == 1  # nothing sent for an empty answer
        state = engine.sessions[umo]
        assert state.next_at and state.next_at > time.time()  # retried later, not now


async def test_no_chat_model_is_journaled_and_retried_later(host):
    """AstrBot with no provider configured: the journal says so, nothing is sent, and
    the session is retried later instead of in a loop."""
    engine = engine_of(host)
    platforms = [p.meta().id for p in host.context.platform_manager.platform_insts]
    assert "webchat" in platforms, platforms
    umo = "webchat:FriendMessage:webchat!astrbot!no-model-test"
    engine.request_trigger(umo)
    await wait_for_kind(engine, umo, "no_provider")
    entries = await engine.store.query_journal(umo=umo, kinds=["no_provider"], limit=1)
    assert "no chat model" in entries[0].reason
    assert engine.sessions[umo].next_at is None  # a manual send for an unserved session
    assert "no_provider" in host.logs.text()
