"""Messages kept while the plugin starts (core/early_messages.py): noted on the engine
in order once it runs, and bounded (the oldest dropped first, counted)."""

from __future__ import annotations

from harness.engine_rig import FRIEND, GROUP
from proactive_chat.core.early_messages import MAX_EARLY, EarlyMessages


async def test_kept_messages_are_noted_in_order_once_the_engine_runs(rig, clock):
    engine = await rig.start()
    early = EarlyMessages()
    early.user(FRIEND, "Alice", "Alice", "hello")
    early.bot(GROUP, "see you tomorrow")
    assert len(early) == 2
    assert early.replay(engine) == 2
    assert len(early) == 0
    engine.apply_pending_messages()
    alice = engine.sessions[FRIEND]
    assert alice.name == "Alice" and alice.last_user_at == clock.now
    assert alice.phase == "planned"


def test_at_most_max_early_are_kept_and_the_oldest_go_first():
    early = EarlyMessages()
    for index in range(MAX_EARLY + 7):
        early.user(f"test:FriendMessage:{index}", None, None, "hi")
    assert len(early) == MAX_EARLY and early.dropped == 7
    assert early._entries[0][0] == "test:FriendMessage:7"
