"""The engine end to end in a real ``astrbot run``: AstrBot's own OpenAI-compatible
provider (pointed at a local fake server), a chat through the built-in webchat, a
trigger through the admin API, and the proactive message in that conversation's
history, written with the conversation as context."""

from __future__ import annotations

import time

import pytest

from harness.panel_client import PanelClient
from harness.panel_probes import panel_answers
from harness.ports import free_port
from harness.process import AstrBotProcess
from harness.waiting import wait_for
from harness.webchat import WebChatSession

pytestmark = pytest.mark.process

PASSWORD = "Engine-Process-Pw-5521"


def test_a_trigger_from_the_admin_api_lands_in_the_webchat_history(llm_process_host, fake_llm):
    port = free_port()
    plugin_config = {
        "web_admin": {"port": port, "password": PASSWORD},
        "friend_settings": {"enable": True, "session_list": []},
    }
    proc: AstrBotProcess = llm_process_host(plugin_config)
    wait_for(lambda: panel_answers(port), 20, 0.1, lambda: proc.log_tail(30))
    panel = PanelClient(port, PASSWORD)

    chat = WebChatSession.create(proc)
    fake_llm.script("Nice to meet you, I am the test bot.")
    assert chat.send("hello, my cat is called Miso").text == "Nice to meet you, I am the test bot."

    # The user spoke before the session was listed: turn it on for this session only.
    r = panel.call("PUT", f"/api/sessions/{chat.umo}/override", json={"enable": True})
    assert r.status_code == 200, r.text

    requests_before = len(fake_llm.chat_requests())
    fake_llm.script("Hey, how is Miso doing today?")
    r = panel.call("POST", f"/api/sessions/{chat.umo}/trigger")
    assert r.status_code == 202, r.text

    message = chat.wait_for_bot_message(r"how is Miso doing", timeout=30)
    assert message.text == "Hey, how is Miso doing today?"

    # The model was asked with the conversation as context.
    proactive = fake_llm.chat_requests()[requests_before]
    everything = " ".join(str(m.get("content")) for m in proactive.messages)
    assert "my cat is called Miso" in everything
    assert "Nice to meet you" in everything

    wait_for(lambda: "sent" in panel.journal_kinds(chat.umo), 10, 0.2)
    kinds = panel.journal_kinds(chat.umo)
    assert {"manual", "fired", "sent"} <= set(kinds), kinds
    session = panel.call("GET", f"/api/sessions/{chat.umo}").json()
    assert session["unanswered"] == 1
    assert session["next_at"] and session["next_at"] > time.time()

    # A reply resets the count (the webchat message reaches the plugin's handler).
    fake_llm.script("Glad to hear it!")
    chat.send("Miso is fine, thanks")
    wait_for(lambda: panel.call("GET", f"/api/sessions/{chat.umo}").json()["unanswered"] == 0, 10)
    assert "answered" in panel.journal_kinds(chat.umo)
    assert not proc.log_problems(), proc.log_problems()
