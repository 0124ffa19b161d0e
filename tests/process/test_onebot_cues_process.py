"""Time cues and the bot's promises over the protocol QQ users connect with: a real
``astrbot run`` with AstrBot's ``aiocqhttp`` adapter, a small OneBot v11 client
(harness/onebot.py) as the QQ side, and the model a local OpenAI-compatible server.

(a) A user's cue ("半小时后再聊") moves the next proactive message to the cue's time
(the panel API and the journal: reason "cue", the words, the parsed time). (b) The
bot's reply with a promise ("我十分钟后提醒你") moves it to that time (reason
"promise"), and when it fires ("send now" from the panel: ten minutes is too long for a
test) the model's request holds the promise sentence and the message reaches QQ."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from harness.onebot import OneBotClient, onebot_platform_config
from harness.panel_client import PanelClient
from harness.panel_probes import panel_answers
from harness.ports import free_port
from harness.process import AstrBotProcess
from harness.waiting import wait_for

pytestmark = pytest.mark.process

PASSWORD = "OneBot-Cues-Pw-7731"
PLATFORM_ID = "qq"
USER_ID = 424242
UMO = f"{PLATFORM_ID}:FriendMessage:{USER_ID}"


def _session(panel: PanelClient) -> dict:
    r = panel.call("GET", f"/api/sessions/{quote(UMO, safe='')}")
    return r.json() if r.status_code == 200 else {}


def _last_planned(panel: PanelClient) -> dict:
    r = panel.call("GET", "/api/journal", params={"umo": UMO, "limit": 50})
    assert r.status_code == 200, r.text
    return next(item for item in r.json()["items"] if item["kind"] == "planned")


def test_a_cue_and_a_promise_move_the_next_message(llm_process_host, fake_llm):
    panel_port, onebot_port = free_port(), free_port()
    plugin_config = {
        "web_admin": {"port": panel_port, "password": PASSWORD},
        "friend_settings": {
            "enable": True,
            "session_list": [UMO],
            "schedule_settings": {"quiet_hours": "0-0"},
        },
    }
    core = onebot_platform_config(PLATFORM_ID, onebot_port)
    proc: AstrBotProcess = llm_process_host(plugin_config, core_config=core)
    wait_for(lambda: panel_answers(panel_port), 20, 0.1, lambda: proc.log_tail(30))
    panel = PanelClient(panel_port, PASSWORD)

    with OneBotClient(onebot_port) as qq:
        # (a) the user's cue
        fake_llm.script("好的，回头聊！")
        said_at = time.time()
        qq.private_message(USER_ID, "Alice", "我先去开会，半小时后再聊")
        qq.wait_for_sent("回头聊", timeout=30)
        wait_for(lambda: _session(panel).get("next_reason") == "cue", 10, 0.1, proc.log_tail)
        view = _session(panel)
        assert said_at + 30 * 60 <= view["next_at"] <= time.time() + 40 * 60, view
        planned = _last_planned(panel)
        assert planned["reason"] == "cue" and "半小时" in planned["detail"]["cue"], planned
        assert planned["detail"]["rule"].startswith("zh."), planned
        assert abs(planned["detail"]["cue_at"] - (said_at + 30 * 60)) < 10 * 60, planned

        # (b) the bot's promise
        fake_llm.script("好的，我十分钟后提醒你喝水。")
        promised_from = time.time()
        qq.private_message(USER_ID, "Alice", "开完了，记得提醒我喝水")
        qq.wait_for_sent("十分钟后提醒你", timeout=30)
        wait_for(lambda: _session(panel).get("next_reason") == "promise", 10, 0.1)
        view = _session(panel)
        assert promised_from + 9 * 60 <= view["next_at"] <= time.time() + 12 * 60, view
        assert "十分钟后提醒你" in view["promise"]["sentence"], view
        planned = _last_planned(panel)
        assert planned["reason"] == "promise" and "十分钟后" in planned["detail"]["sentence"]

        requests_before = len(fake_llm.chat_requests())
        fake_llm.script("该喝水啦！")
        r = panel.session_action(UMO, "trigger")
        assert r.status_code == 202, r.text
        qq.wait_for_sent("该喝水啦", timeout=30)
        proactive = fake_llm.chat_requests()[requests_before]
        everything = " ".join(str(m.get("content")) for m in proactive.messages)
        assert "十分钟后提醒你喝水" in everything
        wait_for(lambda: _session(panel).get("next_reason") == "after_proactive", 10, 0.1)
        assert _session(panel)["promise"] is None  # kept once
    assert not proc.log_problems(), proc.log_problems()
