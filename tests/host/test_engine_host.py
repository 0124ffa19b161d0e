"""The engine inside AstrBot's real core, with the scripted LLM and the recording IM
platform (subclasses of AstrBot's own Provider and Platform, tests/harness/stand_ins).

"The time comes" is simulated with ``engine.plan_at(umo, now)`` (the admin's "move
the next message"), so the tests take seconds, not minutes; every other step is the
real path: AstrBot's pipeline delivers the user's message to the plugin's handler,
the plugin asks the session's provider with its persona and history, and sends with
``context.send_message``.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from harness.panel_probes import login_with
from harness.ports import free_port
from harness.waiting import async_wait_for

PASSWORD = "Engine-Host-Passw0rd"
PROMPT = "PROACTIVE-TASK unanswered={{unanswered_count}} name={{session_name}}"


def plugin_config(friends: list[str], groups: list[str] = (), **schedule) -> dict:
    friend_schedule = {
        "min_interval_minutes": 30,
        "max_interval_minutes": 60,
        "quiet_hours": "",
        "max_unanswered_times": 2,
    }
    friend_schedule.update(schedule)
    return {
        "web_admin": {"port": free_port(), "password": PASSWORD},
        "friend_settings": {
            "enable": True,
            "session_list": list(friends),
            "proactive_prompt": PROMPT,
            "schedule_settings": friend_schedule,
            "context_settings": {"conversation_history_limit": 5},
        },
        "group_settings": {
            "enable": True,
            "session_list": list(groups),
            "proactive_prompt": PROMPT,
            "group_idle_trigger_minutes": 1,
            "schedule_settings": {
                "min_interval_minutes": 30,
                "max_interval_minutes": 60,
                "quiet_hours": "",
                "max_unanswered_times": 2,
            },
        },
    }


def engine_of(host):
    service = host.plugin_instance().service
    assert service is not None and service.engine is not None, host.logs.text()[-3000:]
    return service.engine


async def journal_kinds(engine, umo: str) -> list[str]:
    entries = await engine.store.query_journal(umo=umo, limit=500)
    return [e.kind for e in reversed(entries)]


async def fire_now(engine, umo: str) -> None:
    engine.plan_at(umo, time.time())


async def test_a_quiet_private_chat_gets_a_message_written_with_persona_and_history(
    chat_host_factory,
):
    from harness import stand_ins

    user = stand_ins.unique_id()
    async with chat_host_factory(plugin_config=None) as probe:
        umo = stand_ins.platform(probe).umo_for(sender_id=user)
    async with chat_host_factory(plugin_config=plugin_config([umo])) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = engine_of(host)
        persona_id = f"pc_persona_{user}"
        await host.context.persona_manager.create_persona(
            persona_id=persona_id, system_prompt="You are Nyx, a cheerful night owl."
        )
        try:
            from astrbot.core import sp

            await sp.put_async(
                scope="umo",
                scope_id=umo,
                key="session_service_config",
                value={"persona_id": persona_id},
            )
            llm.answer("Nice to meet you, Alice!")
            await im.inject_and_wait("hello, I am Alice", sender_id=user, sender_name="Alice")

            # The message reached the plugin: a plan between min and max.
            state = engine.sessions[umo]
            assert state.phase == "planned"
            assert time.time() + 29 * 60 < state.next_at < time.time() + 61 * 60
            assert state.name == "Alice"

            llm.answer("Alice, are you still up?")
            await fire_now(engine, umo)
            await async_wait_for(lambda: im.proactive, 10, 0.01, "the proactive message")
            assert [m.text for m in im.proactive] == ["Alice, are you still up?"]

            call = llm.last_call
            assert call.prompt == "PROACTIVE-TASK unanswered=0 name=Alice"
            assert "You are Nyx, a cheerful night owl." in (call.system_prompt or "")
            history = " ".join(str(m.get("content")) for m in call.contexts)
            assert "hello, I am Alice" in history and "Nice to meet you, Alice!" in history

            # The bot remembers what it said (written right after the send).
            deadline = time.monotonic() + 5
            while True:
                remembered = await stand_ins.conversation_history(host, umo)
                if remembered and remembered[-1].get("content") == "Alice, are you still up?":
                    break
                assert time.monotonic() < deadline, remembered[-2:]
                await asyncio.sleep(0.02)
            assert remembered[-1]["role"] == "assistant"
            assert state.unanswered == 1
            assert await journal_kinds(engine, umo) == [
                "planned",
                "manual",
                "fired",
                "sent",
                "planned",
            ]
        finally:
            await host.context.persona_manager.delete_persona(persona_id)


async def test_the_cap_stops_it_and_a_reply_starts_it_again(chat_host_factory):
    from harness import stand_ins

    user = stand_ins.unique_id()
    umo = f"{stand_ins.PLATFORM_ID}:FriendMessage:{user}"
    async with chat_host_factory(plugin_config=plugin_config([umo])) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = engine_of(host)
        await im.inject_and_wait("hi", sender_id=user)
        for n in (1, 2):
            llm.answer(f"ping {n}")
            await fire_now(engine, umo)
            await async_wait_for(lambda n=n: len(im.proactive) == n, 10, 0.01, f"message {n}")
        state = engine.sessions[umo]
        await async_wait_for(lambda: state.phase == "capped", 5, 0.01, "capped")
        assert state.unanswered == 2 and state.next_at is None
        assert llm.calls[-1].prompt.startswith("PROACTIVE-TASK unanswered=1")
        assert (await journal_kinds(engine, umo))[-1] == "capped"

        await im.inject_and_wait("sorry, I was away", sender_id=user)
        assert state.unanswered == 0 and state.phase == "planned"
        assert "answered" in await journal_kinds(engine, umo)


async def test_a_user_message_during_generation_cancels_the_send(chat_host_factory):
    from harness import stand_ins

    user = stand_ins.unique_id()
    umo = f"{stand_ins.PLATFORM_ID}:FriendMessage:{user}"
    async with chat_host_factory(plugin_config=plugin_config([umo])) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = engine_of(host)
        await im.inject_and_wait("hi", sender_id=user)
        calls_before = len(llm.calls)
        llm.answer("this must never be sent", delay=3.0)
        await fire_now(engine, umo)
        await llm.wait_for_calls(calls_before + 1)
        llm.answer("a normal reply")
        await im.inject_and_wait("are you there?", sender_id=user)
        await asyncio.sleep(0.2)
        assert all(m.text != "this must never be sent" for m in im.sent)
        kinds = await journal_kinds(engine, umo)
        assert "cancelled" in kinds and "sent" not in kinds
        state = engine.sessions[umo]
        assert state.phase == "planned" and state.next_at > time.time() + 29 * 60


async def test_a_group_is_served_after_silence_and_bot_replies_restart_it(chat_host_factory):
    from harness import stand_ins

    group = stand_ins.unique_id("g")
    umo = f"{stand_ins.PLATFORM_ID}:GroupMessage:{group}"
    async with chat_host_factory(plugin_config=plugin_config([], [umo])) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = engine_of(host)
        await im.inject_and_wait("anyone here?", sender_id="u1", group_id=group, group_name="Cats")
        state = engine.sessions[umo]
        assert state.phase == "silence" and state.name == "Cats"
        first_deadline = state.next_at
        assert first_deadline == pytest.approx(time.time() + 60, abs=5)
        await asyncio.sleep(0.05)
        # The bot is addressed and answers: its reply restarts the silence.
        llm.answer("I am here")
        await im.inject_and_wait("@bot hi", sender_id="u2", group_id=group, at_bot=True)
        assert state.next_at > first_deadline
        llm.answer("So quiet today... what is everyone up to?")
        await fire_now(engine, umo)
        await async_wait_for(lambda: im.proactive, 10, 0.01, "group message")
        assert im.proactive[-1].text == "So quiet today... what is everyone up to?"
        assert state.phase == "silence" and state.unanswered == 1


async def test_a_plan_survives_a_restart_of_astrbot_and_waits_for_the_platform(
    chat_host_factory,
):
    """The store keeps the plan; at the next boot (initialize() runs before platforms
    exist) it fires only once the platform is up, and is delivered."""
    from harness import stand_ins

    user = stand_ins.unique_id()
    umo = f"{stand_ins.PLATFORM_ID}:FriendMessage:{user}"
    config = plugin_config([umo])
    async with chat_host_factory(plugin_config=config) as host:
        im = stand_ins.platform(host)
        engine = engine_of(host)
        await im.inject_and_wait("hi", sender_id=user)
        engine.plan_at(umo, time.time() + 2.0)
        planned = engine.sessions[umo].next_at
    async with chat_host_factory(plugin_config=config) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        engine = engine_of(host)
        state = engine.sessions[umo]
        assert state.next_at == pytest.approx(planned, abs=1.0) or state.next_at > planned
        llm.answer("back again")
        await async_wait_for(lambda: im.proactive, 30, 0.05, "the restored message")
        assert [m.text for m in im.proactive] == ["back again"]
        kinds = await journal_kinds(engine, umo)
        assert "platform_skipped" not in kinds and "sent" in kinds


async def test_twenty_hot_reloads_never_send_twice_and_never_lose_a_plan(chat_host_factory):
    from harness import stand_ins

    users = [stand_ins.unique_id() for _ in range(8)]
    umos = [f"{stand_ins.PLATFORM_ID}:FriendMessage:{u}" for u in users]
    async with chat_host_factory(plugin_config=plugin_config(umos)) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        for user in users:
            await im.inject_and_wait("hi", sender_id=user)
        llm.reset()
        # Every answer takes a while, so reloads land while messages are being written.
        llm.always(stand_ins.Reply(text=None, delay=0.25))
        engine = engine_of(host)
        now = time.time()
        for index, umo in enumerate(umos):
            engine.plan_at(umo, now + 0.4 * index)
        for _ in range(20):
            result = await host.reload_plugin()
            assert result[0], result
            await asyncio.sleep(0.15)
        # No plan is lost: a session either got its message or still has its plan
        # (restored as "missed", to be sent soon). Send those now instead of waiting.
        engine = engine_of(host)
        for umo in umos:
            if not any(m.umo == umo for m in im.proactive):
                state = engine.sessions[umo]
                assert state.phase == "planned" and state.next_at, (umo, state)
                engine.plan_at(umo, time.time())
        await async_wait_for(
            lambda: {m.umo for m in im.proactive} >= set(umos), 30, 0.05, "one message each"
        )
        await asyncio.sleep(0.5)
        per_session = {umo: [m.text for m in im.proactive if m.umo == umo] for umo in umos}
        assert all(len(texts) == 1 for texts in per_session.values()), per_session
        assert not host.logs.select(min_level=40), host.logs.text()[-3000:]


async def test_commands_report_and_switch_this_session(chat_host_factory):
    from harness import stand_ins

    admin = stand_ins.unique_id("admin")
    async with chat_host_factory(
        plugin_config=plugin_config([]), core_config={"admins_id": [admin]}
    ) as host:
        im = stand_ins.platform(host)
        engine = engine_of(host)
        umo = im.umo_for(sender_id=admin)

        event = await im.inject_and_wait("/proactive status", sender_id=admin)
        reply = " ".join(m.text for m in im.replies_to(event))
        assert "off" in reply
        assert "session_list" in reply and "/proactive on" in reply  # why, and how to serve it

        event = await im.inject_and_wait("/proactive on", sender_id=admin)
        assert "on" in " ".join(m.text for m in im.replies_to(event))
        assert engine.is_served(umo)

        # A command is not conversation: it neither re-plans nor adds a journal row.
        await engine.store.flush()
        plan = lambda: getattr(engine.sessions.get(umo), "next_at", None)  # noqa: E731
        kinds_before, plan_before = await journal_kinds(engine, umo), plan()
        await im.inject_and_wait("/proactive status", sender_id=admin)
        await engine.store.flush()
        assert await journal_kinds(engine, umo) == kinds_before
        assert plan() == plan_before

        stranger = stand_ins.unique_id()
        event = await im.inject_and_wait("/proactive off", sender_id=stranger)
        assert not engine.is_served(im.umo_for(sender_id=stranger))
        assert engine.is_served(umo)  # a non-admin cannot switch anything

        event = await im.inject_and_wait("/proactive panel", sender_id=admin)
        reply = " ".join(m.text for m in im.replies_to(event))
        assert f":{host.plugin_instance().panel.settings.port}/" in reply
        assert PASSWORD not in reply

        event = await im.inject_and_wait("/proactive off", sender_id=admin)
        assert not engine.is_served(umo)


async def test_config_saved_from_the_panel_applies_live_without_a_reload(chat_host_factory):
    import json

    import httpx
    import websockets

    from harness import stand_ins
    from harness.roots import plugin_config_path

    user = stand_ins.unique_id()
    umo = f"{stand_ins.PLATFORM_ID}:FriendMessage:{user}"
    config = plugin_config([])
    port = config["web_admin"]["port"]
    async with chat_host_factory(plugin_config=config) as host:
        instance = host.plugin_instance()
        engine = engine_of(host)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            token = await login_with(client, PASSWORD)
            headers = {"Authorization": f"Bearer {token}"}
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/events",
                additional_headers={**headers, "Origin": base},
            ) as events:
                hello = json.loads(await asyncio.wait_for(events.recv(), 5))
                assert hello["type"] == "hello"
                body = {"friend_settings": {"session_list": [umo]}}
                r = await client.put("/api/config", json=body, headers=headers)
                assert r.status_code == 200, r.text
                assert "password" not in r.text.lower().replace("password_set", "")
                # applied at once, by the same plugin instance: no reload happened
                assert host.plugin_instance() is instance
                assert engine_of(host) is engine
                assert engine.is_served(umo)
                saved = json.loads(plugin_config_path(host.root).read_text(encoding="utf-8-sig"))
                assert saved["friend_settings"]["session_list"] == [umo]
                assert saved["web_admin"]["password"] == PASSWORD  # untouched
                # the event stream stayed up and reports what happens next
                await im_message(host, user)
                while True:
                    event = json.loads(await asyncio.wait_for(events.recv(), 5))
                    if event["type"] == "journal" and event["entry"]["umo"] == umo:
                        assert event["entry"]["kind"] == "planned"
                        break
                r = await client.put(
                    "/api/config", json={"web_admin": {"port": 1}}, headers=headers
                )
                assert r.status_code == 400 and "dashboard" in r.text


async def im_message(host, user: str) -> None:
    from harness import stand_ins

    await stand_ins.platform(host).inject_and_wait("hello", sender_id=user)


async def test_a_platform_that_never_answers_cannot_hold_up_a_reload(chat_host_factory):
    """terminate() is bounded even while a send hangs; the next plan was saved before
    the send, so the new instance neither loses the session nor sends it twice."""
    from harness import stand_ins

    user = stand_ins.unique_id()
    umo = f"{stand_ins.PLATFORM_ID}:FriendMessage:{user}"
    async with chat_host_factory(plugin_config=plugin_config([umo])) as host:
        im, llm = stand_ins.platform(host), stand_ins.provider(host)
        await im.inject_and_wait("hi", sender_id=user)
        engine = engine_of(host)
        im.send_delay = 600.0  # the network never answers
        llm.answer("are you there?")
        await fire_now(engine, umo)
        await async_wait_for(lambda: umo in engine._deliveries, 5, 0.01, "sending")
        await async_wait_for(lambda: engine._deliveries[umo].sending, 5, 0.01, "sending")
        began = time.monotonic()
        assert (await host.reload_plugin())[0]
        took = time.monotonic() - began
        assert took < 8.0, took
        im.send_delay = 0.0
        state = engine_of(host).sessions[umo]
        assert state.phase == "planned" and state.next_at > time.time() + 29 * 60
        assert state.unanswered == 1
        assert not [m for m in im.proactive if m.umo == umo]  # the hung one never arrived
