"""``parse_umo`` / ``kind_of``: valid and invalid session ids, colons in the session id."""

from __future__ import annotations

import pytest

from proactive_chat.core.umo import (
    FRIEND,
    GROUP,
    MAX_UMO_LENGTH,
    Umo,
    kind_of,
    parse_umo,
    short_id,
    webchat_name,
)


@pytest.mark.parametrize(
    ("text", "platform", "message_type", "session", "kind"),
    [
        ("aiocqhttp:FriendMessage:12345", "aiocqhttp", "FriendMessage", "12345", FRIEND),
        ("aiocqhttp:GroupMessage:67890", "aiocqhttp", "GroupMessage", "67890", GROUP),
        ("webchat:FriendMessage:a:b:c", "webchat", "FriendMessage", "a:b:c", FRIEND),
        ("my bot:GroupMessage:room#1", "my bot", "GroupMessage", "room#1", GROUP),
        ("qq:FriendMessage:用户", "qq", "FriendMessage", "用户", FRIEND),
    ],
)
def test_valid_umos(text, platform, message_type, session, kind):
    umo = parse_umo(text)
    assert umo == Umo(platform, message_type, session)
    assert umo.kind == kind
    assert str(umo) == text
    assert kind_of(text) == kind


def test_longest_allowed_umo():
    text = "p:FriendMessage:" + "1" * (MAX_UMO_LENGTH - len("p:FriendMessage:"))
    assert parse_umo(text).session_id.startswith("1")
    with pytest.raises(ValueError, match="at most"):
        parse_umo(text + "1")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (None, "must be text"),
        (12345, "must be text"),
        (b"a:FriendMessage:1", "must be text"),
        ("", "is not a session id"),
        ("12345", "is not a session id"),
        ("a:FriendMessage", "is not a session id"),
        ("a:FriendMessage:", "is not a session id"),
        ("a:FriendMessage:   ", "is not a session id"),
        (":FriendMessage:1", "is not a session id"),
        ("a::1", "is not a session id"),
        ("a:PrivateMessage:1", "FriendMessage or GroupMessage"),
        ("a:friendmessage:1", "FriendMessage or GroupMessage"),
        ("a: FriendMessage:1", "FriendMessage or GroupMessage"),
        ("a:OtherMessage:1", "FriendMessage or GroupMessage"),
        ("a:FriendMessage:1\n", "control characters"),
        ("a:FriendMessage:\x00", "control characters"),
    ],
)
def test_invalid_umos(text, why):
    with pytest.raises(ValueError, match=why):
        parse_umo(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("a:FriendMessage:1", FRIEND),
        ("a:GroupMessage:1:2", GROUP),
        ("a:OtherMessage:1", None),
        ("a:FriendMessage", None),
        ("FriendMessage", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_kind_of_never_raises(text, kind):
    assert kind_of(text) == kind


def test_short_ids_for_unnamed_sessions_and_webchat_names():
    assert short_id("aiocqhttp:FriendMessage:12345") == "12345"
    assert short_id("odd:GroupMessage:a:b:c") == "a:b:c"
    assert short_id("tg:FriendMessage:" + "x" * 40) == "x" * 12 + "…"
    webchat = "webchat:FriendMessage:webchat!astrbot!8f3a2c1d-77aa-4c1e-9e0b-5b1f0c2d3e4f"
    assert short_id(webchat) == "8f3a2c1d"
    # Every webchat conversation has the dashboard user's name: the conversation tells them apart.
    assert webchat_name("webchat!astrbot!8f3a2c1d-77aa", "astrbot") == "astrbot · 8f3a2c1d"
    assert webchat_name("webchat!astrbot!0000ffff-1", "") == "webchat · 0000ffff"
    assert webchat_name("12345", "Alice") is None
