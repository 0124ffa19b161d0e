"""Proves the LLM + webchat harness against a real ``astrbot run``: AstrBot's own
OpenAI-compatible provider talks to ``FakeOpenAIServer``, a chat goes through the
dashboard's webchat API, and the history and UMO are what AstrBot itself reports.
Nothing here needs the plugin's engine."""

from __future__ import annotations

import asyncio
import re
import threading

import openai
import pytest

from harness.dummy_plugin import make_dummy_plugin
from harness.fake_llm import FakeOpenAIServer, Reply
from harness.webchat import (
    WebChatSession,
    active_umos,
    conversation_umos,
    is_title_request,
    webchat_umo,
)

pytestmark = pytest.mark.process


def test_fake_server_speaks_openai_to_the_sdk():
    """The fake alone, through the same SDK AstrBot uses: plain, streamed, error,
    models; stop() interrupts a pending delay and leaves no thread behind."""

    async def talk(llm: FakeOpenAIServer) -> tuple[str, str, int, str]:
        async with openai.AsyncOpenAI(api_key="k", base_url=llm.base_url, max_retries=0) as c:
            plain = await c.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hello"}]
            )
            stream = await c.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": [{"type": "text", "text": "hey"}]}],
                stream=True,
                stream_options={"include_usage": True},
            )
            pieces = [
                ch.choices[0].delta.content
                async for ch in stream
                if ch.choices and ch.choices[0].delta.content
            ]
            try:
                await c.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}]
                )
                status = 200
            except openai.APIStatusError as exc:
                status = exc.status_code
            models = await c.models.list()
        return plain.choices[0].message.content, "|".join(pieces), status, models.data[0].id

    threads_before = set(threading.enumerate())
    with FakeOpenAIServer() as llm:
        llm.script(Reply(), Reply("streamed answer", chunk_size=5), Reply.error(502, "boom"))
        plain, streamed, status, model = asyncio.run(talk(llm))
        assert plain == "fake reply #1"
        assert streamed == "strea|med a|nswer"
        assert status == 502
        assert model == llm.model
        chats = llm.chat_requests()
        assert [(r.index, r.stream, r.last_user_text) for r in chats] == [
            (1, False, "hello"),
            (2, True, "hey"),
            (3, False, "x"),
        ]

        llm.script(Reply(delay=60))  # a request left hanging when the server stops
        waiter = threading.Thread(
            target=lambda: asyncio.run(_post_quietly(llm.base_url)), daemon=True
        )
        waiter.start()
        llm.wait_for_requests(4, timeout=5)
    waiter.join(10)
    assert not waiter.is_alive()
    assert set(threading.enumerate()) <= threads_before


async def _post_quietly(base_url: str) -> None:
    async with openai.AsyncOpenAI(api_key="k", base_url=base_url, max_retries=0) as c:
        try:
            await c.chat.completions.create(model="m", messages=[], timeout=30)
        except openai.APIError:
            pass


def test_webchat_chat_through_astrbot_provider(llm_process_host, fake_llm, tmp_path):
    # The stand-in plugin: this proves the harness, whatever state main.py is in.
    proc = llm_process_host(src=make_dummy_plugin(tmp_path / "dummy"))
    chat = WebChatSession.create(proc)

    # -- one message, non-streaming: the scripted text comes back through AstrBot
    fake_llm.script("Hi! I am the fake LLM.")
    reply = chat.send("hello", timeout=60)
    assert reply.ended, reply.events
    assert reply.text == "Hi! I am the fake LLM."
    assert reply.errors == []

    [request] = fake_llm.chat_requests()  # a named session: no title request
    assert request.model == fake_llm.model
    assert request.stream is False
    assert request.messages[0]["role"] == "system"
    assert "hello" in request.last_user_text

    history = chat.history()
    assert [(m.role, m.text) for m in history] == [
        ("user", "hello"),
        ("bot", "Hi! I am the fake LLM."),
    ]
    assert reply.saved_ids == [history[1].id]

    # -- the UMO: what AstrBot itself records for this session
    umo = chat.umo
    assert umo == f"webchat:FriendMessage:webchat!astrbot!{chat.session_id}"
    assert umo == webchat_umo(chat.session_id)
    assert umo in active_umos(proc)
    assert umo in conversation_umos(proc)

    # -- a streamed answer: chunks on the wire, the whole text in the history
    fake_llm.script(Reply("A longer streamed answer.", chunk_size=6))
    reply = chat.send("tell me more", streaming=True, timeout=60)
    assert reply.text == "A longer streamed answer."
    assert len([e for e in reply.of_type("plain") if e.get("streaming")]) >= 4
    second = fake_llm.chat_requests()[-1]
    assert second.stream is True
    assert "tell me more" in second.last_user_text
    assert "Hi! I am the fake LLM." in second.text  # the conversation went along
    assert [(m.role, m.text) for m in chat.history()][2:] == [
        ("user", "tell me more"),
        ("bot", "A longer streamed answer."),
    ]

    # -- an unnamed session: AstrBot also asks the LLM for a title, concurrently
    fake_llm.reset()
    untitled = WebChatSession.create(proc, display_name=None)
    reply = untitled.send("hi again", timeout=60)
    assert re.fullmatch(r"fake reply #[12]", reply.text)
    requests = fake_llm.wait_for_requests(2, timeout=30)
    assert sorted(is_title_request(r) for r in requests) == [False, True]
    assert untitled.umo in conversation_umos(proc)

    problems = proc.log_problems()
    assert problems == [], "\n".join(problems)
