"""The lines a bot owner sees in AstrBot's log: one INFO line per proactive message sent
(session, kind, why now; the text only at DEBUG), one per cap reached, none per
incoming message. All on the plugin's own logger (AstrBot's per-plugin log level)."""

from __future__ import annotations

import logging

import pytest

from harness.engine_rig import FRIEND, GROUP, engine_config
from proactive_chat.core.plugin_log import PLUGIN_LOGGER_NAME


@pytest.fixture
def records():
    seen: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = seen.append
    plugin_logger = logging.getLogger(PLUGIN_LOGGER_NAME)
    plugin_logger.addHandler(handler)
    old_level = plugin_logger.level
    plugin_logger.setLevel(logging.DEBUG)
    yield seen
    plugin_logger.removeHandler(handler)
    plugin_logger.setLevel(old_level)


def lines(records, level: int) -> list[str]:
    return [r.getMessage() for r in records if r.levelno == level]


async def test_one_info_line_per_message_sent_and_per_cap(rig, records):
    rig.raw_config = engine_config(max_unanswered_times=2)
    engine = await rig.start()
    engine.on_user_message(FRIEND, name="Alice")
    assert lines(records, logging.INFO) == []  # nothing per incoming message
    await rig.advance(3601)
    await rig.advance(3601)
    infos = lines(records, logging.INFO)
    assert len(infos) == 3, infos
    first, second, capped = infos
    assert 'private chat "Alice" (test:FriendMessage:alice)' in first
    assert "the chat stayed quiet for the planned time after the user's message" in first
    assert "the planned time after the previous proactive message came" in second
    assert "Cap reached for" in capped and "2 proactive message(s) unanswered" in capped
    texts = rig.sender.sent
    assert all(t[1] not in "\n".join(infos) for t in texts)  # the text is not at INFO
    debug = lines(records, logging.DEBUG)
    assert any(texts[0][1] in line for line in debug)


async def test_a_group_and_send_now_say_so(rig, records):
    engine = await rig.start()
    engine.on_user_message(GROUP, name="Chess club")
    assert await engine.deliver(GROUP, manual=True) == "sent"
    (line,) = lines(records, logging.INFO)
    assert 'group "Chess club"' in line and "an admin pressed send now" in line
